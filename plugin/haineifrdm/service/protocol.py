"""Wire protocol between the OFX plugin (or any client) and ``haineifrdm serve``.

Every message is a fixed 12-byte little-endian header followed by a UTF-8 JSON
payload::

    magic   4 bytes  b"HFRD"
    version u16      PROTOCOL_VERSION
    type    u16      MessageType
    length  u32      payload bytes (<= MAX_PAYLOAD)

Pixels never travel through the socket: a RESTORE request names two POSIX
shared-memory objects the client created under /dev/shm (``shm_in`` holding
the float32 window [F, H, W, 3], ``shm_out`` sized for the float32 result
[H, W, 3]); the service checks their names and exact sizes before mapping them.
"""

from __future__ import annotations

import json
import re
import socket
import struct
from enum import IntEnum
from typing import Any

MAGIC = b"HFRD"
PROTOCOL_VERSION = 1
HEADER = struct.Struct("<4sHHI")
MAX_PAYLOAD = 1 << 20
SHM_NAME = re.compile(r"^haineifrdm-[A-Za-z0-9_.-]{1,80}$")


class MessageType(IntEnum):
    INFO = 1
    RESTORE = 2
    CANCEL = 3
    SHUTDOWN = 4
    OK = 100
    ERROR = 101
    PROGRESS = 102  # {"id", "value" in 0..1}, sent during a RESTORE that asked for it


class ProtocolError(Exception):
    """The peer sent something that is not a valid message; the connection is closed."""


def encode(kind: MessageType, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    if len(body) > MAX_PAYLOAD:
        raise ValueError("payload too large")
    return HEADER.pack(MAGIC, PROTOCOL_VERSION, int(kind), len(body)) + body


def recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(n - got)
        if not chunk:
            raise ConnectionError("peer closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_message(sock: socket.socket) -> tuple[MessageType, dict[str, Any]]:
    """One message; ProtocolError for anything malformed (the caller closes)."""
    magic, version, kind, length = HEADER.unpack(recv_exact(sock, HEADER.size))
    if magic != MAGIC:
        raise ProtocolError("bad magic")
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version} not supported "
                            f"(this service speaks {PROTOCOL_VERSION})")
    if length > MAX_PAYLOAD:
        raise ProtocolError(f"payload of {length} bytes exceeds {MAX_PAYLOAD}")
    body = recv_exact(sock, length)
    try:
        mtype = MessageType(kind)
    except ValueError as exc:
        raise ProtocolError(f"unknown message type {kind}") from exc
    try:
        payload = json.loads(body.decode()) if body else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"payload is not JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise ProtocolError("payload must be a JSON object")
    return mtype, payload
