"""Read MedMNIST-format ``.npz`` files: ``{split}_images`` (n, h, w[, c]) uint8 and ``{split}_labels``."""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray


class DataError(ValueError):
    """The input data is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Split:
    images: NDArray[np.uint8]  # (n, h, w) or (n, h, w, c)
    labels: NDArray[np.int64]  # (n,)


def split_from_arrays(images: NDArray[np.generic], labels: NDArray[np.generic], where: str = "arrays") -> Split:
    """Validate and normalise image/label arrays (pure)."""
    if images.ndim not in (3, 4):
        raise DataError(f"{where}: images must be (n, h, w) or (n, h, w, c), got shape {images.shape}")
    if images.ndim == 4 and images.shape[-1] not in (1, 3):
        raise DataError(f"{where}: images must have 1 or 3 channels, got {images.shape[-1]}")
    y = np.asarray(labels)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"{where}: labels must be (n,) or (n, 1), got shape {labels.shape} (multi-label not supported)")
    if len(y) != len(images):
        raise DataError(f"{where}: {len(images)} images but {len(y)} labels")
    if images.dtype != np.uint8:
        if images.size and (images.min() < 0 or images.max() > 255):
            raise DataError(f"{where}: images must be uint8 (0..255), got {images.dtype} in "
                            f"[{images.min()}, {images.max()}]")
        images = images.astype(np.uint8)
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0):
        raise DataError(f"{where}: labels must be non-negative integers, got {y.dtype}")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    return Split(images=np.ascontiguousarray(images), labels=y.astype(np.int64))


def load_split(path: Path, split: str) -> Split:
    """Read one split of a MedMNIST ``.npz``; errors name the file and the missing key."""
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    with data:
        keys = set(data.files)
        img_key, lab_key = f"{split}_images", f"{split}_labels"
        missing = [k for k in (img_key, lab_key) if k not in keys]
        if missing:
            splits = sorted({k.rsplit("_", 1)[0] for k in keys if k.endswith("_images")})
            present = ", ".join(splits) or "none"
            raise DataError(f"{path}: missing key(s) {', '.join(missing)}; splits present: {present}")
        return split_from_arrays(data[img_key], data[lab_key], where=f"{path}[{split}]")
