"""Evaluation report fields, the demo command and the bench command on a tiny model."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from haineifrdm.cli.main import main


@pytest.fixture(scope="module")
def tiny(tiny_checkpoint: Path) -> Path:
    return tiny_checkpoint


def test_eval_report_has_every_field(tmp_path: Path, tiny: Path) -> None:
    out = tmp_path / "ev"
    assert main(["eval", "--model", str(tiny), "--out", str(out), "--clips", "1",
                 "--size", "48x64", "--patch", "32", "--steps", "1,4"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["classes"]) == {"specks", "line_scratch", "blotch", "flicker", "mixed"}
    for by_method in report["classes"].values():
        assert set(by_method) == {"input", "median3", "steps1", "steps4"}
        for v in by_method.values():
            for key in ("psnr", "ssim", "psnr_in", "psnr_out", "ssim_in", "ssim_out",
                        "grain_ratio", "temporal_flicker"):
                assert key in v
    assert report["overall"]["input"]["psnr"] < 99
    assert {"whole_psnr_gain_db", "inside_psnr_gain_db", "grain_ratio",
            "preview_gap_db"} <= set(report["targets"])
    # every clip's frames scored per method, and each target's spread over clip resamples
    assert set(report["clips"]) == {f"{d}-0" for d in report["classes"]}
    assert len(report["clips"]["specks-0"]["steps4"]["psnr"]) == 3  # 7 frames, radius 2
    for name, t in report["targets"].items():
        lo, hi = t["interval"]
        assert lo <= t["value"] + 1e-9 and t["value"] - 1e-9 <= hi, name
    assert (out / "eval_sheet.png").stat().st_size > 1000
    # the worst crops: every entry named, placed and scored, and drawn on their own sheet
    assert report["failures"], "a tiny model leaves defects on its set"
    for f in report["failures"]:
        assert f["kind"] in ("missed", "false") and f["clip"].split("-")[0] in report["classes"]
        y0, x0, y1, x1 = f["box"]
        assert 0 <= y0 < y1 <= 48 and 0 <= x0 < x1 <= 64 and f["error"] > 0
    assert Path(report["failure_sheet"]) == out / "failures.png"
    assert (out / "failures.png").stat().st_size > 1000
    assert report["seed"] == 1000  # the held-out set by default
    # a validation set: other seeds, other clips
    assert main(["eval", "--model", str(tiny), "--out", str(tmp_path / "val"), "--clips", "1",
                 "--size", "48x64", "--patch", "32", "--steps", "1", "--seed", "5000"]) == 0
    val = json.loads((tmp_path / "val" / "report.json").read_text())
    assert val["seed"] == 5000
    assert val["overall"]["input"]["psnr"] != report["overall"]["input"]["psnr"]
    # still scenes with gate weave: their own set, named in the report
    assert main(["eval", "--model", str(tiny), "--out", str(tmp_path / "still"), "--clips", "1",
                 "--size", "48x64", "--patch", "32", "--steps", "1", "--scenes", "still"]) == 0
    still = json.loads((tmp_path / "still" / "report.json").read_text())
    assert still["scenes"] == "still" and report["scenes"] == "moving"
    assert still["overall"]["input"]["psnr"] != report["overall"]["input"]["psnr"]


def test_still_scenes_weave_and_hold_the_camera() -> None:
    from haineifrdm import _engine
    from haineifrdm.evaluation import build_eval_set

    moving = build_eval_set(1, size=(96, 128), frames=5)
    still = build_eval_set(1, size=(96, 128), frames=5, scenes="still")
    assert all("weave" in c.result.params for c in still)
    assert not any("weave" in c.result.params for c in moving)
    # the locked-off camera: the background moves between frames by the weave (and
    # splice jumps) alone
    for clip in still:
        clean = clip.result.clean
        offsets = np.array(clip.result.params["weave"]["offsets_px"])
        m = _engine.block_motion(clean[2], clean[3], block=32, max_shift=24)
        moved = np.median(m[..., :2].reshape(-1, 2), axis=0)
        assert np.abs(moved - (offsets[3] - offsets[2])).max() <= 1, clip.name
    with pytest.raises(ValueError, match="scenes"):
        build_eval_set(1, scenes="handheld")


def test_demo_writes_sheet_and_metrics(tmp_path: Path, tiny: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", str(tmp_path / "d"), "--model", str(tiny), "--frames", "2",
                 "--quality", "preview"]) == 0
    report = json.loads((tmp_path / "d" / "demo_metrics.json").read_text())
    assert len(report["frames"]) == 2 and "restored_psnr" in report["mean"]
    assert (tmp_path / "d" / "demo_sheet.png").is_file()
    assert "mean PSNR" in capsys.readouterr().out


def test_bench_reports_backends(tmp_path: Path, tiny: Path) -> None:
    js = tmp_path / "b.json"
    assert main(["bench", "--model", str(tiny), "--backend", "all", "--size", "64x48",
                 "--patch", "32", "--steps", "1", "--batches", "1,2", "--repeats", "2",
                 "--json", str(js)]) == 0
    res = json.loads(js.read_text())
    assert set(res["backends"]) >= {"torch", "onnxruntime"}
    for e in res["backends"].values():
        assert [d["batch"] for d in e["denoiser"]] == [1, 2]
        assert e["frame"]["total_s"] > 0 and e["peak_rss_mb"] > 0
    assert res["speedup_vs_torch"]["onnxruntime"] > 0


def test_clip_bootstrap_resamples_whole_clips() -> None:
    from haineifrdm.evaluation import CLIP_KEYS, clip_bootstrap, targets

    def clip(defect: str, inp: float, out: float, inside: bool = True) -> dict[str, object]:
        def scores(v: float) -> dict[str, list[float]]:
            return {k: [v, v + 2.0] if (k != "psnr_in" or inside) else [float("nan")] * 2
                    for k in CLIP_KEYS}
        return {"defect": defect, "input": scores(inp), "median3": scores(inp - 5),
                "steps4": scores(out)}

    clips = [clip("specks", 30, 36), clip("blotch", 40, 40), clip("flicker", 32, 33, False)]
    with warnings.catch_warnings():  # a draw without an inside score says nan, not a warning
        warnings.simplefilter("error")
        draws = clip_bootstrap(clips, 400)
    assert json.dumps(draws) == json.dumps(clip_bootstrap(clips, 400))  # seeded (nan too)
    gains = sorted(d["steps4"]["psnr"] - d["input"]["psnr"] for d in draws)
    # every draw is a mean of whole clips' gains (6, 0, 1): between the extremes, and
    # all three of one clip come up as often as 1 in 27
    assert gains[0] == 0.0 and gains[-1] == 6.0
    assert any(abs(g - 7 / 3) < 1e-9 for g in gains)
    # inside: the flicker clip has none; a draw of flicker alone has no inside score
    inside = [d["steps4"]["psnr_in"] for d in draws]
    assert any(np.isnan(v) for v in inside) and np.nanmax(inside) == 41.0  # blotch alone
    overall = {m: {k: float(np.nanmean(np.concatenate([np.asarray(c[m][k]) for c in clips])))
                   for k in CLIP_KEYS} for m in ("input", "median3", "steps4")}
    t = targets({"overall": overall, "clips": {str(i): c for i, c in enumerate(clips)}}, 400)
    assert t["whole_psnr_gain_db"]["value"] == pytest.approx(7 / 3)
    lo, hi = t["whole_psnr_gain_db"]["interval"]
    assert 0.0 <= lo < 7 / 3 < hi <= 6.0
    assert t["whole_psnr_gain_db"]["met"] is False  # 7/3 < 3
    assert t["whole_psnr_gain_db"]["met_across_interval"] is False
    assert t["beats_median3_whole_psnr"]["met"] and t["beats_median3_whole_psnr"][
        "met_across_interval"]  # 5 dB over the median in every clip
    assert "interval" not in targets({"overall": overall}, 400)["whole_psnr_gain_db"]


def test_meets_reads_every_target_form() -> None:
    from haineifrdm.evaluation import meets

    assert meets(3.0, ">= 3") and not meets(2.99, ">= 3")
    assert meets(-0.4, ">= -0.5") and not meets(-0.6, ">= -0.5")
    assert meets(0.1, "> 0") and not meets(0.0, "> 0")
    assert meets(1.5, "<= 1.5") and not meets(1.6, "<= 1.5")
    assert meets(1.0, "0.8-1.2") and not meets(1.25, "0.8-1.2") and not meets(0.7, "0.8-1.2")
