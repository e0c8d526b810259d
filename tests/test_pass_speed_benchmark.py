"""benchmarks/pass_speed.py runs end to end on a small window and reports every pass."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pass_speed_reports_each_pass_and_their_sum() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "pass_speed.py"),
                           "--size", "160x96", "--repeats", "1"],
                          capture_output=True, text=True, check=True, timeout=120)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["size"] == "160x96"
    parts = ("veto_s", "fill_s", "scratch_s", "deflicker_s")
    assert all(result[k] > 0 for k in (*parts, "block_motion_s"))
    assert abs(result["passes_s"] - sum(result[k] for k in parts)) < 1e-9
