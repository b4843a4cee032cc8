"""Explanations and second opinions for image models.

- Occlusion saliency (Zeiler & Fergus, "Visualizing and understanding convolutional networks", ECCV 2014):
  slide a grey patch over the image and record how much the predicted class's probability drops. Works on
  the ONNX model alone (no gradients, no torch).
- Second opinion: flag cases where the model is confident and disagrees with the reader's label.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Predict = Callable[[NDArray[np.uint8]], NDArray[np.float32]]


def occlusion_saliency(predict: Predict, image: NDArray[np.uint8], target: int | None = None, patch: int = 0,
                       stride: int = 0) -> tuple[NDArray[np.float32], int]:
    """Heatmap (h, w) of the drop in the target class probability when each region is occluded.

    ``predict`` maps a batch (n, h, w[, c]) of uint8 images to probabilities. ``target`` defaults to the
    predicted class. Patch defaults to 1/7 of the side, stride to half the patch.
    """
    img = np.asarray(image)
    if img.ndim not in (2, 3):
        raise ValueError(f"image must be (h, w) or (h, w, c), got shape {img.shape}")
    h, w = img.shape[:2]
    patch = patch or max(2, min(h, w) // 7)
    stride = stride or max(1, patch // 2)
    base = predict(img[None])[0]
    cls = int(np.argmax(base)) if target is None else target
    fill = img.mean(axis=(0, 1)).astype(img.dtype)
    ys, xs = range(0, max(1, h - patch + 1), stride), range(0, max(1, w - patch + 1), stride)
    positions = [(y, x) for y in ys for x in xs]
    batch = np.repeat(img[None], len(positions), axis=0)
    for k, (y, x) in enumerate(positions):
        batch[k, y : y + patch, x : x + patch] = fill
    drops = base[cls] - predict(batch)[:, cls]
    heat = np.zeros((h, w), np.float64)
    count = np.zeros((h, w), np.float64)
    for (y, x), d in zip(positions, drops, strict=True):
        heat[y : y + patch, x : x + patch] += d
        count[y : y + patch, x : x + patch] += 1
    return (heat / np.maximum(count, 1)).astype(np.float32), cls


def _colormap(values: NDArray[np.floating]) -> NDArray[np.float64]:
    """Blue → cyan → yellow → red ramp for values in [0, 1] (a simple perceptual heat map)."""
    stops = np.array([[0, 0, 128], [0, 200, 255], [255, 230, 0], [220, 0, 0]], dtype=float)
    v = np.clip(values, 0, 1) * (len(stops) - 1)
    i = np.minimum(v.astype(int), len(stops) - 2)
    t = (v - i)[..., None]
    return stops[i] * (1 - t) + stops[i + 1] * t


def overlay(image: NDArray[np.uint8], heat: NDArray[np.floating], alpha: float = 0.45,
            size: int | None = None) -> NDArray[np.uint8]:
    """RGB overlay of a positive-part heat map on the image, upsampled to ``size`` (default: image size)."""
    from skimage.transform import resize

    img = np.asarray(image, dtype=float)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    side = size or max(img.shape[:2])
    out_shape = (side, round(side * img.shape[1] / img.shape[0]))
    img = resize(img, (*out_shape, 3), order=1, preserve_range=True)
    h = resize(np.clip(np.asarray(heat, dtype=float), 0, None), out_shape, order=1)
    peak = float(h.max())
    h = h / peak if peak > 0 else h
    weight = alpha * h[..., None]
    return np.clip(img * (1 - weight) + _colormap(h) * weight, 0, 255).round().astype(np.uint8)


@dataclass(frozen=True)
class Disagreement:
    index: int
    reader_label: int
    model_label: int
    confidence: float  # model probability of its own label
    reason: str


def second_opinion(proba: NDArray[np.floating], reader_labels: NDArray[np.integer], threshold: float = 0.9,
                   ordinal: bool = False, class_names: tuple[str, ...] = ()) -> list[Disagreement]:
    """Cases where the model's label, held with probability ≥ ``threshold``, differs from the reader's.

    For ordinal grades a confident disagreement of one grade is reported only when it crosses the
    referable boundary (grade ≥ 2 vs < 2, as used for referable diabetic retinopathy); two or more grades
    apart is always reported.
    """
    p = np.asarray(proba, dtype=float)
    y = np.asarray(reader_labels).ravel().astype(int)
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(f"proba {p.shape} and reader labels {y.shape} do not line up")
    if y.size and (y.min() < 0 or y.max() >= p.shape[1]):
        raise ValueError(f"reader labels must be 0..{p.shape[1] - 1}")
    model = p.argmax(axis=1)
    conf = p.max(axis=1)
    name = (lambda k: class_names[k]) if class_names else str
    out = []
    for i in np.flatnonzero((model != y) & (conf >= threshold)):
        m, r = int(model[i]), int(y[i])
        if ordinal and abs(m - r) == 1 and (m >= 2) == (r >= 2):
            continue
        out.append(Disagreement(index=int(i), reader_label=r, model_label=m, confidence=float(conf[i]),
                                reason=f"reader {name(r)}, model {name(m)} with probability {conf[i]:.2f}"))
    return out
