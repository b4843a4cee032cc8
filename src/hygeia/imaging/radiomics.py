"""Radiomics first-order and 3-D shape features, following the definitions documented by pyradiomics
(van Griethuysen et al., "Computational radiomics system to decode the radiographic phenotype",
Cancer Research 77(21):e104-e107, 2017; https://pyradiomics.readthedocs.io/en/latest/features.html),
which align with the Image Biomarker Standardisation Initiative (Zwanenburg et al., Radiology 295:328, 2020).
Implemented here from the published formulas; no code copied.

First order: intensities X of the voxels in the mask (label 1). Energy and RMS add ``voxel_shift``
(pyradiomics' voxelArrayShift, 2000 by default) so negative HU do not cancel; Entropy and Uniformity use
fixed-width bins (``bin_width``, default 25) with edges at multiples of the width; moments are population
moments and Kurtosis is not excess kurtosis.
Shape: a triangle mesh of the mask at iso-level 0.5 (marching cubes, vertices at edge midpoints) gives
MeshVolume and SurfaceArea; diameters are between mesh vertices; axis lengths from the eigenvalues λ of
the covariance of voxel-centre coordinates (MajorAxisLength = 4√λ_major, …).
"""

from __future__ import annotations

import contextlib

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import ConvexHull, QhullError

EPS = np.spacing(1)  # 2.2e-16, as in pyradiomics' entropy


def _roi(image: NDArray[np.generic], mask: NDArray[np.generic], label: int) -> NDArray[np.float64]:
    if image.shape != mask.shape:
        raise ValueError(f"image {image.shape} and mask {mask.shape} differ in shape")
    roi = np.asarray(image, dtype=np.float64)[np.asarray(mask) == label]
    if roi.size == 0:
        raise ValueError(f"mask has no voxels with label {label}")
    return roi


def first_order(image: NDArray[np.generic], mask: NDArray[np.generic], spacing: tuple[float, ...],
                label: int = 1, bin_width: float = 25.0, voxel_shift: float = 2000.0) -> dict[str, float]:
    """First-order statistics of the voxels in the mask (pyradiomics feature names)."""
    x = _roi(image, mask, label)
    n = x.size
    voxel_volume = float(np.prod(spacing))
    mean = x.mean()
    dev = x - mean
    m2, m3, m4 = (dev**2).mean(), (dev**3).mean(), (dev**4).mean()
    p10, p25, p50, p75, p90 = np.percentile(x, [10, 25, 50, 75, 90])
    robust = x[(x >= p10) & (x <= p90)]
    _, counts = np.unique(np.floor(x / bin_width), return_counts=True)
    p = counts / n
    energy = float(np.sum((x + voxel_shift) ** 2))
    return {
        "Energy": energy,
        "TotalEnergy": energy * voxel_volume,
        "Entropy": float(-np.sum(p * np.log2(p + EPS))),
        "Minimum": float(x.min()),
        "10Percentile": float(p10),
        "90Percentile": float(p90),
        "Maximum": float(x.max()),
        "Mean": float(mean),
        "Median": float(p50),
        "InterquartileRange": float(p75 - p25),
        "Range": float(x.max() - x.min()),
        "MeanAbsoluteDeviation": float(np.abs(dev).mean()),
        "RobustMeanAbsoluteDeviation": float(np.abs(robust - robust.mean()).mean()),
        "RootMeanSquared": float(np.sqrt(energy / n)),
        "Skewness": float(m3 / m2**1.5) if m2 > 0 else 0.0,
        "Kurtosis": float(m4 / m2**2) if m2 > 0 else 0.0,
        "Variance": float(m2),
        "Uniformity": float(np.sum(p**2)),
    }


def _max_distance(points: NDArray[np.float64]) -> float:
    if len(points) < 2:
        return 0.0
    pts = np.unique(points, axis=0)
    if len(pts) > 3:
        with contextlib.suppress(QhullError):  # degenerate (collinear/coplanar): use all points
            pts = pts[ConvexHull(pts).vertices]
    best = 0.0
    for i in range(0, len(pts), 512):
        d = np.sqrt(((pts[i : i + 512, None, :] - pts[None, :, :]) ** 2).sum(-1))
        best = max(best, float(d.max()))
    return best


def shape_3d(mask: NDArray[np.generic], spacing: tuple[float, float, float], label: int = 1) -> dict[str, float]:
    """3-D shape features of the mask region (pyradiomics names). Axes are (i, j, k) with k the slice axis;
    Maximum2DDiameterSlice is in planes of constant k, ...Column of constant j, ...Row of constant i."""
    from skimage.measure import marching_cubes

    m = np.asarray(mask) == label
    if m.ndim != 3:
        raise ValueError(f"shape features need a 3-D mask, got {m.ndim}-D")
    n = int(m.sum())
    if n == 0:
        raise ValueError(f"mask has no voxels with label {label}")
    sp = np.asarray(spacing, dtype=float)
    padded = np.pad(m, 1).astype(np.float32)
    verts, faces, _, _ = marching_cubes(padded, level=0.5, spacing=tuple(sp))
    tri = verts[faces]
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    area = float(0.5 * np.linalg.norm(cross, axis=1).sum())
    volume = float(abs(np.einsum("ij,ij->i", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum()) / 6.0)
    coords = np.argwhere(m) * sp
    centred = coords - coords.mean(axis=0)
    eig = np.sort(np.clip(np.linalg.eigvalsh(centred.T @ centred / n), 0, None))  # least, minor, major
    least, minor, major = eig

    def planar(axis: int) -> float:
        best = 0.0
        others = [a for a in range(3) if a != axis]
        for value in np.unique(np.round(verts[:, axis], 6)):
            sel = np.isclose(verts[:, axis], value)
            best = max(best, _max_distance(verts[sel][:, others]))
        return best

    return {
        "MeshVolume": volume,
        "VoxelVolume": float(n * np.prod(sp)),
        "SurfaceArea": area,
        "SurfaceVolumeRatio": area / volume if volume else float("inf"),
        "Sphericity": float((36 * np.pi * volume**2) ** (1 / 3) / area) if area else 0.0,
        "Maximum3DDiameter": _max_distance(verts),
        "Maximum2DDiameterSlice": planar(2),
        "Maximum2DDiameterColumn": planar(1),
        "Maximum2DDiameterRow": planar(0),
        "MajorAxisLength": float(4 * np.sqrt(major)),
        "MinorAxisLength": float(4 * np.sqrt(minor)),
        "LeastAxisLength": float(4 * np.sqrt(least)),
        "Elongation": float(np.sqrt(minor / major)) if major > 0 else 0.0,
        "Flatness": float(np.sqrt(least / major)) if major > 0 else 0.0,
    }


__all__ = ["first_order", "shape_3d"]
