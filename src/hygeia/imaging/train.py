"""Train a small CNN on a MedMNIST task with torch on CPU, export it to ONNX, and write its model card.

torch is needed only here (``pip install 'hygeia[train]'``); serving runs the ONNX file with ONNX Runtime.
Recipe (per ensemble member): a VGG-style
6-conv network with batch norm (about 0.16 M parameters at width 24), AdamW with a one-cycle
learning-rate schedule, an exponential moving average (EMA) of the weights, random affine and
intensity augmentation. Ordinal tasks (retina) train on soft ordinal labels (SORD: Diaz & Marathe,
"Soft labels for ordinal regression", CVPR 2019) so that near-miss grades cost less than far ones.
The validation split is never used for choosing epochs or weights; it is only reported.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.imaging import metrics
from hygeia.imaging.model import to_nchw
from hygeia.imaging.npz_data import Split
from hygeia.imaging.tasks import TaskSpec

ProgressFn = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    width: int = 24
    label_smoothing: float = 0.05
    ordinal_sharpness: float = 1.0  # SORD: soft target ∝ exp(-sharpness · (k - y)²)
    ema_decay: float = 0.99
    ensemble: int = 1  # members trained from consecutive seeds; the ONNX averages their probabilities
    seed: int = 0
    threads: int = 1  # one thread is fastest for this small net on a shared 2-core machine


DEFAULT_CONFIGS: dict[str, TrainConfig] = {
    "pneumonia": TrainConfig(epochs=12, batch_size=64),
    "breast": TrainConfig(epochs=80, batch_size=32, lr=2e-3),
    "retina": TrainConfig(epochs=50, batch_size=32, lr=2e-3),
}


def require_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise RuntimeError("training needs torch: pip install torch==2.13.0 (or pip install 'hygeia[train]')") from None
    return torch


def build_net(channels: int, n_classes: int, width: int = 32, mean: float = 0.5, std: float = 0.25) -> Any:
    """VGG-style CNN; input float NCHW in [0, 1] (normalisation inside), output logits."""
    torch = require_torch()
    nn = torch.nn

    def block(cin: int, cout: int) -> list[Any]:
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]

    w = width

    module: Any = torch.nn.Module

    class Net(module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
            self.register_buffer("std", torch.tensor(std, dtype=torch.float32))
            self.features = nn.Sequential(
                *block(channels, w), *block(w, w), nn.MaxPool2d(2),
                *block(w, 2 * w), *block(2 * w, 2 * w), nn.MaxPool2d(2),
                *block(2 * w, 4 * w), *block(4 * w, 4 * w), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            )
            self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(4 * w, n_classes))

        def forward(self, x: Any) -> Any:
            return self.head(self.features((x - self.mean) / self.std))

    return Net()


def _augment(torch: Any, x: Any, task: TaskSpec, gen: Any) -> Any:
    """Random affine (rotation ±10°, scale 0.9–1.1, shift ±2 px), valid flips, brightness/contrast."""
    f = torch.nn.functional
    n = x.shape[0]

    def u(lo: float, hi: float) -> Any:
        return torch.rand(n, generator=gen) * (hi - lo) + lo

    angle = u(-10, 10) * np.pi / 180
    scale = u(0.9, 1.1)
    sx = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if task.hflip else torch.ones(n)
    sy = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if task.vflip else torch.ones(n)
    shift = 2.0 * 2 / x.shape[-1]
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([
        torch.stack([cos * sx, -sin * sy, u(-shift, shift)], 1),
        torch.stack([sin * sx, cos * sy, u(-shift, shift)], 1),
    ], 1)
    grid = f.affine_grid(theta, list(x.shape), align_corners=False)
    x = f.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    contrast = u(0.8, 1.2).view(n, 1, 1, 1)
    bright = u(-0.08, 0.08).view(n, 1, 1, 1)
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - m) * contrast + m + bright).clamp(0, 1)


def _targets(torch: Any, y: Any, n_classes: int, task: TaskSpec, cfg: TrainConfig) -> Any:
    if task.ordinal:
        k = torch.arange(n_classes, dtype=torch.float32)
        logits = -cfg.ordinal_sharpness * (k[None, :] - y[:, None].float()) ** 2
        return torch.softmax(logits, dim=1)
    eye = torch.eye(n_classes)[y]
    return eye * (1 - cfg.label_smoothing) + cfg.label_smoothing / n_classes


def _exportable(torch: Any, nets: list[Any], task: TaskSpec) -> Any:
    """Wrap the nets: softmax output averaged over ensemble members and valid flips (test-time augmentation)."""
    flips = [(3,)] if task.hflip else []
    if task.vflip:
        flips.append((2,))

    class Exported(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.nets = torch.nn.ModuleList(nets)

        def forward(self, image: Any) -> Any:
            views = [image] + [torch.flip(image, dims) for dims in flips]
            p = [torch.softmax(net(view), dim=1) for net in self.nets for view in views]
            return torch.stack(p).mean(dim=0)

    return Exported().eval()


@dataclass
class TrainResult:
    out_dir: Path
    card: dict[str, Any]
    seconds: float


def _fit_one(torch: Any, x_all: Any, y_all: Any, task: TaskSpec, cfg: TrainConfig, seed: int,
             report: Callable[[int, dict[str, float]], None]) -> Any:
    """Train one network from ``seed``; returns the EMA copy of its weights in eval mode."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    n_classes = len(task.classes)
    mean, std = float(x_all.mean()), float(x_all.std()) or 1.0
    net = build_net(task.channels, n_classes, cfg.width, mean, std)
    ema = copy.deepcopy(net).eval()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = max(1, int(np.ceil(len(x_all) / cfg.batch_size)))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, total_steps=cfg.epochs * steps_per_epoch,
                                                pct_start=0.2)
    step = 0
    for epoch in range(cfg.epochs):
        net.train()
        order = torch.randperm(len(x_all), generator=gen)
        total, seen = 0.0, 0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            if len(idx) < 2:
                continue
            xb = _augment(torch, x_all[idx], task, gen)
            target = _targets(torch, y_all[idx], n_classes, task, cfg)
            loss = -(target * torch.log_softmax(net(xb), dim=1)).sum(dim=1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            decay = min(cfg.ema_decay, (1 + step) / (10 + step))
            with torch.no_grad():
                for pe, pn in zip(ema.state_dict().values(), net.state_dict().values(), strict=True):
                    if pe.dtype.is_floating_point:
                        pe.mul_(decay).add_(pn.detach(), alpha=1 - decay)
                    else:
                        pe.copy_(pn)
            total += loss.item() * len(idx)
            seen += len(idx)
        report(epoch + 1, {"loss": total / max(seen, 1)})
    return ema


def train(
    task: TaskSpec, train_split: Split, val_split: Split | None, out_dir: Path, cfg: TrainConfig | None = None,
    progress: ProgressFn | None = None, data_name: str = "",
) -> TrainResult:
    """Train, export ``model.onnx`` and write ``card.json``/``card.md`` into ``out_dir``."""
    torch = require_torch()
    cfg = cfg or TrainConfig()
    start = time.perf_counter()
    torch.set_num_threads(cfg.threads)
    n_classes = len(task.classes)
    if train_split.labels.max(initial=0) >= n_classes:
        raise ValueError(f"labels go up to {train_split.labels.max()} but task {task.name} has {n_classes} classes")
    x_all = torch.from_numpy(to_nchw(train_split.images, task.channels))
    y_all = torch.from_numpy(train_split.labels)
    size = int(x_all.shape[-1])
    members = []
    for member in range(cfg.ensemble):
        offset = member * cfg.epochs

        def report(epoch: int, info: dict[str, float], offset: int = offset) -> None:
            if progress:
                progress(offset + epoch, cfg.epochs * cfg.ensemble, info)

        members.append(_fit_one(torch, x_all, y_all, task, cfg, cfg.seed + member, report))
    out_dir.mkdir(parents=True, exist_ok=True)
    exported = _exportable(torch, members, task)
    onnx_path = out_dir / "model.onnx"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(exported, (torch.zeros(1, task.channels, size, size),), str(onnx_path), dynamo=False,
                          input_names=["image"], output_names=["proba"],
                          dynamic_axes={"image": {0: "n"}, "proba": {0: "n"}}, opset_version=17)
    seconds = time.perf_counter() - start
    from hygeia.imaging.model import ImageModel

    card_stub: dict[str, Any] = {"task": task.name, "input": {"size": size}, "version": "0"}
    (out_dir / "card.json").write_text(json.dumps(card_stub))
    calibration: dict[str, Any] = {"temperature": 1.0}
    if task.ordinal:
        # Soft ordinal targets leave the network under-confident; fit a temperature on the training split
        # (never the validation split). Sound only while the model does not overfit the training data.
        train_proba = ImageModel.load(out_dir).predict_proba(train_split.images)
        calibration = {"temperature": metrics.fit_temperature(train_split.labels, train_proba),
                       "fitted_on": "training split, without augmentation (Guo et al., ICML 2017)",
                       "train_acc": metrics.accuracy(train_split.labels, train_proba)}
        card_stub["calibration"] = calibration
        (out_dir / "card.json").write_text(json.dumps(card_stub))
    val_metrics: dict[str, Any] = {}
    if val_split is not None and len(val_split.labels):
        proba = ImageModel.load(out_dir).predict_proba(val_split.images)
        val_metrics = evaluation_summary(val_split.labels, proba)
    card = build_card(task, cfg, size, len(train_split.labels), np.bincount(train_split.labels, minlength=n_classes),
                      val_metrics, seconds, data_name)
    card["calibration"] = calibration
    (out_dir / "card.json").write_text(json.dumps(card, indent=2))
    (out_dir / "card.md").write_text(card_markdown(card))
    return TrainResult(out_dir=out_dir, card=card, seconds=seconds)


def evaluation_summary(labels: np.ndarray, proba: np.ndarray, n_boot: int = 500) -> dict[str, Any]:
    cal = metrics.calibration(labels, proba)
    return {
        "n": len(labels),
        "auc": metrics.auc(labels, proba),
        "auc_ci95": metrics.bootstrap_ci(labels, proba, "auc", n_boot=n_boot),
        "acc": metrics.accuracy(labels, proba),
        "acc_ci95": metrics.bootstrap_ci(labels, proba, "acc", n_boot=n_boot),
        "ece": cal.ece,
        "brier": cal.brier,
        "reliability": cal.bins,
    }


def build_card(task: TaskSpec, cfg: TrainConfig, size: int, n_train: int, class_counts: np.ndarray,
               val: dict[str, Any], seconds: float, data_name: str) -> dict[str, Any]:
    return {
        "name": f"hygeia-{task.name}",
        "version": f"1.0.0+seed{cfg.seed}",
        "task": task.name,
        "modality": task.modality,
        "intended_use": task.intended_use,
        "not_intended_for": "Autonomous diagnosis or any use without a clinician reviewing the image; "
        f"images other than {task.modality}; {task.out_of_scope}",
        "input": {"name": "image", "layout": "NCHW float32 in [0, 1]", "channels": task.channels, "size": size},
        "output": {"name": "proba", "classes": list(task.classes), "ordinal": task.ordinal},
        "training_data": {
            "source": f"MedMNIST v2 {task.dataset} {data_name} (train split), CC BY 4.0; Yang et al., Sci Data 2023",
            "n": n_train, "class_counts": [int(c) for c in class_counts],
        },
        "training": {**cfg.__dict__, "seconds": round(seconds, 1), "device": "cpu"},
        "metrics": {"split": "val (held out from training, not used for model selection)", **val},
        "anchor": {"source": "MedMNIST v2 ResNet-18 (28 px), test split", "auc": task.anchor_auc,
                   "acc": task.anchor_acc},
        "limitations": [
            "Trained on 28x28 px MedMNIST images: fine detail of full-resolution images is lost.",
            "Single-source public data; performance on other scanners, sites and populations is unknown.",
            "Metrics are on the validation split; confidence intervals are 95 % percentile bootstrap.",
            "No fairness audit: the data carry no demographic attributes.",
        ],
        "notice": DECISION_SUPPORT_NOTICE,
    }


def card_markdown(card: dict[str, Any]) -> str:
    m = card["metrics"]
    lines = [f"# Model card: {card['name']} {card['version']}", "", f"**Task**: {card['task']} ({card['modality']})",
             f"**Intended use**: {card['intended_use']}", f"**Not intended for**: {card['not_intended_for']}", "",
             "## Data", f"{card['training_data']['source']}; n = {card['training_data']['n']}, class counts "
             f"{card['training_data']['class_counts']} for classes {card['output']['classes']}.", "",
             "## Metrics", f"Split: {m.get('split')}"]
    if "auc" in m:
        lines += [f"- AUC {m['auc']:.3f} (95 % CI {m['auc_ci95'][0]:.3f}–{m['auc_ci95'][1]:.3f})",
                  f"- ACC {m['acc']:.3f} (95 % CI {m['acc_ci95'][0]:.3f}–{m['acc_ci95'][1]:.3f}), n = {m['n']}",
                  f"- Calibration: ECE {m['ece']:.3f}, Brier {m['brier']:.3f}"]
        temperature = card.get("calibration", {}).get("temperature", 1.0)
        if temperature != 1.0:
            lines.append(f"- Temperature scaling T = {temperature:.3f} (fitted on the training split)")
    a = card["anchor"]
    lines += [f"- Anchor ({a['source']}): AUC {a['auc']}, ACC {a['acc']}", "", "## Limitations"]
    lines += [f"- {x}" for x in card["limitations"]]
    lines += ["", f"_{card['notice']}_", ""]
    return "\n".join(lines)
