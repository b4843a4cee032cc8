"""Colour deconvolution, Macenko normalisation and tissue detection on images rendered from known stains."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from hygeia.pathology.stain import (
    HDAB_MATRIX,
    HE_MATRIX,
    deconvolve,
    macenko_normalise,
    macenko_stains,
    reconstruct,
    stain_matrix,
    tissue_mask,
)


def render_he(h_vec: tuple[float, float, float], e_vec: tuple[float, float, float], seed: int = 0,
              size: int = 128, glass: bool = True) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    tissue = (np.hypot(yy - size / 2, xx - size / 2) < size * 0.4) if glass else np.ones((size, size), bool)
    eos = np.where(tissue, ndi.gaussian_filter(rng.uniform(0.6, 1.4, (size, size)), 2), 0.0)
    hema = np.zeros((size, size))
    for _ in range(40):
        cy, cx = rng.uniform(0, size, 2)
        hema[np.hypot(yy - cy, xx - cx) < 4] = rng.uniform(0.5, 1.0)
    hema *= tissue
    eos[hema > 0] = 0.0  # nuclei pure haematoxylin, so the extreme angles are the stains themselves
    conc = np.stack([hema, eos, np.zeros_like(hema)], -1)
    return reconstruct(conc, stain_matrix(h_vec, e_vec)), tissue


def test_deconvolution_recovers_rendered_concentrations() -> None:
    rng = np.random.default_rng(1)
    conc = np.concatenate([rng.uniform(0, 0.8, (32, 32, 2)), np.zeros((32, 32, 1))], axis=-1)
    image = reconstruct(conc, HDAB_MATRIX)
    recovered = deconvolve(image, HDAB_MATRIX)
    assert np.abs(recovered[..., :2] - conc[..., :2]).max() < 0.02  # 8-bit quantisation only
    assert np.abs(recovered[..., 2]).max() < 0.02


def test_white_is_zero_and_pure_haematoxylin_has_no_dab() -> None:
    white = np.full((4, 4, 3), 255, np.uint8)
    assert np.allclose(deconvolve(white), 0, atol=1e-9)
    conc = np.zeros((4, 4, 3))
    conc[..., 0] = 0.7
    c = deconvolve(reconstruct(conc, HE_MATRIX), HE_MATRIX)
    assert c[..., 0].mean() == pytest.approx(0.7, abs=0.02)
    assert abs(c[..., 1].mean()) < 0.02


@pytest.mark.parametrize("shape", [(8, 8), (8, 8, 2), (2, 8, 8, 3)])
def test_malformed_image_shapes_are_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="RGB image"):
        deconvolve(np.zeros(shape, np.uint8))


def test_macenko_estimates_the_rendering_stains() -> None:
    h_vec, e_vec = (0.56, 0.72, 0.41), (0.22, 0.80, 0.56)
    image, _ = render_he(h_vec, e_vec, seed=2)
    stains = macenko_stains(image)
    for est, true in zip(stains.vectors, (h_vec, e_vec), strict=True):
        cos = float(np.dot(est, true) / np.linalg.norm(true))
        assert cos > 0.99


def test_macenko_normalisation_moves_source_stains_to_target() -> None:
    source, _ = render_he((0.65, 0.70, 0.29), (0.07, 0.99, 0.11), seed=3)
    target_img, _ = render_he((0.56, 0.72, 0.41), (0.22, 0.80, 0.56), seed=4)
    target = macenko_stains(target_img)
    out = macenko_normalise(source, target)
    assert out.shape == source.shape and out.dtype == np.uint8
    after = macenko_stains(out)
    assert np.abs(after.vectors - target.vectors).max() < 0.05
    assert np.allclose(after.max_concentrations, target.max_concentrations, rtol=0.1)


def test_macenko_refuses_a_blank_image() -> None:
    with pytest.raises(ValueError, match="too few stained pixels"):
        macenko_stains(np.full((16, 16, 3), 250, np.uint8))


def test_tissue_mask_separates_tissue_from_glass_and_black_padding() -> None:
    image, tissue = render_he((0.65, 0.70, 0.29), (0.07, 0.99, 0.11), seed=5)
    image = image.copy()
    image[:, -10:] = 0  # out-of-scan padding
    truth = tissue.copy()
    truth[:, -10:] = False
    mask = tissue_mask(image)
    iou = (mask & truth).sum() / (mask | truth).sum()
    assert iou > 0.9
    assert not tissue_mask(np.full((64, 64, 3), 245, np.uint8)).any()
