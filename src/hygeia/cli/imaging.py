"""``hygeia imaging …`` and ``hygeia pathology …``: image models, explanations, radiomics, digital pathology."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import typer

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.cli.common import console, fail, progress_bar

imaging_app = typer.Typer(help=f"Medical image models (ONNX), explanations and radiomics. {DECISION_SUPPORT_NOTICE}",
                          no_args_is_help=True)
pathology_app = typer.Typer(help=f"Digital pathology: stains, IHC, nuclei, whole slides. {DECISION_SUPPORT_NOTICE}",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(imaging_app, name="imaging")
    app.add_typer(pathology_app, name="pathology")


def _emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=float))
    else:
        for key, value in data.items():
            console.print(f"[bold]{key}[/]: {value}")


def _load_model(model: str) -> Any:
    from hygeia.imaging.model import ImageModel, ModelError

    try:
        return ImageModel.load(model)
    except ModelError as exc:
        fail(str(exc), "use a shipped name (pneumonia, breast, retina) or a folder made by `hygeia imaging train`")


def _load_split(npz: Path, split: str) -> Any:
    from hygeia.imaging.npz_data import DataError, load_split

    try:
        return load_split(npz, split)
    except DataError as exc:
        fail(str(exc), "expected a MedMNIST .npz with {split}_images and {split}_labels")


@imaging_app.command("train")
def train_cmd(
    task: str = typer.Argument(..., help="pneumonia, breast or retina."),
    data: Path = typer.Option(..., "--data", help="MedMNIST .npz with train_ (and val_) images/labels."),
    out: Path = typer.Option(..., "--out", help="Model folder to write (model.onnx, card.json, card.md)."),
    epochs: int = typer.Option(0, help="Epochs (0: the task's default)."),
    seed: int = typer.Option(0, help="Random seed (training is reproducible for a given seed and thread count)."),
    ensemble: int = typer.Option(0, min=0, max=9, help="Ensemble members (0: the task's default, 1)."),
) -> None:
    """Train a small CNN on CPU with torch, export it to ONNX and write its model card."""
    import dataclasses

    from hygeia.imaging.tasks import get_task

    try:
        spec = get_task(task)
    except ValueError as exc:
        fail(str(exc))
    try:
        from hygeia.imaging.train import DEFAULT_CONFIGS, require_torch, train

        require_torch()
    except RuntimeError as exc:
        fail(str(exc), "pip install 'hygeia[train]'")
    train_split = _load_split(data, "train")
    val_split = _load_split(data, "val") if "val_images" in np.load(data).files else None
    cfg = dataclasses.replace(DEFAULT_CONFIGS[spec.name], seed=seed)
    if epochs:
        cfg = dataclasses.replace(cfg, epochs=epochs)
    if ensemble:
        cfg = dataclasses.replace(cfg, ensemble=ensemble)
    with progress_bar() as bar:
        job = bar.add_task(f"training {spec.name}", total=cfg.epochs * cfg.ensemble)

        def report(epoch: int, total: int, info: dict[str, float]) -> None:
            bar.update(job, completed=epoch, description=f"training {spec.name} loss {info['loss']:.3f}")

        result = train(spec, train_split, val_split, out, cfg, progress=report, data_name=data.name)
    metrics = {k: v for k, v in result.card["metrics"].items() if k != "reliability"}
    _emit({"out": str(out), "seconds": round(result.seconds, 1), **metrics}, as_json=False)


@imaging_app.command("evaluate")
def evaluate_cmd(
    model: str = typer.Argument(..., help="Model folder or shipped name: pneumonia, breast, retina."),
    npz: Path = typer.Option(..., "--npz", help="MedMNIST-format .npz file."),
    split: str = typer.Option("test", help="Split inside the .npz (train, val, test)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    bootstrap: int = typer.Option(500, help="Bootstrap resamples for the 95 % CIs (0: none)."),
) -> None:
    """Evaluate a model on a MedMNIST split: AUC (macro one-vs-rest for >2 classes), accuracy, n."""
    from hygeia.imaging.metrics import accuracy, auc, bootstrap_ci, calibration

    m = _load_model(model)
    data = _load_split(npz, split)
    if data.labels.size and data.labels.max() >= len(m.task.classes):
        fail(f"{npz}[{split}]: labels up to {data.labels.max()} but model {m.task.name} has {len(m.task.classes)} "
             "classes", "is this the right data set for this model?")
    proba = m.predict_proba(data.images)
    result: dict[str, Any] = {"model": m.task.name, "version": m.version, "split": split, "n": len(data.labels),
                              "auc": auc(data.labels, proba), "acc": accuracy(data.labels, proba)}
    if bootstrap:
        result["auc_ci95"] = bootstrap_ci(data.labels, proba, "auc", n_boot=bootstrap)
        result["acc_ci95"] = bootstrap_ci(data.labels, proba, "acc", n_boot=bootstrap)
    cal = calibration(data.labels, proba)
    result.update({"ece": cal.ece, "brier": cal.brier, "notice": DECISION_SUPPORT_NOTICE})
    _emit(result, as_json)


def _read_for_model(path: Path, size: int, channels: int) -> tuple[np.ndarray, Any]:
    from skimage.transform import resize

    from hygeia.imaging.io import ImageInputError, read_image

    try:
        img = read_image(path)
    except ImageInputError as exc:
        fail(str(exc))
    disp = img.display()
    if disp.ndim == 3 and disp.shape[-1] == 3 and channels == 1:
        disp = (disp @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    elif disp.ndim == 3 and disp.shape[-1] != 3:
        disp = disp[disp.shape[0] // 2]  # a volume or multi-frame: middle slice/frame
    if disp.ndim == 2 and channels == 3:
        disp = np.repeat(disp[..., None], 3, axis=-1)
    out = resize(disp, (size, size, *disp.shape[2:]), order=1, anti_aliasing=True, preserve_range=True)
    return np.asarray(out).round().astype(np.uint8), img


@imaging_app.command("predict")
def predict_cmd(
    model: str = typer.Argument(..., help="Model folder or shipped name."),
    images: list[Path] = typer.Argument(..., help="DICOM, PNG, JPEG, NIfTI or NRRD files."),
    patient: str = typer.Option("unknown", help="Patient id for the Finding."),
    as_json: bool = typer.Option(False, "--json", help="Print the Findings as JSON."),
) -> None:
    """Classify images; prints one Finding (with FHIR DiagnosticReport + ImagingStudy) per image."""
    from hygeia.imaging.findings import prediction_finding

    m = _load_model(model)
    out = []
    for path in images:
        x, img = _read_for_model(path, m.size, m.task.channels)
        proba = m.predict_proba(x[None])[0]
        finding = prediction_finding(m.task, proba, patient, m.version, str(path),
                                     study_uid=img.metadata.get("study_uid") or None)
        out.append(finding.model_dump(mode="json"))
        if not as_json:
            console.print(f"{path.name}: {finding.summary}")
    if as_json:
        typer.echo(json.dumps(out, indent=2))


@imaging_app.command("explain")
def explain_cmd(
    model: str = typer.Argument(..., help="Model folder or shipped name."),
    image: Path = typer.Argument(..., help="Image file (DICOM, PNG, JPEG…)."),
    out: Path = typer.Option(..., "--out", help="PNG to write: the image with the saliency heat map overlaid."),
    size: int = typer.Option(256, help="Side of the output PNG in pixels."),
) -> None:
    """Occlusion saliency: which regions most raise the predicted class's probability (red = most)."""
    from PIL import Image

    from hygeia.imaging.explain import occlusion_saliency, overlay

    m = _load_model(model)
    x, _ = _read_for_model(image, m.size, m.task.channels)
    heat, cls = occlusion_saliency(m.predict_proba, x)
    Image.fromarray(overlay(x, heat, size=size)).save(out)
    console.print(f"{image.name}: predicted {m.task.classes[cls]}; saliency overlay written to {out}")


