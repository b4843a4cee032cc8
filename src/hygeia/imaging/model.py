"""Run a shipped image model (ONNX + model card) with ONNX Runtime; serving needs no torch.

A model is a folder (MONAI-bundle style): ``model.onnx`` (input ``image`` float32 NCHW in [0, 1],
output ``proba`` (N, classes)), ``card.json`` (task, version, metrics, intended use) and ``card.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hygeia.imaging.tasks import TASKS, TaskSpec, get_task

MODELS_DIR = Path(__file__).parent / "models"


class ModelError(ValueError):
    """A model folder is missing or malformed."""


def resolve_model_dir(name_or_path: str | Path) -> Path:
    """A shipped model name (``pneumonia``, ``breast``, ``retina``) or a model folder."""
    path = Path(name_or_path)
    if str(name_or_path) in TASKS and not path.exists():
        path = MODELS_DIR / str(name_or_path)
    if not path.is_dir():
        raise ModelError(f"{name_or_path}: not a model folder nor a shipped model ({', '.join(TASKS)})")
    for needed in ("model.onnx", "card.json"):
        if not (path / needed).is_file():
            raise ModelError(f"{path}: missing {needed} (train one with `hygeia imaging train`)")
    return path


def to_nchw(images: NDArray[np.generic], channels: int) -> NDArray[np.float32]:
    """uint8 (n, h, w) or (n, h, w, c) → float32 (n, c, h, w) in [0, 1], converting grey ↔ colour."""
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3, 4):
        raise ValueError(f"images must be (n, h, w) or (n, h, w, 1|3|4), got shape {np.shape(images)}")
    if x.shape[-1] == 4:
        x = x[..., :3]
    if x.shape[-1] == 1 and channels == 3:
        x = np.repeat(x, 3, axis=-1)
    elif x.shape[-1] == 3 and channels == 1:
        x = (x[..., :1] * 0.299 + x[..., 1:2] * 0.587 + x[..., 2:3] * 0.114)
    scale = 255.0 if x.dtype == np.uint8 or float(np.max(x, initial=0)) > 1.0 else 1.0
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)).astype(np.float32) / np.float32(scale))


@dataclass
class ImageModel:
    """An ONNX image classifier with its card."""

    path: Path
    card: dict[str, Any]
    task: TaskSpec
    size: int
    _session: Any = field(default=None, repr=False)

    @classmethod
    def load(cls, name_or_path: str | Path, threads: int = 0) -> ImageModel:
        import onnxruntime as ort

        path = resolve_model_dir(name_or_path)
        try:
            card = json.loads((path / "card.json").read_text())
            task = get_task(card["task"])
            size = int(card["input"]["size"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path / 'card.json'}: malformed model card ({exc})") from None
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path / "model.onnx"), options, providers=["CPUExecutionProvider"])
        return cls(path=path, card=card, task=task, size=size, _session=session)

    @property
    def version(self) -> str:
        return str(self.card.get("version", "0"))

    def resize(self, images: NDArray[np.float32]) -> NDArray[np.float32]:
        """Bring NCHW images to the model's square input size (area/bilinear resampling)."""
        if images.shape[-2:] == (self.size, self.size):
            return images
        from skimage.transform import resize

        n, c = images.shape[:2]
        out = resize(images, (n, c, self.size, self.size), order=1, anti_aliasing=True, preserve_range=True)
        return np.asarray(out, dtype=np.float32)

    def predict_proba(self, images: NDArray[np.generic], batch_size: int = 512) -> NDArray[np.float32]:
        """Class probabilities, shape (n, classes)."""
        x = self.resize(to_nchw(images, self.task.channels))
        outs = [self._session.run(None, {"image": x[i : i + batch_size]})[0] for i in range(0, len(x), batch_size)]
        if not outs:
            return np.zeros((0, len(self.task.classes)), np.float32)
        proba = np.concatenate(outs, axis=0)
        temperature = float(self.card.get("calibration", {}).get("temperature", 1.0))
        if temperature != 1.0:
            from hygeia.imaging.metrics import apply_temperature

            proba = apply_temperature(proba, temperature)
        return proba.astype(np.float32)
