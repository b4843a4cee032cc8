"""`hygeia synth`: generate the deterministic synthetic hospital."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import typer
from rich.table import Table

from hygeia.cli.common import console, fail, progress_bar


def register(app: typer.Typer) -> None:
    app.command(name="synth")(synth)


def synth(
    out: Path = typer.Option(..., "--out", "-o", help="Output directory (new, empty, or a previous synth output)."),
    patients: int = typer.Option(500, "--patients", "-n", min=1, help="Number of synthetic patients."),
    seed: int = typer.Option(0, "--seed", "-s", help="Random seed: the same seed gives byte-identical files."),
    start: str = typer.Option("2024-01-01", help="First day of the simulated period (YYYY-MM-DD, UTC)."),
    days: int = typer.Option(365, min=60, help="Length of the simulated period in days; its end is 'now'."),
    positions: Path | None = typer.Option(
        None,
        help="PharmCAT positions VCF (default: $HYGEIA_REFERENCE_DIR/pgx/kb/pharmcat-HEAD/pharmcat_positions.vcf).",
    ),
    no_vcf: bool = typer.Option(False, "--no-vcf", help="Skip the per-patient VCFs (no positions file needed)."),
) -> None:
    """Generate a **synthetic** hospital: FHIR R4 transaction bundles, HL7 v2 ADT messages, GRCh38 PGx
    VCFs, outcome and genotype ground truth, and wards/staff/theatre lists for operations.

    Nothing it writes is real data. Load the result with `hygeia ingest OUT/fhir`.
    """
    from hygeia.synth import SynthError, generate

    try:
        first_day = date.fromisoformat(start)
    except ValueError:
        fail(f"--start {start!r} is not a date", "use the form YYYY-MM-DD, e.g. --start 2024-01-01")
    began = datetime.now()
    try:
        with progress_bar() as bar:
            task = bar.add_task("generating patients", total=patients)
            summary = generate(
                out,
                patients,
                seed,
                start=first_day,
                days=days,
                positions_vcf=positions,
                genomes=not no_vcf,
                progress=lambda done, _total: bar.update(task, completed=done),
            )
    except SynthError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write to {out}: {exc}", "check the path and its permissions")
    elapsed = (datetime.now() - began).total_seconds()

    table = Table(title=f"Synthetic hospital in {out} (seed {seed}) — SYNTHETIC DATA, not real patients")
    table.add_column("item")
    table.add_column("count", justify="right")
    rows = [
        ("patients", summary.patients),
        ("FHIR bundles", summary.bundles),
        ("outpatient visits", summary.outpatient_visits),
        ("ED visits", summary.ed_visits),
        ("inpatient stays", summary.inpatient_stays),
        ("  of which ongoing at 'now'", summary.ongoing_stays),
        ("patients who deteriorated", summary.deteriorating_patients),
        ("ICU transfers", summary.icu_transfers),
        ("in-hospital deaths", f"{summary.in_hospital_deaths} ({summary.mortality_rate:.1%})"),
        ("30-day readmissions", f"{summary.readmissions_30d} ({summary.readmission_rate:.1%})"),
        ("ADT messages", summary.adt_messages),
        ("VCFs", summary.vcfs),
    ]
    rows += [(f"resources: {k}", v) for k, v in summary.resources.items()]
    for item, value in rows:
        table.add_row(item, str(value))
    console.print(table)
    console.print(f"done in {elapsed:.1f} s; see {out / 'README.md'}")
