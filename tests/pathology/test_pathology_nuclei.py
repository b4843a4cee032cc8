"""Nuclei segmentation on synthetic fluorescence images, instance matching, morphology and anomaly score."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from hygeia.pathology.nuclei import match_instances, morphology_table, segment_nuclei


def synthetic_nuclei(seed: int, n: int = 40, size: int = 200, touching: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Bright elliptical nuclei on a dark noisy background; ``touching`` pairs share a border."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    labels = np.zeros((size, size), np.int32)
    image = np.zeros((size, size))
    placed: list[tuple[float, float, float]] = []
    attempts = 0
    while len(placed) < n and attempts < 5000:
        attempts += 1
        r = rng.uniform(7, 10)
        if len(placed) % 2 == 1 and len(placed) < 2 * touching:
            py, px, pr = placed[-1]
            angle = rng.uniform(0, 2 * np.pi)
            cy, cx = py + np.sin(angle) * (pr + r - 2), px + np.cos(angle) * (pr + r - 2)
        else:
            cy, cx = rng.uniform(r, size - r, 2)
        if not (r < cy < size - r and r < cx < size - r):
            continue
        others = placed[:-1] if len(placed) % 2 == 1 and len(placed) < 2 * touching else placed
        if any(np.hypot(cy - y, cx - x) < r + rr + 2 for y, x, rr in others):
            continue
        disc = (np.hypot(yy - cy, xx - cx) < r) & (labels == 0)
        placed.append((cy, cx, r))
        labels[disc] = len(placed)
        dist = np.hypot(yy - cy, xx - cx) / r
        image[disc] = rng.uniform(0.5, 1.0) * (1 - 0.4 * dist[disc] ** 2)
    image = ndi.gaussian_filter(image, 1.0) + rng.normal(0.05, 0.02, (size, size))
    return (np.clip(image, 0, 1) * 200).astype(np.uint16), labels


@pytest.mark.parametrize("seed", [1, 2])
def test_segmentation_f1_on_synthetic_nuclei_with_touching_pairs(seed: int) -> None:
    image, truth = synthetic_nuclei(seed)
    result = match_instances(truth, segment_nuclei(image))
    assert result.f1 >= 0.85, result


def test_empty_image_has_no_nuclei() -> None:
    assert segment_nuclei(np.zeros((32, 32))).max() == 0


def test_segment_refuses_non_image() -> None:
    with pytest.raises(ValueError, match="2-D"):
        segment_nuclei(np.zeros((2, 3, 4, 5)))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 25), st.integers(0, 25), st.integers(2, 6)), min_size=0, max_size=6))
def test_matching_a_label_image_with_itself_is_perfect(boxes: list[tuple[int, int, int]]) -> None:
    labels = np.zeros((32, 32), np.int32)
    for i, (y, x, s) in enumerate(boxes, start=1):
        labels[y : y + s, x : x + s] = i
    present = len(np.unique(labels)) - 1
    result = match_instances(labels, labels)
    assert result.tp == present and result.fp == 0 and result.fn == 0
    assert result.f1 == (1.0 if present else 0.0)


def test_matching_counts_misses_and_false_positives() -> None:
    truth = np.zeros((20, 20), np.int32)
    truth[2:8, 2:8] = 1
    truth[12:18, 12:18] = 2
    pred = np.zeros_like(truth)
    pred[2:8, 2:7] = 5  # IoU 30/36 ≥ 0.5: match
    pred[12:14, 12:14] = 6  # IoU 4/36: no match
    r = match_instances(truth, pred)
    assert (r.tp, r.fp, r.fn) == (1, 1, 1) and r.f1 == pytest.approx(0.5)
    with pytest.raises(ValueError, match="differ in shape"):
        match_instances(truth, pred[:10])


def test_morphology_flags_the_giant_irregular_nucleus() -> None:
    image, truth = synthetic_nuclei(3, touching=0)
    yy, xx = np.mgrid[: truth.shape[0], : truth.shape[1]]
    giant = (np.hypot(yy - 100, xx - 100) < 22) & (truth == 0)
    truth[giant] = truth.max() + 1
    rows = morphology_table(truth, image)
    by_label = {r.label: r for r in rows}
    big = by_label[int(truth.max())]
    assert big.atypical
    assert big.anomaly == max(r.anomaly for r in rows)
    assert sum(r.atypical for r in rows) <= 3
    disc = next(r for r in rows if r.label == 1)
    assert disc.circularity > 0.8 and disc.eccentricity < 0.6
