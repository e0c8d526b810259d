"""NIQE: our own pristine model, and the score's direction on known distortions."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from haineifrdm.data.sources import EVAL_IMAGES, TRAIN_IMAGES, bundled_image
from haineifrdm.niqe import PATCH, fit_aggd, fit_ggd, fit_model, niqe


def test_ggd_fits_recover_gaussian_and_laplacian_shapes() -> None:
    rng = np.random.default_rng(0)
    alpha, var = fit_ggd(rng.normal(0, 2, 200_000))
    assert alpha == pytest.approx(2.0, abs=0.05) and var == pytest.approx(4.0, rel=0.02)
    assert fit_ggd(rng.laplace(0, 1, 200_000))[0] == pytest.approx(1.0, abs=0.05)
    # asymmetric Gaussian (an AGGD with shape 2): side chosen in proportion to its scale
    mag = np.abs(rng.normal(0, 1, 200_000))
    left_side = rng.random(200_000) < 0.5 / (0.5 + 2.0)
    skewed = np.where(left_side, -0.5 * mag, 2.0 * mag)  # left std 0.5, right std 2
    a, eta, left, right = fit_aggd(skewed)
    assert a == pytest.approx(2.0, abs=0.1)
    assert left == pytest.approx(0.25, rel=0.05) and right == pytest.approx(4.0, rel=0.05)
    assert eta > 0  # heavier right side


def test_noise_and_blur_score_worse_than_the_clean_photograph() -> None:
    # model from the training photographs only: the scored image is unseen
    photos = [bundled_image(n) for n in TRAIN_IMAGES]
    model = fit_model([i for i in photos if min(i.shape[:2]) >= 2 * PATCH])
    img = bundled_image(EVAL_IMAGES[0])
    rng = np.random.default_rng(0)
    clean = niqe(img, model)
    noisy = niqe(np.clip(img + rng.normal(0, 0.05, img.shape), 0, 1), model)
    blurred = niqe(ndimage.gaussian_filter(img, (2, 2, 0)), model)
    assert clean < noisy and clean < blurred
    assert niqe(img, model) == clean  # deterministic


def test_too_small_image_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="at least 96x96"):
        niqe(np.zeros((50, 200, 3), np.float32))
