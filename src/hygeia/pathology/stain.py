"""Stain separation, stain normalisation and tissue detection for bright-field RGB images (pure numpy).

- Colour deconvolution: Ruifrok A.C. & Johnston D.A., "Quantification of histochemical staining by
  color deconvolution", Anal Quant Cytol Histol 23(4):291-299, 2001. Beer-Lambert optical density
  OD = -log10(I / I0) is a linear mix of unit stain vectors; the inverse of the stain matrix recovers
  per-stain concentrations. Their published RGB OD vectors are used below.
- Stain normalisation: Macenko M. et al., "A method for normalizing histology slides for quantitative
  analysis", IEEE ISBI 2009, 1107-1110 (SVD plane of OD, robust extreme angles, 99th-percentile
  concentration scaling).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

I0 = 255.0  # incident light (white background) for 8-bit images

# Ruifrok & Johnston 2001, Table 1 (normalised RGB optical-density vectors).
HEMATOXYLIN = (0.650, 0.704, 0.286)
EOSIN = (0.072, 0.990, 0.105)
DAB = (0.268, 0.570, 0.776)


def _unit(v: NDArray[np.float64]) -> NDArray[np.float64]:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def stain_matrix(first: tuple[float, float, float], second: tuple[float, float, float],
                 third: tuple[float, float, float] | None = None) -> NDArray[np.float64]:
    """3×3 matrix of unit stain OD vectors (rows); a missing third stain is the normalised cross product."""
    a, b = _unit(np.asarray(first, float)), _unit(np.asarray(second, float))
    c = _unit(np.cross(a, b)) if third is None else _unit(np.asarray(third, float))
    return np.vstack([a, b, c])


HE_MATRIX = stain_matrix(HEMATOXYLIN, EOSIN, DAB)
HDAB_MATRIX = stain_matrix(HEMATOXYLIN, DAB)


def _rgb(image: NDArray[np.generic]) -> NDArray[np.float64]:
    x = np.asarray(image)
    if x.ndim != 3 or x.shape[-1] not in (3, 4):
        raise ValueError(f"expected an RGB image (h, w, 3), got shape {x.shape}")
    return x[..., :3].astype(np.float64)


def optical_density(image: NDArray[np.generic]) -> NDArray[np.float64]:
    """OD = -log10((I + 1) / (I0 + 1)) per channel, ≥ 0."""
    return np.maximum(-np.log10((_rgb(image) + 1.0) / (I0 + 1.0)), 0.0)


def deconvolve(image: NDArray[np.generic], matrix: NDArray[np.float64] = HDAB_MATRIX) -> NDArray[np.float64]:
    """Per-pixel stain concentrations (h, w, 3) in OD units, in the order of ``matrix``'s rows."""
    od = optical_density(image)
    return np.asarray(od.reshape(-1, 3) @ np.linalg.inv(matrix), dtype=np.float64).reshape(od.shape)


def reconstruct(concentrations: NDArray[np.floating], matrix: NDArray[np.float64]) -> NDArray[np.uint8]:
    """RGB image from stain concentrations (inverse of :func:`deconvolve`)."""
    od = concentrations.reshape(-1, concentrations.shape[-1]) @ matrix[: concentrations.shape[-1]]
    rgb = (I0 + 1.0) * np.power(10.0, -od) - 1.0
    return np.clip(rgb, 0, 255).round().astype(np.uint8).reshape(*concentrations.shape[:-1], 3)


@dataclass(frozen=True)
class MacencoStains:
    """Two stain vectors (H first, E second) and their robust maximal concentrations."""

    vectors: NDArray[np.float64]  # (2, 3)
    max_concentrations: NDArray[np.float64]  # (2,)


def macenko_stains(image: NDArray[np.generic], beta: float = 0.15, alpha: float = 1.0,
                   tissue: NDArray[np.bool_] | None = None) -> MacencoStains:
    """Estimate H and E stain vectors with Macenko's method (beta: OD threshold, alpha: angle percentile)."""
    od = optical_density(image).reshape(-1, 3)
    keep = np.all(od > beta, axis=1)
    if tissue is not None:
        keep &= tissue.ravel()
    od_t = od[keep]
    if len(od_t) < 10:
        raise ValueError("too few stained pixels to estimate stain vectors (is the image blank or overexposed?)")
    _, eigvecs = np.linalg.eigh(np.cov(od_t.T))
    plane = eigvecs[:, 1:3]  # the two largest eigenvalues
    plane = plane * np.where(plane[0] < 0, -1, 1)  # orient towards positive OD
    proj = od_t @ plane
    phi = np.arctan2(proj[:, 1], proj[:, 0])
    lo, hi = np.percentile(phi, [alpha, 100 - alpha])
    v1 = plane @ np.array([np.cos(lo), np.sin(lo)])
    v2 = plane @ np.array([np.cos(hi), np.sin(hi)])
    # Haematoxylin absorbs more red than eosin does: it is the vector with the larger red component.
    he = np.vstack([v1, v2]) if v1[0] > v2[0] else np.vstack([v2, v1])
    he = np.abs(he) / np.linalg.norm(he, axis=1, keepdims=True)
    conc, *_ = np.linalg.lstsq(he.T, od_t.T, rcond=None)
    max_c = np.percentile(conc, 99, axis=1)
    return MacencoStains(vectors=he, max_concentrations=np.maximum(max_c, 1e-6))


def macenko_normalise(image: NDArray[np.generic], target: MacencoStains, beta: float = 0.15,
                      alpha: float = 1.0) -> NDArray[np.uint8]:
    """Re-render ``image`` with the stain vectors and concentration range of ``target`` (Macenko 2009)."""
    source = macenko_stains(image, beta, alpha)
    rgb = _rgb(image)
    od = optical_density(rgb).reshape(-1, 3)
    conc, *_ = np.linalg.lstsq(source.vectors.T, od.T, rcond=None)
    conc *= (target.max_concentrations / source.max_concentrations)[:, None]
    out = (I0 + 1.0) * np.power(10.0, -(target.vectors.T @ conc)) - 1.0
    return np.clip(out.T, 0, 255).round().astype(np.uint8).reshape(rgb.shape)


def tissue_mask(image: NDArray[np.generic], min_od: float = 0.05, glass_od: float = 0.15,
                min_size_fraction: float = 0.001) -> NDArray[np.bool_]:
    """Tissue (not glass) in a bright-field image: summed OD clearly above the glass level, cleaned up.

    The glass level is the 1st percentile of the smoothed summed OD; tissue is ``min_od`` above it. When
    even that percentile exceeds ``glass_od`` there is no glass in view and all stained pixels are tissue.
    (A global Otsu split is avoided: on nuclei-rich fields it separates nuclei from stroma, not tissue
    from glass.)
    """
    rgb = _rgb(image)
    od = ndi.median_filter(optical_density(rgb).sum(axis=-1), 5)  # edge-preserving denoising
    no_data = rgb.max(axis=-1) < 30  # black padding outside the scanned area is not tissue
    valid = od[~no_data]
    if valid.size == 0:
        return np.zeros(od.shape, dtype=bool)
    glass = float(np.percentile(valid, 1))
    threshold = min_od if glass > glass_od else glass + min_od
    raw = np.pad((od > threshold) & ~no_data, 2, mode="edge")  # pad: closing must not erode the image border
    mask = ndi.binary_closing(raw, iterations=2)[2:-2, 2:-2]
    mask = ndi.binary_fill_holes(mask)
    labels, n = ndi.label(mask)
    if n:
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        mask = sizes[labels] >= max(1, int(min_size_fraction * mask.size))
    return np.asarray(mask, dtype=bool)
