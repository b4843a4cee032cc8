"""``hygeia risk``: train, evaluate, document and use risk models (with governance outputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import TaskID

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.cli.common import console, fail, open_store, progress_bar
from hygeia.cli.engine import ROUTE_ENGINE, ROUTE_SCHEDULER, use_engine
from hygeia.config import get_settings

if TYPE_CHECKING:
    from hygeia.findings import Finding
    from hygeia.risk.data import Dataset

risk_app = typer.Typer(
    help=("Risk prediction with governance: calibrated models, subgroup audits, explanations, decision curves "
          f"and model cards. {DECISION_SUPPORT_NOTICE}"),
    no_args_is_help=True,
)

DATA_HELP = ("Data for the task: the PhysioNet 2012 set folder (icu-mortality) or the Diabetes-130 CSV "
             "(readmission-30d). Same as --physionet2012 / --diabetes130. deterioration and ed-admission: --store.")


def _dataset(task: str, data: Path | None, physionet2012: Path | None, outcomes: Path | None,
             diabetes130: Path | None, store: bool, limit: int | None) -> Dataset:
    from hygeia.risk.data import DataError, diabetes130_dataset, physionet2012_dataset, physionet2012_features
    from hygeia.risk.tasks import get_task

    try:
        spec = get_task(task)
    except ValueError as exc:
        fail(str(exc), "run `hygeia risk train --help` for the task list")
    if spec.from_store:
        if not store:
            fail(f"{spec.name} is built from the patient records in the FHIR store", "pass --store (load a "
                 "synthetic hospital first: `hygeia synth --out DIR` then `hygeia ingest DIR/fhir`)")
        from hygeia.risk.data import store_dataset

        try:
            with progress_bar() as bar:
                job = bar.add_task("patient records", total=None)
                return store_dataset(spec.name, open_store(init=False), progress=lambda done, total: bar.update(
                    job, completed=done, total=total), source=f"FHIR store {get_settings().resolved_database_url()}")
        except (DataError, ValueError) as exc:
            fail(str(exc), "check that the store holds inpatient stays / ED visits with vital signs")
    if store:
        fail(f"training/evaluating {spec.name} from the FHIR store needs outcome labels that the store does "
             "not hold", "use --physionet2012 DIR --outcomes FILE or --diabetes130 CSV")
    try:
        if spec.name == "icu-mortality":
            folder = physionet2012 or data
            if folder is None:
                fail("icu-mortality needs the PhysioNet 2012 stays", "pass --physionet2012 DIR --outcomes FILE")
            if outcomes is None:
                letter = folder.name.split("-")[-1]
                outcomes = folder.parent / f"Outcomes-{letter}.txt"
            if not outcomes.exists():
                fail(f"outcomes file not found: {outcomes}", "pass --outcomes Outcomes-a.txt")
            from hygeia.risk.data import read_outcomes

            with progress_bar() as bar:
                job = bar.add_task("features (cached after the first run)", total=None)

                def step(done: int, total: int) -> None:
                    bar.update(job, completed=done, total=total)

                table = physionet2012_features(folder, get_settings().data_dir / "cache" / "risk", limit=limit,
                                               n_jobs=2, progress=step)
            return physionet2012_dataset(table, read_outcomes(outcomes), str(folder))
        csv = diabetes130 or data
        if csv is None:
            fail("readmission-30d needs the Diabetes-130 table", "pass --diabetes130 diabetic_data.csv.gz")
        return diabetes130_dataset(csv)
    except (DataError, ValueError) as exc:
        fail(str(exc), "check the data path and format")


@risk_app.command("train")
def train_cmd(
    task: str = typer.Argument(..., help="Task: icu-mortality, readmission-30d, deterioration or ed-admission."),
    out: Path = typer.Option(..., "--out", help="Registry folder; a new version sub-folder is written there."),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    physionet2012: Path | None = typer.Option(None, "--physionet2012", help="PhysioNet 2012 set folder (set-a)."),
    outcomes: Path | None = typer.Option(None, "--outcomes", help="PhysioNet 2012 Outcomes-a.txt."),
    diabetes130: Path | None = typer.Option(None, "--diabetes130", help="Diabetes-130 diabetic_data.csv(.gz)."),
    store: bool = typer.Option(False, "--store", help="Patients from the FHIR store (deterioration, ed-admission)."),
    model: str = typer.Option("lightgbm", "--model", help="lightgbm or logistic."),
    folds: int = typer.Option(5, "--folds", min=2, max=10, help="Cross-validation folds."),
    limit: int | None = typer.Option(None, "--limit", min=50, help="Use only the first N stays (quick runs)."),
) -> None:
    """Train a calibrated model for TASK, cross-validate it, audit it and write a versioned model folder."""
    from hygeia.risk.training import save, train

    dataset = _dataset(task, data, physionet2012, outcomes, diabetes130, store, limit)
    with progress_bar() as bar:
        jobs: dict[str, TaskID] = {}

        def step(stage: str, done: int, total: int) -> None:
            if stage not in jobs:
                jobs[stage] = bar.add_task(stage, total=total)
            bar.update(jobs[stage], completed=done, total=total)

        try:
            trained = train(task, dataset, model, folds=folds, progress=step)
        except ValueError as exc:
            fail(str(exc), "check --model and the data")
    folder = save(trained, out)
    metrics = trained.evaluation.metrics
    console.print(f"[bold]{trained.version}[/] written to {folder}")
    console.print(f"cross-validated AUROC {metrics['auroc'].text()}, AUPRC {metrics['auprc'].text()}, "
                  f"Brier {metrics['brier'].text()} (n={trained.evaluation.n}, events={trained.evaluation.events})")
    for flag in trained.audit.flags:
        console.print(f"[yellow]audit flag:[/] {flag}")


@risk_app.command("evaluate")
def evaluate_cmd(
    model_dir: Path = typer.Argument(..., help="Model folder (a version, or a registry with LATEST)."),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    physionet2012: Path | None = typer.Option(None, "--physionet2012", help="PhysioNet 2012 set folder."),
    outcomes: Path | None = typer.Option(None, "--outcomes", help="PhysioNet 2012 Outcomes file for that set."),
    diabetes130: Path | None = typer.Option(None, "--diabetes130", help="Diabetes-130 CSV (held-out patients)."),
    store: bool = typer.Option(False, "--store", help="Patients from the FHIR store (deterioration, ed-admission)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (auroc, auprc, brier, n, events...)."),
    card_out: Path | None = typer.Option(None, "--card", help="Also write the evaluation's model card (.md/.html)."),
) -> None:
    """Evaluate a trained model on new data: metrics with CIs, calibration, decision curve, subgroup audit."""
    from hygeia.governance.evaluation import card_html, card_markdown
    from hygeia.risk.training import RegistryError, evaluate_on, load

    try:
        trained = load(model_dir)
    except RegistryError as exc:
        fail(str(exc))
    dataset = _dataset(trained.task.name, data, physionet2012, outcomes, diabetes130, store, None)
    try:
        result = evaluate_on(trained, dataset)
    except ValueError as exc:
        fail(str(exc), "the data must be for the model's task")
    doc = result.evaluation.to_dict()
    doc.pop("calibration_curve")
    doc.pop("decision_curve")
    doc.update({"model": trained.version, "task": trained.task.name, "audit_passed": result.audit.passed,
                "audit_flags": result.audit.flags})
    if card_out is not None:
        card_out.write_text(card_html(result.card) if card_out.suffix == ".html" else card_markdown(result.card))
    if as_json:
        typer.echo(json.dumps({k: (None if isinstance(v, float) and v != v else v) for k, v in doc.items()}))
        return
    for key in ("auroc", "auprc", "brier", "ece"):
        est = result.evaluation.metrics[key]
        console.print(f"{key:6} {est.text()}")
    console.print(f"n={doc['n']} events={doc['events']}")
    for flag in result.audit.flags:
        console.print(f"[yellow]audit flag:[/] {flag}")


@risk_app.command("card")
def card_cmd(
    model_dir: Path = typer.Argument(..., help="Model folder (a version, or a registry with LATEST)."),
    html: bool = typer.Option(False, "--html", help="Print the path of the HTML card instead of the Markdown."),
) -> None:
    """Print a model's card (Markdown), or the path of its self-contained HTML card."""
    from hygeia.risk.training import RegistryError, resolve

    try:
        folder = resolve(model_dir)
    except RegistryError as exc:
        fail(str(exc))
    path = folder / ("card.html" if html else "card.md")
    if not path.exists():
        fail(f"{path} is missing", "retrain the model to regenerate its card")
    typer.echo(str(path) if html else path.read_text())


