"""The render service over a real Unix socket and real shared memory."""

from __future__ import annotations

import os
import socket
import stat
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from haineifrdm.engine import Restorer
from haineifrdm.service.client import RenderClient, ServiceError
from haineifrdm.service.protocol import HEADER, MAGIC, MessageType, encode, read_message
from haineifrdm.service.shm import SHM_DIR, MappingCache, ShmError, create


@pytest.fixture(scope="module")
def service(tiny_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    sock = tmp_path_factory.mktemp("svc") / "private" / "render.sock"
    proc = subprocess.Popen([sys.executable, "-m", "haineifrdm.cli.main", "serve", "--socket",
                             str(sock), "--model", str(tiny_checkpoint), "--idle-timeout", "300"])
    deadline = time.time() + 60
    while not sock.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert sock.exists(), "service did not start"
    yield sock
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    assert not sock.exists()


def test_info_and_private_permissions(service: Path) -> None:
    with RenderClient(service) as c:
        info = c.info()
    assert info["protocol"] == 1 and info["backend"] == "torch" and info["radius"] == 2
    assert stat.S_IMODE(service.stat().st_mode) == 0o600
    assert stat.S_IMODE(service.parent.stat().st_mode) == 0o700


def test_restore_equals_engine(service: Path, tiny_checkpoint: Path) -> None:
    win = np.random.default_rng(0).random((5, 40, 56, 3), dtype=np.float32)
    params = {"steps": 2, "patch": 32, "overlap": 8, "seed": 3, "frame_index": 7}
    with RenderClient(service) as c:
        got = c.restore(win, **params)
        matte = c.restore(win, **params, output="matte")
    want = Restorer(model=tiny_checkpoint, patch=32, overlap=8, steps=2, seed=3)
    np.testing.assert_allclose(got, want.restore(win, frame_index=7), atol=1e-6, rtol=0)
    assert matte.min() >= 0 and matte.max() <= 1


def _raw(service: Path, data: bytes) -> bytes | None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(service))
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
        return out
    except OSError:
        return None
    finally:
        s.close()


def test_fuzzed_messages_never_kill_the_service(service: Path) -> None:
    rng = np.random.default_rng(1)
    good = encode(MessageType.INFO, {})
    cases: list[bytes] = [b"", b"HF", b"XXXX" + good[4:], good[:7],
                          struct.pack("<4sHHI", MAGIC, 99, 1, 0),
                          struct.pack("<4sHHI", MAGIC, 1, 1, 1 << 31),
                          struct.pack("<4sHHI", MAGIC, 1, 77, 2) + b"{}",
                          struct.pack("<4sHHI", MAGIC, 1, 2, 5) + b"{nope",
                          struct.pack("<4sHHI", MAGIC, 1, 2, 2) + b"[]"]
    bad_restores = [{"shm_in": "../../etc/passwd", "shm_out": "x", "frames": 5, "height": 4,
                     "width": 4}, {"shm_in": "haineifrdm-missing", "shm_out": "haineifrdm-m2",
                                   "frames": 5, "height": 4, "width": 4},
                    {"frames": "many"}, {"frames": 5, "height": -1, "width": 3},
                    {"frames": 5, "height": 10**9, "width": 10**9}]
    cases += [encode(MessageType.RESTORE, b) for b in bad_restores]
    while len(cases) < 1000:
        blob = bytearray(good + encode(MessageType.RESTORE, {"frames": 5}))
        for _ in range(int(rng.integers(1, 6))):
            blob[int(rng.integers(len(blob)))] = int(rng.integers(256))
        cases.append(bytes(blob[: int(rng.integers(1, len(blob) + 1))]))
    for data in cases:
        _raw(service, data)
    with RenderClient(service) as c:  # still serving
        assert c.info()["protocol"] == 1


