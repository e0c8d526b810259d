"""Frame I/O throughput: read + write 2048x1556 10-bit DPX and 16-bit (half) EXR.

Three numbers per format: read alone, write alone, and "pipelined": frames read on
one thread while the previous ones are written on another, the way
`haineifrdm restore` overlaps them (read-ahead and write-behind threads around the
restore). Target: >= 50 frames/s on the dev machine so I/O never limits a GPU
restore. The last line is one JSON object.
"""

from __future__ import annotations

import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import OpenImageIO as oiio

from haineifrdm.io import read_frame, write_frame


def bench(kind: str, td: Any, bits: int, n: int, folder: Path) -> dict[str, float]:
    rng = np.random.default_rng(0)
    img = rng.random((1556, 2048, 3), dtype=np.float32)
    spec = oiio.ImageSpec(2048, 1556, 3, td)
    if bits == 10:
        spec.attribute("oiio:BitsPerSample", 10)
    src = folder / f"src.{kind}"
    out = oiio.ImageOutput.create(str(src))
    assert out is not None
    out.open(str(src), spec)
    out.write_image(img)
    out.close()
    t0 = time.perf_counter()
    for _ in range(n):
        read_frame(src)
    t_read = time.perf_counter() - t0
    rgb, info = read_frame(src)
    t0 = time.perf_counter()
    for i in range(n):
        write_frame(folder / f"out{i}.{kind}", rgb, info)
    t_write = time.perf_counter() - t0
    with ThreadPoolExecutor(1) as reader, ThreadPoolExecutor(1) as writer:
        t0 = time.perf_counter()
        nxt = reader.submit(read_frame, src)
        pending = None
        for i in range(n):
            rgb, info = nxt.result()
            if i + 1 < n:
                nxt = reader.submit(read_frame, src)
            if pending is not None:
                pending.result()
            pending = writer.submit(write_frame, folder / f"pipe{i}.{kind}", rgb, info)
        assert pending is not None
        pending.result()
        t_pipe = time.perf_counter() - t0
    return {"read_fps": n / t_read, "write_fps": n / t_write,
            "read_write_fps": n / (t_read + t_write), "pipelined_fps": n / t_pipe}


def main() -> None:
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        res["dpx10"] = bench("dpx", oiio.UINT16, 10, 20, Path(tmp))
        res["exr16"] = bench("exr", oiio.HALF, 16, 20, Path(tmp))
    for k, v in res.items():
        print(f"{k}: read {v['read_fps']:.1f} fps, write {v['write_fps']:.1f} fps, "
              f"read+write {v['read_write_fps']:.1f} fps, pipelined {v['pipelined_fps']:.1f} fps")
    print(json.dumps(res))


if __name__ == "__main__":
    main()
