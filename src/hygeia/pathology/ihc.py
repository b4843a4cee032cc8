"""Immunohistochemistry (IHC) quantification on haematoxylin-DAB images: DAB-positive area fraction and
a positive-nucleus index (Ki-67-style labelling index).

DAB and haematoxylin concentrations come from colour deconvolution (Ruifrok & Johnston 2001). A pixel
or nucleus is DAB-positive when its DAB optical density exceeds ``dab_threshold`` (default 0.2 OD, the
single-threshold default of QuPath's positive cell detection; Bankhead et al., Sci Rep 7:16878, 2017).
The Ki-67 index is positive tumour nuclei / all tumour nuclei (International Ki67 in Breast Cancer Working
Group, Nielsen et al., JNCI 2021); here all detected nuclei count — a pathologist confirms the region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage as ndi

from hygeia.pathology.nuclei import NucleiParams, segment_nuclei
from hygeia.pathology.stain import HDAB_MATRIX, deconvolve, tissue_mask

DEFAULT_DAB_THRESHOLD = 0.2


@dataclass(frozen=True)
class IhcResult:
    dab_area_fraction: float  # DAB-positive pixels / tissue pixels
    tissue_pixels: int
    positive_pixels: int
    n_nuclei: int
    n_positive: int
    positive_index: float  # positive nuclei / all nuclei
    dab_threshold: float
    labels: NDArray[np.int32]  # nuclei label image
    positive_labels: tuple[int, ...]


def quantify_ihc(image: NDArray[np.generic], dab_threshold: float = DEFAULT_DAB_THRESHOLD,
                 params: NucleiParams = NucleiParams()) -> IhcResult:
    """DAB area fraction and positive-nucleus index of an RGB haematoxylin-DAB image."""
    conc = deconvolve(image, HDAB_MATRIX)
    hema, dab = conc[..., 0], conc[..., 1]
    tissue = tissue_mask(image)
    dab_smooth = ndi.gaussian_filter(dab, 0.7)
    positive = (dab_smooth > dab_threshold) & tissue
    tissue_px = int(tissue.sum())
    nuclear = np.clip(hema, 0, None) + np.clip(dab, 0, None)  # nuclei are stained by one or the other
    labels = segment_nuclei(nuclear, params)
    n = int(labels.max())
    pos_labels: tuple[int, ...] = ()
    if n:
        mean_dab = ndi.mean(dab, labels, index=np.arange(1, n + 1))
        pos_labels = tuple(int(i + 1) for i in np.flatnonzero(np.asarray(mean_dab) > dab_threshold))
    return IhcResult(
        dab_area_fraction=float(positive.sum() / tissue_px) if tissue_px else 0.0,
        tissue_pixels=tissue_px, positive_pixels=int(positive.sum()), n_nuclei=n, n_positive=len(pos_labels),
        positive_index=len(pos_labels) / n if n else 0.0, dab_threshold=dab_threshold, labels=labels,
        positive_labels=pos_labels,
    )
