"""``haineifrdm serve``: one warm model, a FIFO render queue, per-request cancel.

Listens on a Unix socket inside a private per-user folder (0700; socket 0600),
never on TCP. Each connection gets a reader thread; renders go through one
worker thread in arrival order. Malformed input gets an ERROR reply or a
closed connection, never a crash. Stops on SHUTDOWN, SIGTERM/SIGINT or after
``idle_timeout`` seconds without requests or connections.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import socket
import stat
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..engine import RestoreCancelled, Restorer
from .protocol import PROTOCOL_VERSION, MessageType, ProtocolError, encode, read_message
from .shm import MappingCache, ShmError

log = logging.getLogger("haineifrdm.serve")

OUTPUTS = ("restored", "matte", "difference")


def default_socket_path() -> Path:
    """Same rule as the plugin (service_client.cpp): a private per-user folder."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        return Path(runtime) / "haineifrdm" / "render.sock"
    return Path(f"/tmp/haineifrdm-{os.getuid()}") / "render.sock"


def private_dir(path: Path) -> None:
    """Create ``path`` as 0700, or check that an existing one is ours and private."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.lstat()
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise PermissionError(f"{path} is not a folder owned by this user")
    if st.st_mode & 0o077:
        os.chmod(path, 0o700)


@dataclass
class Job:
    id: str
    request: dict[str, Any]
    conn: socket.socket | None = None
    future: Future[dict[str, Any]] = field(default_factory=Future)
    cancelled: threading.Event = field(default_factory=threading.Event)


class RenderService:
    def __init__(self, socket_path: Path, model: str = "default", backend: str = "auto",
                 idle_timeout: float = 600.0, device: str | None = None) -> None:
        self.socket_path = socket_path
        self.model, self.backend, self.device = model, backend, device
        self.idle_timeout = idle_timeout
        self.queue: queue.Queue[Job | None] = queue.Queue()
        self.jobs: dict[str, Job] = {}
        self.lock = threading.Lock()
        self.maps = MappingCache()  # client buffers, used by the render worker only
        self.stop = threading.Event()
        self.restorers: dict[tuple[Any, ...], Restorer] = {}
        self.last_activity = time.monotonic()
        self.connections = 0
        # load the model now: a missing or broken model fails at start, not mid-render
        self._restorer({})

    # -- rendering ----------------------------------------------------------
    def _restorer(self, p: dict[str, Any]) -> Restorer:
        key = (int(p.get("steps", 4)), int(p.get("patch", 256)), int(p.get("overlap", 32)),
               int(p.get("seed", 0)), p.get("radius"), bool(p.get("two_stage", True)))
        if key not in self.restorers:
            steps, patch, overlap, seed, radius, two_stage = key
            self.restorers[key] = Restorer(model=self.model, backend=self.backend, patch=patch,
                                           overlap=overlap, steps=steps, seed=seed,
                                           radius=radius, two_stage=two_stage,
                                           device=self.device)
        return self.restorers[key]

    def _render(self, job: Job) -> dict[str, Any]:
        t0 = time.perf_counter()
        req = job.request
        try:
            frames, h, w = int(req["frames"]), int(req["height"]), int(req["width"])
            params = dict(req.get("params", {}))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"restore request is missing a field: {exc}") from exc
        if not (1 <= frames <= 15 and 1 <= h <= 16384 and 1 <= w <= 16384):
            raise ValueError(f"unsupported window size {frames}x{w}x{h}")
        output = params.get("output", "restored")
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}")
        restorer = self._restorer(params)
        if frames != restorer.window_size:
            raise ValueError(f"window has {frames} frames, radius needs {restorer.window_size}")
        last = [0.0]

        def progress(value: float) -> None:
            if job.conn is not None and value - last[0] >= 0.02:
                last[0] = value
                self._send(job.conn, MessageType.PROGRESS, {"id": job.id, "value": value})

        window = self.maps.array(req["shm_in"], (frames, h, w, 3), writable=False)
        try:
            result = restorer.run(window, frame_index=int(params.get("frame_index", 0)),
                                  strength=float(params.get("strength", 1.0)), output=output,
                                  cancelled=job.cancelled.is_set,
                                  progress=progress if req.get("progress") else None)
        finally:
            del window
        out = self.maps.array(req["shm_out"], (h, w, 3), writable=True)
        np.copyto(out, result.image, casting="same_kind")
        del out
        return {"id": job.id, "timings": result.timings,
                "service_s": time.perf_counter() - t0}

    def _worker(self) -> None:
        while True:
            job = self.queue.get()
            if job is None:
                return
            if job.cancelled.is_set():
                job.future.set_result({"error": "cancelled", "id": job.id})
                continue
            try:
                job.future.set_result(self._render(job))
            except RestoreCancelled:
                job.future.set_result({"error": "cancelled", "id": job.id})
            except (ValueError, ShmError) as exc:
                job.future.set_result({"error": str(exc), "id": job.id})
            except Exception as exc:  # a backend failure must not stop the service
                log.exception("render %s failed", job.id)
                job.future.set_result({"error": f"{type(exc).__name__}: {exc}", "id": job.id})
            finally:
                with self.lock:
                    self.jobs.pop(job.id, None)
                    self.last_activity = time.monotonic()

    # -- connections ----------------------------------------------------------
    def _info(self) -> dict[str, Any]:
        r = next(iter(self.restorers.values()))
        return {"version": __version__, "protocol": PROTOCOL_VERSION,
                "model": r.resolved.source, "backend": r.backend_name,
                "device": str(getattr(r.backend, "device", "cpu")),
                "radius": r.model_radius, "pid": os.getpid()}

    def _handle(self, conn: socket.socket) -> None:
        with self.lock:
            self.connections += 1
        conn.settimeout(None)
        try:
            while not self.stop.is_set():
                try:
                    kind, payload = read_message(conn)
                except ProtocolError as exc:
                    self._send(conn, MessageType.ERROR, {"error": str(exc)})
                    return
                except (ConnectionError, OSError):
                    return
                with self.lock:
                    self.last_activity = time.monotonic()
                if kind == MessageType.INFO:
                    self._send(conn, MessageType.OK, self._info())
                elif kind == MessageType.RESTORE:
                    job_id = str(payload.get("id", ""))[:128] or f"job-{time.monotonic_ns()}"
                    job = Job(job_id, payload, conn)
                    with self.lock:
                        if job_id in self.jobs:
                            self._send(conn, MessageType.ERROR, {"error": "duplicate id"})
                            continue
                        self.jobs[job_id] = job
                    self.queue.put(job)
                    result = job.future.result()
                    kind_out = MessageType.ERROR if "error" in result else MessageType.OK
                    self._send(conn, kind_out, result)
                elif kind == MessageType.CANCEL:
                    with self.lock:
                        target = self.jobs.get(str(payload.get("id", "")))
                    if target is not None:
                        target.cancelled.set()
                    self._send(conn, MessageType.OK, {"cancelled": target is not None})
                elif kind == MessageType.SHUTDOWN:
                    self._send(conn, MessageType.OK, {"stopping": True})
                    self.stop.set()
                else:
                    self._send(conn, MessageType.ERROR, {"error": f"unexpected {kind.name}"})
        finally:
            conn.close()
            with self.lock:
                self.connections -= 1
                self.last_activity = time.monotonic()

    @staticmethod
    def _send(conn: socket.socket, kind: MessageType, payload: dict[str, Any]) -> None:
        try:
            conn.sendall(encode(kind, payload))
        except OSError:
            pass

    # -- main loop --------------------------------------------------------------
    def serve_forever(self) -> None:
        private_dir(self.socket_path.parent)
        if self.socket_path.exists() or self.socket_path.is_symlink():
            self.socket_path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)  # the socket is created 0600
        try:
            listener.bind(str(self.socket_path))
        finally:
            os.umask(old_umask)
        os.chmod(self.socket_path, 0o600)
        listener.listen(16)
        listener.settimeout(0.2)
        worker = threading.Thread(target=self._worker, name="render-worker", daemon=True)
        worker.start()
        log.info("listening on %s (model %s)", self.socket_path, self.model)
        try:
            while not self.stop.is_set():
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    with self.lock:
                        idle = (self.connections == 0 and not self.jobs and
                                time.monotonic() - self.last_activity > self.idle_timeout)
                    if idle:
                        log.info("idle for %.0f s: stopping", self.idle_timeout)
                        break
                    continue
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        finally:
            self.stop.set()
            listener.close()
            self.socket_path.unlink(missing_ok=True)
            with self.lock:
                for job in self.jobs.values():
                    job.cancelled.set()
            self.queue.put(None)
            worker.join(timeout=10)
            log.info("stopped")


def run_service(socket_path: Path, model: str, backend: str, idle_timeout: float,
                log_file: Path | None, device: str | None = None) -> None:
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        logging.basicConfig(filename=log_file, level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(message)s")
    service = RenderService(socket_path, model, backend, idle_timeout, device)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: service.stop.set())
    service.serve_forever()
