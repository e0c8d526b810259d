"""``haineifrdm serve``: the render service for the OFX plugin."""

from __future__ import annotations

import argparse
from pathlib import Path

from .main import CLIError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--socket", help="Unix socket path (default: a private per-user folder)")
    p.add_argument("--model", default="default")
    p.add_argument("--backend", default="auto")
    p.add_argument("--device", default=None)
    p.add_argument("--idle-timeout", type=float, default=600.0,
                   help="stop after this many seconds without work or connections")
    p.add_argument("--log", help="log file (default: beside the socket)")


def run(args: argparse.Namespace) -> int:
    from ..service.server import default_socket_path, run_service

    sock = Path(args.socket) if args.socket else default_socket_path()
    log = Path(args.log) if args.log else sock.with_suffix(".log")
    try:
        run_service(sock, args.model, args.backend, args.idle_timeout, log, args.device)
    except (ValueError, PermissionError) as exc:
        raise CLIError(str(exc)) from exc
    return 0
