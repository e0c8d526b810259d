"""Training samples match the network contract, for both stages; packs round-trip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from haineifrdm.data.dataset import RestorationDataset
from haineifrdm.data.pack import Pack, PackConfig, build_pack
from haineifrdm.model import create_model


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    folder = tmp_path_factory.mktemp("p") / "pack"
    # panning shots only: the registration test below needs motion to compensate
    build_pack(folder, PackConfig(clips=2, frames=5, height=64, width=96, still_prob=0.0), None)
    return Pack.open(folder)


def test_pack_contents(pack: Pack) -> None:
    assert pack.clean.shape == (2, 5, 64, 96, 3) and pack.mask.shape == (2, 5, 64, 96)
    assert pack.meta["config"]["split"] == "train"
    assert (pack.degraded != pack.clean).any()


def test_packs_mix_in_still_shots_under_gate_weave(tmp_path: Path) -> None:
    from haineifrdm import _engine

    cfg = PackConfig(clips=3, frames=5, height=96, width=128, still_prob=1.0)
    still = Pack.open(build_pack(tmp_path / "still", cfg, None))
    assert all(c["still"] for c in still.meta["clips"])
    moving = Pack.open(build_pack(tmp_path / "moving", replace(cfg, still_prob=0.0), None))
    assert not any(c["still"] for c in moving.meta["clips"])

    def frame_motion(pack: Pack) -> list[float]:
        """Median block displacement (px) between frames 1 and 2 of every clip."""
        out = []
        for clean in pack.clean:
            f = clean.astype(np.float32) / 255.0
            m = _engine.block_motion(f[1], f[2], block=32, max_shift=72)
            out.append(float(np.median(np.abs(m[..., :2]).max(-1))))
        return out

    # a locked-off camera moves by the weave (<= 2.5 px) alone; the others pan 10-60 px
    assert max(frame_motion(still)) <= 3 < 8 <= min(frame_motion(moving))


def test_samples_feed_the_model(pack: Pack) -> None:
    ds = RestorationDataset(pack, patch=32, radius=2, stage1_prob=0.5, length=40, seed=1)
    model = create_model("tiny").eval()
    stages = set()
    for i in range(12):
        s = ds[i]
        stages.add(int(s["stage"]))
        assert s["window"].shape == (15, 32, 32) and s["guide"].shape == (3, 32, 32)
        assert s["target"].shape == (3, 32, 32) and s["mask"].shape == (1, 32, 32)
        assert s["thumb"].shape == (15, 128, 128) and s["box"].shape == (4,)
        assert all(v.dtype == torch.float32 for k, v in s.items() if k != "stage")
    assert stages == {1, 2}
    batch = torch.utils.data.default_collate([ds[i] for i in range(2)])
    with torch.no_grad():
        tok = model.context(batch["thumb"])
        out = model.denoiser(batch["guide"], batch["window"], batch["guide"], tok, batch["box"],
                             torch.zeros(2, 64))
    assert out.shape == (2, 3, 32, 32)
    assert torch.equal(ds[3]["window"], ds[3]["window"])  # seeded per index


def test_stage2_box_and_stage1_guide(pack: Pack) -> None:
    ds = RestorationDataset(pack, patch=32, stage1_prob=0.0, length=5)
    s = ds[0]
    x0, y0, x1, y1 = s["box"].tolist()
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    assert x1 - x0 == pytest.approx(32 / 96) and y1 - y0 == pytest.approx(32 / 64)
    ds1 = RestorationDataset(pack, patch=32, stage1_prob=1.0, length=8)
    widths = []
    for i in range(8):
        s1 = ds1[i]
        assert int(s1["stage"]) == 1
        torch.testing.assert_close(s1["guide"], s1["window"][6:9])  # degraded centre frame
        # a 32x32 crop of the frame downscaled to a long side between 32 and 96 px
        x0, y0, x1, y1 = s1["box"].tolist()
        assert x0 >= 0 and y0 >= 0
        assert 1 / 3 - 1e-3 <= x1 - x0 <= 1 + 1e-3
        assert y1 - y0 == pytest.approx(1.5 * (x1 - x0), rel=0.05)  # 96x64 frames
        widths.append(x1 - x0)
    assert max(widths) - min(widths) > 0.05  # several scales


def test_bad_pack_and_sizes(tmp_path: Path, pack: Pack) -> None:
    with pytest.raises(ValueError, match="not a training pack"):
        Pack.open(tmp_path)
    with pytest.raises(ValueError, match="larger than"):
        RestorationDataset(pack, patch=128)
    with pytest.raises(ValueError, match="needs 7"):
        RestorationDataset(pack, patch=32, radius=3)


def test_pack_takes_user_clips(tmp_path: Path) -> None:
    import OpenImageIO as oiio

    src = tmp_path / "clean"
    src.mkdir()
    rng = np.random.default_rng(0)
    for k in range(6):
        p = src / f"c.{k:04d}.png"
        out = oiio.ImageOutput.create(str(p))
        out.open(str(p), oiio.ImageSpec(80, 60, 3, oiio.UINT8))
        out.write_image(rng.random((60, 80, 3), dtype=np.float32))
        out.close()
    folder = tmp_path / "pack"
    build_pack(folder, PackConfig(clips=3, frames=5, height=48, width=64,
                                  clean_sources=(str(src),), video_prob=1.0), None)
    meta = Pack.open(folder).meta
    assert all(c["source"] == str(src) for c in meta["clips"])


def test_pack_is_the_same_for_any_number_of_workers_and_takes_photo_files(tmp_path: Path
                                                                           ) -> None:
    from PIL import Image

    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(3)
    Image.fromarray((rng.random((90, 120, 3)) * 255).astype(np.uint8)).save(photo)
    cfg = PackConfig(clips=3, frames=5, height=48, width=64, photos=(str(photo),))
    one = Pack.open(build_pack(tmp_path / "one", cfg, None))
    two = Pack.open(build_pack(tmp_path / "two", cfg, None, workers=2))
    for a, b in ((one.clean, two.clean), (one.degraded, two.degraded), (one.mask, two.mask)):
        np.testing.assert_array_equal(a, b)
    assert one.meta["clips"] == two.meta["clips"]


def test_registered_windows_line_the_neighbours_up(pack: Pack) -> None:
    """A motion-compensated model trains on windows read the way the sampler reads
    them: same crops and targets, neighbours moved onto the centre frame."""
    kw = {"patch": 32, "radius": 2, "length": 24, "seed": 3}
    for stage1_prob in (0.0, 1.0):
        plain = RestorationDataset(pack, stage1_prob=stage1_prob, **kw)
        reg = RestorationDataset(pack, stage1_prob=stage1_prob, register_frames=True, **kw)
        err_plain, err_reg = 0.0, 0.0
        for i in range(24):
            a, b = plain[i], reg[i]
            torch.testing.assert_close(a["target"], b["target"])
            torch.testing.assert_close(a["window"][6:9], b["window"][6:9])  # centre as is
            for k in (0, 1, 3, 4):
                err_plain += float((a["window"][3 * k : 3 * k + 3] - a["window"][6:9]).abs().mean())
                err_reg += float((b["window"][3 * k : 3 * k + 3] - b["window"][6:9]).abs().mean())
        assert err_reg < 0.8 * err_plain, (stage1_prob, err_reg, err_plain)
