"""Synthetic bright-field images with known ground truth, rendered by Beer-Lambert from stain vectors.

Used by the tests (IHC quantification must recover the known positive fraction) and by the demo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from hygeia.pathology.stain import HDAB_MATRIX, reconstruct


@dataclass(frozen=True)
class SyntheticIhc:
    image: NDArray[np.uint8]
    labels: NDArray[np.int32]  # true nuclei
    positive: NDArray[np.bool_]  # per nucleus (index label-1)
    tissue: NDArray[np.bool_]
    dab_area_fraction: float  # true DAB-positive nuclear area / tissue area
    positive_index: float  # true positive nuclei / all nuclei


def synthetic_ihc(positive_fraction: float, size: int = 256, n_nuclei: int = 60, seed: int = 0,
                  radius: tuple[float, float] = (6.0, 9.0), noise: float = 2.0,
                  tissue_fraction: float = 0.8) -> SyntheticIhc:
    """Haematoxylin-DAB image of elliptical nuclei; a ``positive_fraction`` of them are DAB-stained."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    # Tissue: an irregular blob covering about tissue_fraction of the field, glass around it.
    field = ndi.gaussian_filter(rng.normal(size=(size, size)), size / 8)
    dist_c = np.hypot(yy - size / 2, xx - size / 2) / size
    tissue = (field - dist_c * 4 * field.std()) >= np.quantile(field - dist_c * 4 * field.std(), 1 - tissue_fraction)
    tissue = ndi.binary_fill_holes(tissue)
    labels = np.zeros((size, size), np.int32)
    centres: list[tuple[float, float, float]] = []
    tries = 0
    while len(centres) < n_nuclei and tries < 20000:
        tries += 1
        r = rng.uniform(*radius)
        cy, cx = rng.uniform(r + 1, size - r - 1, 2)
        if not tissue[int(cy), int(cx)] or any(np.hypot(cy - y, cx - x) < r + rr + 3 for y, x, rr in centres):
            continue
        a, b = r, r * rng.uniform(0.7, 1.0)
        t = rng.uniform(0, np.pi)
        u = ((yy - cy) * np.cos(t) + (xx - cx) * np.sin(t)) / a
        v = (-(yy - cy) * np.sin(t) + (xx - cx) * np.cos(t)) / b
        inside = (u**2 + v**2 <= 1) & tissue
        if inside.sum() < 10:
            continue
        centres.append((cy, cx, r))
        labels[inside] = len(centres)
    n = len(centres)
    k = round(positive_fraction * n)
    positive = np.zeros(n, bool)
    positive[rng.choice(n, k, replace=False)] = True
    hema = np.where(tissue, 0.06, 0.0)
    dab = np.zeros((size, size))
    for i in range(n):
        sel = labels == i + 1
        if positive[i]:
            dab[sel] = rng.uniform(0.5, 0.8)
            hema[sel] = 0.15
        else:
            hema[sel] = rng.uniform(0.5, 0.8)
    conc = np.stack([ndi.gaussian_filter(hema, 0.8), ndi.gaussian_filter(dab, 0.8), np.zeros((size, size))], -1)
    image = reconstruct(conc, HDAB_MATRIX).astype(float) + rng.normal(0, noise, (size, size, 3))
    pos_area = float(np.isin(labels, np.flatnonzero(positive) + 1).sum())
    return SyntheticIhc(
        image=np.clip(image, 0, 255).round().astype(np.uint8), labels=labels, positive=positive, tissue=tissue,
        dab_area_fraction=pos_area / max(int(tissue.sum()), 1), positive_index=k / n if n else 0.0,
    )