def test_wrong_size_shared_memory_is_an_error(service: Path) -> None:
    name = f"haineifrdm-test-{os.getpid()}"
    create(name + "-in", 100)
    create(name + "-out", 4 * 4 * 3 * 4)
    try:
        with RenderClient(service) as c, pytest.raises(ServiceError, match="expected"):
            c.call(MessageType.RESTORE, {"id": "x", "shm_in": name + "-in",
                                         "shm_out": name + "-out", "frames": 5, "height": 4,
                                         "width": 4, "params": {"patch": 32, "overlap": 8}})
    finally:
        (SHM_DIR / (name + "-in")).unlink()
        (SHM_DIR / (name + "-out")).unlink()


def test_another_user_cannot_connect(service: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to switch to another user")
    pid = os.fork()
    if pid == 0:  # child: become 'nobody' and try to connect
        code = 3
        try:
            os.setgid(65534)
            os.setuid(65534)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(service))
            code = 1  # connected: permissions failed
        except PermissionError:
            code = 0
        except BaseException:
            code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_header_layout() -> None:
    msg = encode(MessageType.INFO, {"a": 1})
    magic, version, kind, length = HEADER.unpack(msg[:12])
    assert (magic, version, kind, length) == (b"HFRD", 1, 1, len(msg) - 12)
    a, b = socket.socketpair()
    a.sendall(msg)
    assert read_message(b) == (MessageType.INFO, {"a": 1})


def test_cancel_from_another_connection(service: Path) -> None:
    import threading

    win = np.random.default_rng(2).random((5, 384, 384, 3), dtype=np.float32)
    outcome: dict[str, object] = {}

    def render() -> None:
        with RenderClient(service) as c:
            try:
                c.restore(win, job_id="long-job", steps=4, patch=32, overlap=8)
                outcome["result"] = "finished"
            except ServiceError as exc:
                outcome["result"] = str(exc)

    t = threading.Thread(target=render)
    t.start()
    time.sleep(1.0)
    with RenderClient(service) as c:
        assert c.call(MessageType.CANCEL, {"id": "long-job"})["cancelled"] is True
    t.join(timeout=60)
    assert outcome["result"] == "cancelled"
    with RenderClient(service) as c:  # and the service goes on
        assert c.info()["protocol"] == 1


def test_idle_timeout_stops_the_service(tiny_checkpoint: Path, tmp_path: Path) -> None:
    sock = tmp_path / "idle" / "render.sock"
    log = tmp_path / "idle.log"
    proc = subprocess.Popen([sys.executable, "-m", "haineifrdm.cli.main", "serve", "--socket",
                             str(sock), "--model", str(tiny_checkpoint), "--idle-timeout", "1",
                             "--log", str(log)])
    assert proc.wait(timeout=120) == 0
    assert not sock.exists() and "idle for" in log.read_text()


def test_mapping_cache_reuses_and_notices_replaced_or_removed_buffers() -> None:
    name = f"haineifrdm-test-{os.getpid()}-cache"
    path = create(name, 4 * 6)
    cache = MappingCache(limit=2)
    try:
        with path.open("r+b") as fh:
            fh.write(np.arange(6, dtype=np.float32).tobytes())
        a = cache.array(name, (2, 3), writable=False)
        np.testing.assert_array_equal(a.ravel(), np.arange(6))
        assert not a.flags.writeable
        with path.open("r+b") as fh:  # the client writes the next frame in place
            fh.write(np.full(6, 7, np.float32).tobytes())
        np.testing.assert_array_equal(cache.array(name, (2, 3), writable=False), 7)
        with pytest.raises(ShmError, match="expected"):
            cache.array(name, (3, 3), writable=False)
        path.unlink()  # replaced by a new buffer of another size under the same name
        create(name, 4 * 4)
        assert cache.array(name, (2, 2), writable=True).shape == (2, 2)
        path.unlink()  # removed: dropped, and a lookup is a clear error
        with pytest.raises(ShmError, match="cannot open"):
            cache.array(name, (2, 2), writable=True)
        with pytest.raises(ShmError, match="bad shared-memory name"):
            cache.array("../etc/passwd", (1,), writable=False)
    finally:
        path.unlink(missing_ok=True)
        cache.clear()
