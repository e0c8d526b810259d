"""Film-degradation synthesis: determinism, every defect type, mask semantics, ranges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from haineifrdm.data.degrade import DegradationConfig, synthesize
from haineifrdm.data.sources import SceneConfig, render_scene
from haineifrdm.data.templates import CATEGORIES, TemplateLibrary

SHARED_TEMPLATES = Path(__file__).resolve().parents[1].parent / "shared/data/film-damage"


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return render_scene(np.random.default_rng(0), SceneConfig(frames=6, height=96, width=128))


def make_templates(root: Path) -> TemplateLibrary:
    """A tiny template library of our own: one RGBA blob per category."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for cat in CATEGORIES:
        (root / cat).mkdir(parents=True)
        a = np.zeros((40, 40, 4), np.uint8)
        a[..., :3] = 255
        yy, xx = np.mgrid[0:40, 0:40]
        a[..., 3] = (((yy - 20) ** 2 + (xx - 20) ** 2) < rng.integers(40, 200)) * 255
        Image.fromarray(a).save(root / cat / f"{cat}-001.png")
    return TemplateLibrary.scan(root)


def test_deterministic_by_seed(clip: np.ndarray) -> None:
    cfg = DegradationConfig(seed=5, scale=0.5, specks=40.0, grain=None)
    a, b = synthesize(clip, cfg), synthesize(clip, cfg)
    c = synthesize(clip, DegradationConfig(seed=6, scale=0.5, specks=40.0, grain=None))
    assert np.array_equal(a.degraded, b.degraded) and np.array_equal(a.mask, b.mask)
    assert a.params == b.params
    assert not np.array_equal(a.degraded, c.degraded)


def test_input_is_not_modified(clip: np.ndarray) -> None:
    before = clip.copy()
    synthesize(clip, DegradationConfig(seed=1, specks=40.0, weave=True))
    assert np.array_equal(clip, before)


def test_outside_mask_only_flicker_inside_damage(clip: np.ndarray) -> None:
    """Flicker is drawn first, so disabling later defects keeps identical flicker."""
    common = {"seed": 3, "scale": 0.6, "grain": 0.02, "flicker": 0.05}
    full = synthesize(clip, DegradationConfig(specks=25.0, blotch_prob=0.3, **common))
    flicker_only = synthesize(clip, DegradationConfig(specks=0.0, blotch_prob=0.0,
                                                      line_scratches=False, **common))
    assert np.array_equal(full.clean, flicker_only.clean)  # content effects identical
    outside = full.mask == 0
    inside = full.mask > 0.2
    assert outside.mean() > 0.5 and inside.any()
    np.testing.assert_array_equal(full.degraded[outside], flicker_only.degraded[outside])
    diff = np.abs(full.degraded - flicker_only.degraded).max(axis=-1)
    assert np.median(diff[inside]) > 0.02
    assert not flicker_only.mask.any()  # flicker is never masked


def test_every_defect_type_appears(clip: np.ndarray, tmp_path: Path) -> None:
    lib = make_templates(tmp_path / "tpl")
    seen: set[str] = set()
    per_cat: set[str] = set()
    for seed in range(6):
        r = synthesize(clip, DegradationConfig(seed=seed, scale=0.8, specks=150.0,
                                               blotch_prob=0.6, weave=True), lib)
        seen |= {k for k, v in r.class_masks.items() if v.any()}
        per_cat |= set(r.params["specks"])
        assert r.params["weave"]["offsets_px"]
    assert seen == {"specks", "line_scratch", "blotch", "flicker"}
    assert per_cat == set(CATEGORIES)


def test_parameters_within_documented_ranges(clip: np.ndarray) -> None:
    for seed in range(10):
        r = synthesize(clip, DegradationConfig(seed=seed, scale=1.0, grain=None, weave=True,
                                               soften=None, fade=None))
        p = r.params
        assert 0.012 <= p["grain"] <= 0.035
        assert 0 <= p["soften"] <= 0.8
        for s in p.get("line_scratches", []):
            assert 1.0 <= s["width"] <= 10.0 and 0.1 <= s["amplitude"] <= 0.5
            assert abs(s["drift_px_per_frame"]) <= 1.5
            assert s["frames"] >= round(0.6 * clip.shape[0])
        for b in p.get("blotches", []):
            assert 1 <= b["frames"] <= 3 and 0.1 <= abs(b["density"]) <= 0.35
        offs = np.abs(np.array(p["weave"]["offsets_px"]))
        assert offs[:, 1].max() <= 2.5 + 1e-6
        assert max(abs(g) for g in p["flicker"]["gain"]) < 0.25


def test_grain_is_content_unless_asked(clip: np.ndarray) -> None:
    r = synthesize(clip, DegradationConfig(seed=0, grain=0.03, specks=0.0, flicker=0.0,
                                           line_scratches=False, blotch_prob=0.0))
    assert np.array_equal(r.degraded, r.clean) and not r.mask.any()
    hp = r.clean - clip
    assert 0.01 < hp.std() < 0.05
    g = synthesize(clip, DegradationConfig(seed=0, grain=0.03, grain_as_defect=True, specks=0.0,
                                           flicker=0.0, line_scratches=False, blotch_prob=0.0))
    assert np.array_equal(g.clean, clip) and g.mask.all()


def test_bad_clip_rejected() -> None:
    with pytest.raises(ValueError, match="float array"):
        synthesize(np.zeros((4, 4, 3), np.float32), DegradationConfig())
    with pytest.raises(ValueError, match="float32"):
        synthesize(np.zeros((2, 4, 4, 3), np.uint8), DegradationConfig())


def test_template_library_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        TemplateLibrary.scan(tmp_path / "nope")
    with pytest.raises(ValueError, match="no template folders"):
        TemplateLibrary.scan(tmp_path)


@pytest.mark.skipif(not SHARED_TEMPLATES.is_dir(), reason="../shared film-damage not present")
def test_real_templates_load() -> None:
    lib = TemplateLibrary.scan(SHARED_TEMPLATES)
    assert set(lib.categories()) == set(CATEGORIES)
    t = lib.pick("hair", np.random.default_rng(0))
    assert t.ndim == 3 and t.shape[-1] == 2 and t[..., 0].max() > 0.5
