"""`hygeia init-db`, `ingest`, `patients`, `patient`: the record spine from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer
from rich.table import Table

from hygeia.cli.common import console, fail, open_store, progress_bar
from hygeia.config import get_settings
from hygeia.records import IngestError, NotFound, PatientRecord
from hygeia.records.ingest import (
    SOURCE_FORMATS,
    detect_format,
    discover,
    ingest_bundles,
    ingest_paths,
    source_bundles,
)


def init_db() -> None:
    """Create the database (or upgrade it to the latest schema). Safe to run again."""
    settings = get_settings()
    open_store(settings)
    console.print(f"database ready: {settings.resolved_database_url()}")


def ingest(
    paths: list[Path] = typer.Argument(..., help="FHIR JSON bundles, NDJSON (.ndjson, .ndjson.gz), HL7 v2 "
                                              "ADT (.hl7) files, or directories of them."),
    continue_on_error: bool = typer.Option(False, "--continue-on-error",
                                           help="Ingest the good files; list the rejected ones in a report."),
    rejects: Path = typer.Option(Path("ingest-rejects.json"), help="Where --continue-on-error writes rejects."),
    source_format: str = typer.Option("auto", "--format", help="auto, fhir, mimic-iv (a MIMIC-IV directory with "
                                      "hosp/ and icu/) or physionet2012 (a directory of challenge stay files)."),
    limit: int = typer.Option(None, help="mimic-iv/physionet2012: only the first N patients/stays."),
    score_vitals: bool = typer.Option(True, "--score-vitals/--no-score-vitals",
                                      help="Score NEWS2 from each patient's current vital signs after their unit "
                                      "is written and raise early-warning alerts (historical data: nothing)."),
) -> None:
    """Load data into the store. Each file (or converted patient) is all-or-nothing; re-ingesting creates no
    duplicates."""
    store = open_store()
    formats = {detect_format(p) if source_format == "auto" else source_format for p in paths}
    if len(formats) > 1:
        fail(f"mixed source formats {sorted(formats)}", "ingest each kind of source in its own command")
    fmt = formats.pop()
    if fmt not in SOURCE_FORMATS:
        fail(f"unknown --format {fmt!r}", f"use one of: auto, {', '.join(SOURCE_FORMATS)}")
    try:
        if fmt == "fhir":
            files = discover(paths)
            if not files:
                fail("no ingestible files found", "expected .json, .ndjson, .ndjson.gz or .hl7 files")
            total: int = len(files)
        else:
            if len(paths) != 1:
                fail(f"--format {fmt} takes one directory")
            total, bundles = source_bundles(paths[0], fmt, limit)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc), "check the path and --format")
    with progress_bar() as bar:
        task = bar.add_task("ingesting", total=total)
        try:
            if fmt == "fhir":
                report = ingest_paths(store, files, continue_on_error=continue_on_error,
                                      progress=lambda _p: bar.advance(task), score_vitals=score_vitals)
            else:
                report = ingest_bundles(store, bundles, continue_on_error=continue_on_error,
                                        progress=lambda _p: bar.advance(task), score_vitals=score_vitals)
        except IngestError as exc:
            fail(f"rejected, nothing of this unit was written — {exc}",
                 "fix the input, or pass --continue-on-error to load the rest")
    table = Table(title=f"Ingested {report.units - report.rejected} of {report.units} files "
                        f"in {report.seconds:.1f} s")
    table.add_column("resource type")
    table.add_column("resources", justify="right")
    for rtype, n in sorted(report.by_type.items()):
        table.add_row(rtype, str(n))
    table.add_row("[bold]total", f"[bold]{report.resources}")
    console.print(table)
    console.print(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}")
    if report.scored:
        console.print(f"NEWS2 scored for {report.scored} patients with current vital signs; "
                      f"{report.alerts} alerts raised")
    if report.warnings:
        console.print(f"[yellow]{len(report.warnings)} warnings[/] (e.g. {report.warnings[0]})")
    if report.rejects:
        rejects.write_text(json.dumps(report.rejects, indent=2))
        console.print(f"[red]{report.rejected} files rejected[/]; details in {rejects}")
        raise typer.Exit(2)


def patients(limit: int = typer.Option(50, help="How many to list.")) -> None:
    """List patients in the store."""
    store = open_store()
    ids = store.patient_ids()
    table = Table(title=f"{len(ids)} patients")
    for col in ("id", "name", "sex", "born"):
        table.add_column(col)
    for pid in ids[:limit]:
        demo = PatientRecord.load(store, pid).demographics()
        table.add_row(pid, demo.name, demo.gender or "", str(demo.birth_date or ""))
    console.print(table)


def patient(patient_id: str = typer.Argument(..., help="The patient's id (see `hygeia patients`).")) -> None:
    """A readable summary of one patient's record."""
    store = open_store()
    try:
        record = PatientRecord.load(store, patient_id)
    except NotFound:
        fail(f"no patient with id {patient_id!r}", "list ids with `hygeia patients`")
    d = record.demographics()
    console.print(f"[bold]{d.name}[/]  {d.gender or ''}  born {d.birth_date or 'unknown'}  id {d.id}")
    if d.deceased:
        console.print(f"[red]deceased[/] {d.deceased if d.deceased is not True else ''}")
    enc = record.encounters()
    console.print(f"encounters: {len(enc)}" + (f" (last {enc['start'].iloc[-1]:%Y-%m-%d})" if len(enc) else ""))
    cond = record.conditions()
    active = cond[cond["clinical_status"] == "active"]["display"].dropna().tolist() if len(cond) else []
    console.print(f"active conditions: {', '.join(active[:10]) or 'none'}")
    meds = record.medications()
    current = meds[meds["status"] == "active"]["display"].dropna().tolist() if len(meds) else []
    console.print(f"active medications: {', '.join(current[:10]) or 'none'}")
    vit = record.vitals()
    if len(vit):
        latest = vit.dropna(subset=["time"]).groupby("name").tail(1)
        parts = [f"{name} {value:.1f} {unit or ''}".strip() if pd.notna(value) else f"{name} {text}"
                 for name, value, unit, text in zip(latest["name"], latest["value"], latest["unit"],
                                                    latest["value_str"], strict=True)]
        console.print("latest vitals: " + "; ".join(parts))
    console.print(f"labs: {len(record.labs())} results; allergies: {len(record.allergies())}")


def register(app: typer.Typer) -> None:
    app.command("init-db")(init_db)
    app.command()(ingest)
    app.command()(patients)
    app.command()(patient)
