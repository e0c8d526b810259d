"""The evaluation's failure crops: they land on what the restoration left and what it broke."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from haineifrdm.failures import FailureLog, worst_box
from haineifrdm.metrics import dilate


def _scene(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(clean, degraded, mask): a textured 96x128 frame with a dark 6x6 speck at (20, 30)."""
    rng = np.random.default_rng(seed)
    clean = np.clip(0.5 + 0.1 * rng.standard_normal((96, 128, 3)), 0, 1).astype(np.float32)
    mask = np.zeros((96, 128), bool)
    mask[20:26, 30:36] = True
    deg = clean.copy()
    deg[mask] = 0.05
    return clean, deg, mask


def test_the_worst_box_holds_the_most_error_and_stays_in_the_frame() -> None:
    err = np.zeros((40, 50))
    err[3:5, 44:47] = 1.0  # near the right edge: the box must move inside
    err[30, 10] = 0.5
    box, total = worst_box(err, 16)
    y0, x0, y1, x1 = box
    assert (y1 - y0, x1 - x0) == (16, 16)
    assert 0 <= y0 and y1 <= 40 and 0 <= x0 and x1 <= 50
    assert y0 <= 3 and y1 >= 5 and x0 <= 44 and x1 >= 47
    assert total == pytest.approx(6.0)
    # a frame smaller than the crop: the whole frame
    box, total = worst_box(err[:10, :12], 16)
    assert box == (0, 0, 10, 12) and total == pytest.approx(err[:10, :12].sum())


def test_a_missed_defect_and_a_false_change_are_found_where_they_are(tmp_path: Path) -> None:
    clean, deg, mask = _scene()
    restored = clean.copy()
    restored[mask] = deg[mask]  # the speck left alone
    restored[70:74, 100:104] = 0.95  # picture taken for a defect
    log = FailureLog(per_kind=3, crop=32)
    log.add("specks-0", 4, deg, restored, clean, mask)
    worst = {f.kind: f for f in log.worst()}
    assert set(worst) == {"missed", "false"}
    y0, x0, y1, x1 = worst["missed"].box
    assert y0 <= 20 and y1 >= 26 and x0 <= 30 and x1 >= 36
    inside = dilate(mask, 2)
    err = ((restored - clean) ** 2).mean(-1)
    assert worst["missed"].error == pytest.approx(float(err[inside].sum()), rel=1e-5)
    assert worst["missed"].psnr_restored == pytest.approx(worst["missed"].psnr_input)
    y0, x0, y1, x1 = worst["false"].box
    assert y0 <= 70 and y1 >= 74 and x0 <= 100 and x1 >= 104
    e_in = ((deg - clean) ** 2).mean(-1)
    added = np.maximum(err - e_in, 0)[~inside].sum()
    assert worst["false"].error == pytest.approx(float(added), rel=1e-5)
    assert worst["false"].psnr_input == 99.0 and worst["false"].psnr_restored < 40
    assert worst["false"].frame == 4 and worst["false"].clip == "specks-0"
    sheet = log.sheet(tmp_path / "f.png")
    assert sheet is not None
    w, h = Image.open(sheet).size
    assert h > 2 * 32 * 3 and w > 4 * 32 * 3  # two rows, four zoomed tiles each
    assert [f["kind"] for f in log.to_json()] == ["missed", "false"]


def test_each_clip_keeps_its_worst_frame_and_perfect_frames_log_nothing(tmp_path: Path) -> None:
    clean, deg, mask = _scene()
    log = FailureLog(per_kind=2, crop=32)
    log.add("blotch-0", 2, deg, clean, clean, mask)  # perfect: nothing to show
    assert log.worst() == [] and log.sheet(tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()
    half = clean.copy()
    half[mask] = 0.5 * (deg[mask] + clean[mask])
    log.add("blotch-0", 3, deg, half, clean, mask)
    log.add("blotch-0", 4, deg, deg, clean, mask)  # worse: replaces frame 3
    log.add("blotch-0", 5, deg, half, clean, mask)  # better: does not
    log.add("specks-1", 2, deg, half, clean, mask)
    log.add("mixed-0", 2, deg, deg, clean, mask)
    missed = [f for f in log.worst() if f.kind == "missed"]
    assert len(missed) == 2  # per_kind
    assert missed[0].error >= missed[1].error
    assert {(f.clip, f.frame) for f in missed} == {("blotch-0", 4), ("mixed-0", 2)}