@imaging_app.command("second-opinion")
def second_opinion_cmd(
    model: str = typer.Argument(..., help="Model folder or shipped name."),
    npz: Path = typer.Option(..., "--npz", help="MedMNIST .npz whose labels are the reader's reads."),
    split: str = typer.Option("val", help="Split in the .npz."),
    threshold: float = typer.Option(0.9, min=0.5, max=1.0, help="Model confidence needed to flag a disagreement."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Flag cases where the model confidently disagrees with the reader's label, for re-review."""
    from hygeia.imaging.explain import second_opinion

    m = _load_model(model)
    data = _load_split(npz, split)
    flags = second_opinion(m.predict_proba(data.images), data.labels, threshold, m.task.ordinal, m.task.classes)
    rows = [f.__dict__ for f in flags]
    if as_json:
        typer.echo(json.dumps({"n": len(data.labels), "flagged": rows, "notice": DECISION_SUPPORT_NOTICE}, indent=2))
    else:
        console.print(f"{len(flags)} of {len(data.labels)} cases flagged for re-review")
        for f in flags[:50]:
            console.print(f"  #{f.index}: {f.reason}")


@imaging_app.command("radiomics")
def radiomics_cmd(
    image: Path = typer.Argument(..., help="Volume (NRRD, NIfTI)."),
    mask: Path = typer.Argument(..., help="Label volume of the same shape."),
    label: int = typer.Option(1, help="Label value of the region."),
    bin_width: float = typer.Option(25.0, help="Bin width for entropy/uniformity."),
) -> None:
    """First-order and 3-D shape radiomics features (pyradiomics/IBSI definitions) as JSON."""
    from hygeia.imaging.io import ImageInputError, read_image
    from hygeia.imaging.radiomics import first_order, shape_3d

    try:
        img, msk = read_image(image), read_image(mask)
        spacing = msk.spacing or (1.0, 1.0, 1.0)
        result = {"firstorder": first_order(img.pixels, msk.pixels.round().astype(int), spacing, label, bin_width),
                  "shape": shape_3d(msk.pixels.round().astype(int), (spacing[0], spacing[1], spacing[2]), label)}
    except (ImageInputError, ValueError, IndexError) as exc:
        fail(str(exc))
    typer.echo(json.dumps(result, indent=2))


def _read_rgb(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (FileNotFoundError, UnidentifiedImageError, OSError) as exc:
        fail(f"{path}: not a readable RGB image ({exc})")


@pathology_app.command("ihc")
def ihc_cmd(
    image: Path = typer.Argument(..., help="RGB haematoxylin-DAB image (PNG, JPEG, TIFF)."),
    marker: str = typer.Option("Ki-67", help="Marker name for the report."),
    dab_threshold: float = typer.Option(0.2, help="DAB optical density for positivity."),
    patient: str = typer.Option("unknown", help="Patient id for the Finding."),
    as_json: bool = typer.Option(False, "--json", help="Print the Finding as JSON."),
) -> None:
    """DAB-positive area fraction and positive-nucleus index (Ki-67-style)."""
    from hygeia.pathology import ihc_finding, quantify_ihc

    finding = ihc_finding(quantify_ihc(_read_rgb(image), dab_threshold), patient, marker)
    typer.echo(finding.model_dump_json(indent=2) if as_json else finding.summary)


@pathology_app.command("nuclei")
def nuclei_cmd(
    image: Path = typer.Argument(..., help="Nuclei image: fluorescence (bright nuclei) TIFF/PNG."),
    truth: Path | None = typer.Option(None, help="Ground-truth label image to score against (F1 at IoU 0.5)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Segment and count nuclei; with --truth, report precision/recall/F1 at IoU 0.5."""
    import tifffile

    from hygeia.pathology import match_instances, morphology_table, segment_nuclei

    def read(path: Path) -> np.ndarray:
        try:
            return np.asarray(tifffile.imread(path)) if path.suffix.lower() in (".tif", ".tiff") else _read_rgb(path)
        except (FileNotFoundError, tifffile.TiffFileError, ValueError) as exc:
            fail(f"{path}: cannot read ({exc})")

    img = read(image)
    labels = segment_nuclei(img)
    rows = morphology_table(labels, img)
    result: dict[str, Any] = {"n_nuclei": int(labels.max()), "n_atypical": sum(r.atypical for r in rows)}
    if truth is not None:
        true_labels = read(truth)
        if true_labels.shape != labels.shape:
            fail(f"{truth}: shape {true_labels.shape} differs from the image's {labels.shape}")
        result["match"] = match_instances(true_labels, labels).__dict__
    _emit(result, as_json)


@pathology_app.command("normalise")
def normalise_cmd(
    image: Path = typer.Argument(..., help="H&E RGB image."),
    target: Path = typer.Option(..., "--target", help="Reference H&E image whose stain appearance to match."),
    out: Path = typer.Option(..., "--out", help="Normalised image to write (PNG)."),
) -> None:
    """Macenko stain normalisation of IMAGE to the stains of TARGET."""
    from PIL import Image

    from hygeia.pathology import macenko_normalise, macenko_stains

    try:
        result = macenko_normalise(_read_rgb(image), macenko_stains(_read_rgb(target)))
    except ValueError as exc:
        fail(str(exc))
    Image.fromarray(result).save(out)
    console.print(f"written {out}")


@pathology_app.command("slide")
def slide_cmd(
    slide: Path = typer.Argument(..., help="Whole-slide image (.svs, pyramidal .tiff)."),
    level: int = typer.Option(0, help="Pyramid level to analyse (0 = full resolution)."),
    tile_size: int = typer.Option(512, help="Tile side in pixels."),
    min_tissue: float = typer.Option(0.25, help="Skip tiles with less tissue than this fraction."),
    patient: str = typer.Option("unknown", help="Patient id for the Finding."),
    as_json: bool = typer.Option(False, "--json", help="Print the Finding as JSON."),
) -> None:
    """Tile a slide, skip background, count nuclei and atypical nuclei per tile; slide-level report."""
    from hygeia.pathology import analyse_slide, open_slide, slide_finding
    from hygeia.pathology.wsi import SlideError, slide_mpp

    try:
        reader = open_slide(slide)
        with progress_bar() as bar:
            job = bar.add_task("tiles", total=None)
            report = analyse_slide(reader, level, tile_size, min_tissue, slide_mpp(reader),
                                   progress=lambda done, total: bar.update(job, completed=done, total=total))
    except SlideError as exc:
        fail(str(exc))
    finding = slide_finding(report, patient, slide.name)
    typer.echo(finding.model_dump_json(indent=2) if as_json else finding.summary)
