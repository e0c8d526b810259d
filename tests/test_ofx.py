"""The OFX plugin, driven by our own OFX host, against the real render service.

The host (tests/ofx_host) loads HaineiFRDM.ofx.bundle from OFX_PLUGIN_PATH the
way Resolve and Nuke do; the plugin starts `haineifrdm serve` on demand.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from haineifrdm.engine import Restorer
from haineifrdm.ofx_install import built_ofx_dir, clear_resolve_cache, install
from haineifrdm.ofx_install import test_host as ofx_host
from haineifrdm.service.client import RenderClient
from haineifrdm.service.protocol import MessageType


def write_pfm(path: Path, rgb: np.ndarray) -> None:
    h, w, _ = rgb.shape
    path.write_bytes(f"PF\n{w} {h}\n-1.0\n".encode() +
                     np.ascontiguousarray(rgb[::-1], dtype="<f4").tobytes())


def read_pfm(path: Path) -> np.ndarray:
    magic, dims, _, data = path.read_bytes().split(b"\n", 3)
    w, h = map(int, dims.split())
    ch = 3 if magic == b"PF" else 1
    return np.frombuffer(data, "<f4").reshape(h, w, ch)[::-1].copy()


class Rig:
    """Frames on disk, a service config, and a way to run the host."""

    def __init__(self, root: Path, model: Path) -> None:
        self.root = root
        self.socket = root / "svc" / "render.sock"
        self.config = root / "haineifrdm.json"
        self.write_config(model)

    def write_config(self, model: Path, **extra: object) -> None:
        cfg = {"python": sys.executable, "socket": str(self.socket), "model": str(model),
               "backend": "torch", **extra}
        self.config.write_text(json.dumps(cfg))

    def frames(self, n: int, h: int, w: int, seed: int = 0) -> list[Path]:
        rng = np.random.default_rng(seed)
        paths = []
        for k in range(n):
            p = self.root / f"in.{seed}.{k}.pfm"
            write_pfm(p, rng.random((h, w, 3), dtype=np.float32))
            paths.append(p)
        return paths

    def run(self, frames: list[Path], out: str, *options: str, timeout: float = 600
            ) -> subprocess.CompletedProcess[str]:
        out_dir = self.root / out
        out_dir.mkdir(exist_ok=True)
        env = {**os.environ, "OFX_PLUGIN_PATH": str(built_ofx_dir()),
               "HAINEIFRDM_CONFIG": str(self.config)}
        return subprocess.run([str(ofx_host()), "--out", str(out_dir), *options,
                               *map(str, frames)], capture_output=True, text=True, env=env,
                              timeout=timeout)

    def stop_service(self) -> None:
        if self.socket.exists():
            try:
                with RenderClient(self.socket, timeout=10) as c:
                    c.call(MessageType.SHUTDOWN, {})
            except OSError:
                pass


@pytest.fixture
def rig(tmp_path: Path, tiny_checkpoint: Path) -> Iterator[Rig]:
    r = Rig(tmp_path, tiny_checkpoint)
    yield r
    r.stop_service()


def expected(model: Path, frames: list[np.ndarray], t: int, **kw: object) -> np.ndarray:
    idx = np.clip(np.arange(t - 2, t + 3), 0, len(frames) - 1)
    r = Restorer(model=model, **kw)  # type: ignore[arg-type]
    return r.restore(np.stack([frames[i] for i in idx]).astype(np.float32), frame_index=t)


PREVIEW = ("--param", "quality=0", "--param", "patchSize=64", "--param", "overlap=8")
ENGINE = {"patch": 64, "overlap": 8, "steps": 1}


def test_float_rgba_negative_rowbytes_matches_engine(rig: Rig, tiny_checkpoint: Path) -> None:
    paths = rig.frames(3, 40, 72)
    res = rig.run(paths, "o", "--negative-rowbytes", "--alpha-ramp", *PREVIEW)
    assert res.returncode == 0, res.stderr
    assert "describeInContext OfxImageEffectContextGeneral 0 clips=2 params=9" in res.stdout
    assert "frame 0 render 0 frames-needed 0-2" in res.stdout
    frames = [read_pfm(p) for p in paths]
    for t in range(3):
        got = read_pfm(rig.root / "o" / f"out.{t:04d}.pfm")
        want = expected(tiny_checkpoint, frames, t, **ENGINE)
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
        alpha = read_pfm(rig.root / "o" / f"alpha.{t:04d}.pfm")[..., 0]
        np.testing.assert_allclose(alpha, np.tile(np.linspace(0, 1, 72), (40, 1)), atol=1e-6)
    assert int(res.stdout.split("progress-updates ")[1].split()[0]) > 0


def test_byte_rgb_exact_after_quantisation(rig: Rig, tiny_checkpoint: Path) -> None:
    paths = rig.frames(3, 32, 48, seed=1)
    res = rig.run(paths, "o", "--depth", "byte", "--components", "RGB", "--context", "general",
                  *PREVIEW)
    assert res.returncode == 0, res.stderr
    frames = [np.round(read_pfm(p) * 255) / 255 for p in paths]
    for t in range(3):
        got = read_pfm(rig.root / "o" / f"out.{t:04d}.pfm")
        want = np.round(np.clip(expected(tiny_checkpoint, frames, t, **ENGINE), 0, 1) * 255) / 255
        np.testing.assert_array_equal(np.round(got * 255), np.round(want * 255))


def test_proxy_render_scale(rig: Rig, tiny_checkpoint: Path) -> None:
    paths = rig.frames(2, 48, 64, seed=2)
    res = rig.run(paths, "o", "--scale", "0.5", *PREVIEW)
    assert res.returncode == 0, res.stderr
    small = [read_pfm(p).reshape(24, 2, 32, 2, 3).mean(axis=(1, 3)) for p in paths]
    got = read_pfm(rig.root / "o" / "out.0000.pfm")
    assert got.shape == (24, 32, 3)
    np.testing.assert_allclose(got, expected(tiny_checkpoint, small, 0, **ENGINE), atol=1e-5)


def test_four_threads_two_instances_equal_serial(rig: Rig) -> None:
    paths = rig.frames(6, 24, 32, seed=3)
    serial = rig.run(paths, "serial", *PREVIEW)
    parallel = rig.run(paths, "parallel", "--threads", "4", "--instances", "2", *PREVIEW)
    assert serial.returncode == 0 and parallel.returncode == 0, parallel.stderr
    for t in range(6):
        np.testing.assert_array_equal(read_pfm(rig.root / "serial" / f"out.{t:04d}.pfm"),
                                      read_pfm(rig.root / "parallel" / f"out.{t:04d}.pfm"))
    # the hosts have exited: their pooled shared-memory segments went with them
    assert not stale_plugin_segments()


def stale_plugin_segments() -> list[str]:
    """Plugin segments (/dev/shm/haineifrdm-ofx-<pid>-<n>) whose process is gone."""
    stale = []
    for p in Path("/dev/shm").glob("haineifrdm-ofx-*"):
        pid = p.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            stale.append(p.name)
    return stale


def test_strength_zero_is_identity(rig: Rig) -> None:
    paths = rig.frames(2, 16, 16, seed=4)
    res = rig.run(paths, "o", "--param", "strength=0")
    assert res.returncode == 0 and "frame 0 identity" in res.stdout
    np.testing.assert_array_equal(read_pfm(rig.root / "o" / "out.0000.pfm"), read_pfm(paths[0]))


def test_service_killed_mid_render_then_next_frame_succeeds(rig: Rig) -> None:
    paths = rig.frames(4, 256, 256, seed=5)
    env = {**os.environ, "OFX_PLUGIN_PATH": str(built_ofx_dir()),
           "HAINEIFRDM_CONFIG": str(rig.config)}
    out = rig.root / "o"
    out.mkdir()
    proc = subprocess.Popen([str(ofx_host()), "--out", str(out), "--param", "patchSize=64",
                             "--param", "overlap=8", *map(str, paths)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("frame 0 render 0"):
            time.sleep(0.5)  # frame 1 is rendering now
            with RenderClient(rig.socket) as c:
                os.kill(int(c.info()["pid"]), signal.SIGKILL)
            break
    rest, err = proc.communicate(timeout=600)
    text = "".join(lines) + rest
    assert "frame 1 render 1" in text, text + err
    assert "frame 2 render 0" in text and "frame 3 render 0" in text, text + err
    assert "stopped during the render" in err
    assert proc.returncode == 1


def test_abort_cancels_and_service_keeps_serving(rig: Rig) -> None:
    paths = rig.frames(1, 384, 384, seed=6)
    t0 = time.time()
    res = rig.run(paths, "o", "--abort-after-ms", "1500", "--param", "patchSize=64",
                  "--param", "overlap=8")
    assert "frame 0 render 1" in res.stdout and res.returncode == 1
    assert time.time() - t0 < 120
    with RenderClient(rig.socket) as c:
        assert c.info()["protocol"] == 1


def test_unreachable_service_is_an_error_not_a_hang(rig: Rig, tiny_checkpoint: Path) -> None:
    rig.write_config(tiny_checkpoint, python="/nonexistent/python3", start_timeout=3)
    paths = rig.frames(1, 16, 16, seed=7)
    t0 = time.time()
    res = rig.run(paths, "o", timeout=60)
    assert res.returncode == 1 and "frame 0 render 1" in res.stdout
    assert "did not start" in res.stderr and time.time() - t0 < 30


def test_install_ofx_and_resolve_cache(tmp_path: Path) -> None:
    target = install(tmp_path / "Plugins", model="default", backend="auto")
    assert (target / "Contents/Linux-x86-64/HaineiFRDM.ofx").is_file()
    assert (target / "Contents/Resources/org.haineifrdm.Restore.png").is_file()
    cfg = json.loads((target / "Contents/Resources/haineifrdm.json").read_text())
    assert cfg["python"] == sys.executable and cfg["model"] == "default"
    exports = subprocess.run(["nm", "-D", "--defined-only", str(
        target / "Contents/Linux-x86-64/HaineiFRDM.ofx")], capture_output=True, text=True).stdout
    names = {line.split()[-1] for line in exports.splitlines() if " T " in line}
    assert names == {"OfxGetNumberOfPlugins", "OfxGetPlugin"}
    ours = tmp_path / "OFXPluginCacheV2.xml"
    ours.write_text("<cache><bundle path='/usr/OFX/Plugins/HaineiFRDM.ofx.bundle'/></cache>")
    other = tmp_path / "configs" / "OFXPluginCacheV2.xml"
    other.parent.mkdir()
    other.write_text("<cache><bundle path='Other.ofx.bundle'/></cache>")
    assert clear_resolve_cache((ours, other)) == [ours]
    assert not ours.exists() and other.exists() and ours.with_suffix(".xml.bak").exists()