@risk_app.command("score")
def score_cmd(
    model_dir: Path = typer.Argument(..., help="Model folder (a version, or a registry with LATEST)."),
    patient: str | None = typer.Option(None, "--patient", help="Patient id in the FHIR store."),
    stay: Path | None = typer.Option(None, "--stay", help="Score a PhysioNet 2012 stay file instead of the store."),
    as_json: bool = typer.Option(False, "--json", help="Print the Finding and its FHIR RiskAssessment as JSON."),
    engine: str | None = ROUTE_ENGINE,
    scheduler: str | None = ROUTE_SCHEDULER,
) -> None:
    """Score one patient: probability, band, top drivers, as a Finding (FHIR RiskAssessment). With --engine
    (local or dask): --patient, or without it every patient of the store, each printed as one patient is."""
    from hygeia.records.physionet2012 import stay_bundle
    from hygeia.records.record import NotFound, PatientRecord
    from hygeia.risk.scoring import score_record
    from hygeia.risk.training import RegistryError, load

    try:
        trained = load(model_dir)
    except RegistryError as exc:
        fail(str(exc))
    if not trained.task.from_record:
        fail(f"task {trained.task.name} builds features from a table, not from a patient record",
             "use `hygeia risk evaluate` with the table")
    if use_engine(engine, scheduler):
        from hygeia.cli.engine import risk_findings

        if stay is not None:
            fail("--engine scores patients of the store, not a --stay file", "leave out --engine or --stay")
        for each in risk_findings(model_dir, patient, engine or "local", scheduler):
            _show_finding(each, trained.version, as_json)
        return
    try:
        if stay is not None:
            record = PatientRecord.from_resources([stay_bundle(stay)])
        elif patient is not None:
            record = PatientRecord.load(open_store(init=False), patient)
        else:
            fail("say whom to score", "pass --patient ID (FHIR store) or --stay FILE")
        finding = score_record(trained, record)
    except NotFound as exc:
        fail(str(exc), "list patients with `hygeia records` commands, or ingest data first")
    except ValueError as exc:
        fail(str(exc))
    _show_finding(finding, trained.version, as_json)


def _show_finding(finding: Finding, version: str, as_json: bool) -> None:
    from hygeia.findings import to_fhir

    if as_json:
        typer.echo(json.dumps({"finding": finding.model_dump(mode="json"), "fhir": to_fhir(finding)}, default=str))
        return
    console.print(f"[bold]{finding.summary}[/]")
    for d in finding.explanation:
        console.print(f"  {d.description}")
    console.print(f"[dim]{version}. {DECISION_SUPPORT_NOTICE}[/]")


def register(app: typer.Typer) -> None:
    app.add_typer(risk_app, name="risk")
