"""`hygeia pgx …`: knowledge base import, match, phenotype and report (PharmCAT's stages)."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import typer

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.cli.engine import ROUTE_ENGINE, ROUTE_SCHEDULER, use_engine

sub = typer.Typer(help="Pharmacogenomics: VCF → diplotypes → phenotypes → CPIC/DPWG recommendations. "
                  + DECISION_SUPPORT_NOTICE, no_args_is_help=True)
kb_app = typer.Typer(help="The PGx knowledge base (PharmCAT definitions, CPIC/DPWG guidelines).", no_args_is_help=True)
sub.add_typer(kb_app, name="kb")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def _load(kb_dir: Path | None):  # type: ignore[no-untyped-def]
    from hygeia.pgx.kb import KbError, default_kb_dir, load_kb

    try:
        return load_kb(kb_dir or default_kb_dir())
    except KbError as exc:
        _fail(str(exc))


_KB_OPT = typer.Option(None, "--kb", help="KB directory (default: $HYGEIA_REFERENCE_DIR/pgx/kb or the imported copy).")


@kb_app.command("import")
def kb_import(src: str = typer.Argument(..., help="Directory, .tar.gz/.zip file, or http(s) URL of one."),
              version: str = typer.Option(None, help="Version label (default: from SOURCE_COMMITS.txt).")) -> None:
    """Copy a KB into Hygeia's data directory (data_dir/pgx-kb/VERSION) and check it loads."""
    from hygeia.config import get_settings
    from hygeia.pgx.kb import KbError, load_kb, read_versions

    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp) / "kb"
        try:
            if src.startswith(("http://", "https://")):
                with urllib.request.urlopen(src, timeout=60) as resp:
                    payload = resp.read()
                _unpack(io.BytesIO(payload), src, staging)
            elif Path(src).is_dir():
                shutil.copytree(src, staging)
            elif Path(src).is_file():
                with open(src, "rb") as fh:
                    _unpack(io.BytesIO(fh.read()), src, staging)
            else:
                _fail(f"{src}: not a directory, archive or URL")
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            _fail(f"cannot import {src}: {exc}")
        roots = [p for p in staging.iterdir()] if staging.is_dir() else []
        root = roots[0] if len(roots) == 1 and roots[0].is_dir() and not (staging / "SOURCE_COMMITS.txt").exists() \
            else staging
        try:
            kb = load_kb(root)
        except KbError as exc:
            _fail(f"imported data is not a usable KB: {exc}")
        label = version or "-".join(v[:8] for v in read_versions(root).values()) or "unversioned"
        dest = get_settings().data_dir / "pgx-kb" / label
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(root, dest)
    typer.echo(f"imported {len(kb.definitions)} gene definitions, {len(kb.guidelines)} guidelines → {dest}")


def _unpack(data: io.BytesIO, name: str, dest: Path) -> None:
    dest.mkdir(parents=True)
    if name.endswith(".zip"):
        with zipfile.ZipFile(data) as zf:
            for member in zf.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    _fail(f"{name}: unsafe path {member} in archive")
            zf.extractall(dest)
    else:
        with tarfile.open(fileobj=data, mode="r:*") as tf:
            tf.extractall(dest, filter="data")


@kb_app.command("show")
def kb_show(kb_dir: Path = _KB_OPT) -> None:
    """Show what the KB holds and its versions."""
    kb = _load(kb_dir)
    typer.echo(f"KB at {kb.root}")
    for k, v in kb.versions.items():
        typer.echo(f"  {k}: {v}")
    typer.echo(f"  genes: {', '.join(sorted(kb.definitions))}")
    typer.echo(f"  guidelines: {len(kb.guidelines)}; phenotype tables: {len(kb.phenotypes)}")


def _match(vcf: Path, kb_dir: Path | None, all_candidates: bool, find_combinations: bool, outside: Path | None):  # type: ignore[no-untyped-def]
    from hygeia.pgx.matcher import MatchOptions
    from hygeia.pgx.pipeline import OutsideCallError, match_vcf, read_outside_calls
    from hygeia.pgx.vcf import VcfError

    kb = _load(kb_dir)
    try:
        oc = read_outside_calls(outside) if outside else None
        opts = MatchOptions(top_candidates_only=not all_candidates, find_combinations=find_combinations)
        return kb, match_vcf(kb, vcf, opts, oc)
    except (VcfError, OutsideCallError) as exc:
        _fail(str(exc))


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}", err=True)


@sub.command("match")
def match_cmd(
    vcf: Path = typer.Argument(..., help="VCF (plain or bgzip), GRCh38."),
    fmt: str = typer.Option("json", "--format", help="Output format (json)."),
    all_candidates: bool = typer.Option(False, "--all-candidates", help="Every candidate diplotype, not only the top."),
    find_combinations: bool = typer.Option(False, "--find-combinations", help="Combination and partial alleles."),
    outside_calls: Path = typer.Option(None, "--outside-calls", help="PharmCAT outside-call TSV (gene, diplotype…)."),
    output: Path = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
    kb_dir: Path = _KB_OPT,
    engine: str | None = ROUTE_ENGINE,
    scheduler: str | None = ROUTE_SCHEDULER,
) -> None:
    """Call diplotypes for every gene of every sample (the matcher stage); writes a match-stage JSON file
    that `hygeia pgx phenotype` and `hygeia pgx report` can be re-run from. With --engine the samples are
    matched in partitions (local, or on Dask workers), with the same output."""
    from hygeia.pgx.pipeline import stage_document

    if fmt != "json":
        _fail("--format must be json")
    if use_engine(engine, scheduler):
        from hygeia.cli.engine import InputError, pgx_match_samples

        try:
            kb, samples = pgx_match_samples(
                vcf, kb_dir, all_candidates, find_combinations, outside_calls, engine or "local", scheduler
            )
        except InputError as exc:
            _fail(str(exc))
    else:
        kb, results = _match(vcf, kb_dir, all_candidates, find_combinations, outside_calls)
        samples = [r.to_json() for r in results]
    doc = stage_document("match", kb.versions, DECISION_SUPPORT_NOTICE, samples)
    _write(json.dumps(doc, indent=1), output)


def _stage_input(path: Path, expected: tuple[str, ...]) -> dict[str, Any] | None:
    """The validated stage document at ``path``, or None when it is a VCF (detected by content)."""
    from hygeia.pgx.pipeline import StageFileError, looks_like_stage_file, parse_stage

    try:
        with open(path, "rb") as fh:
            head = fh.read(64)
        if not looks_like_stage_file(head):
            return None
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"{path}: file not found (give a VCF or a stage JSON file)")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{path}: cannot read ({exc})")
    try:
        return parse_stage(text, str(path), expected)
    except StageFileError as exc:
        _fail(str(exc))
    return None  # unreachable: _fail exits


def _check_kb(doc: dict[str, Any], path: Path, kb: Any) -> None:
    if doc.get("kb_versions") != kb.versions:
        typer.echo(f"warning: {path} was made with KB {doc.get('kb_versions')}, this KB is {kb.versions}", err=True)


Phenotypes = list[tuple[str, dict[str, Any]]]


def _phenotypes(src: Path, kb_dir: Path | None, outside: Path | None, expected: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """(kb, [(sample, phenotypes per gene)]) from a VCF, a match-stage or (when expected) a phenotype-stage file."""
    from rich.progress import track

    from hygeia.pgx.phenotype import phenotype_sample
    from hygeia.pgx.pipeline import (
        OutsideCallError,
        StageFileError,
        apply_outside_calls,
        match_results_from_stage,
        phenotypes_from_stage,
        read_outside_calls,
    )

    doc = _stage_input(src, expected)
    if doc is None:
        kb, results = _match(src, kb_dir, False, False, outside)
    else:
        kb = _load(kb_dir)
        _check_kb(doc, src, kb)
        try:
            if doc["stage"] == "phenotype":
                if outside is not None:
                    _fail("--outside-calls applies to a VCF or match-stage input, not a phenotype-stage file")
                return kb, phenotypes_from_stage(doc, str(src))
            results = match_results_from_stage(doc, str(src))
            if outside is not None:
                oc = read_outside_calls(outside)
                results = [apply_outside_calls(r, oc) for r in results]
        except (StageFileError, OutsideCallError) as exc:
            _fail(str(exc))
    out: Phenotypes = [(r.sample, phenotype_sample(kb, r))
                       for r in track(results, description="phenotype", disable=len(results) < 20)]
    return kb, out


_INPUT_HELP = "VCF (plain or bgzip, GRCh38) or a match-stage JSON from `hygeia pgx match` (detected by content)."


@sub.command("phenotype")
def phenotype_cmd(
    src: Path = typer.Argument(..., metavar="INPUT", help=_INPUT_HELP),
    outside_calls: Path = typer.Option(None, "--outside-calls", help="PharmCAT outside-call TSV."),
    output: Path = typer.Option(None, "-o", "--output"),
    kb_dir: Path = _KB_OPT,
) -> None:
    """Function, activity score and phenotype per gene; writes a phenotype-stage JSON file that
    `hygeia pgx report` can be re-run from."""
    from hygeia.pgx.pipeline import stage_document

    kb, phs = _phenotypes(src, kb_dir, outside_calls, ("match",))
    samples = [{"sample": s, "genes": {g: p.to_json() for g, p in sorted(ph.items())}} for s, ph in phs]
    _write(json.dumps(stage_document("phenotype", kb.versions, DECISION_SUPPORT_NOTICE, samples), indent=1), output)


@sub.command("report")
def report_cmd(
    src: Path = typer.Argument(..., metavar="INPUT",
                               help="VCF (plain or bgzip, GRCh38), or a match- or phenotype-stage JSON file."),
    fmt: str = typer.Option("html", "--format", help="json, html or tsv."),
    drug: str = typer.Option(None, "--drug", help="Only this drug."),
    outside_calls: Path = typer.Option(None, "--outside-calls", help="PharmCAT outside-call TSV."),
    output: Path = typer.Option(None, "-o", "--output"),
    kb_dir: Path = _KB_OPT,
) -> None:
    """CPIC/DPWG recommendations per drug, with sources and KB versions (JSON, HTML or TSV)."""
    from hygeia.pgx.pipeline import STAGE_SCHEMA_VERSION
    from hygeia.pgx.recommend import recommend, report_html, report_json, report_tsv

    if fmt not in ("json", "html", "tsv"):
        _fail("--format must be json, html or tsv")
    kb, phs = _phenotypes(src, kb_dir, outside_calls, ("match", "phenotype"))
    reps = [report_json(s, kb, ph, recommend(kb, ph, drug)) for s, ph in phs]
    if fmt == "json":
        text = json.dumps({"stage": "report", "schemaVersion": STAGE_SCHEMA_VERSION, "kb_versions": kb.versions,
                           "notice": DECISION_SUPPORT_NOTICE, "reports": reps}, indent=1)
    elif fmt == "tsv":
        text = report_tsv(reps)
    else:
        text = report_html(reps, kb)
    _write(text, output)


sub.command("recommend", help="Alias of `report`.")(report_cmd)


@sub.command("call-patient")
def call_patient_cmd(
    patient_id: str = typer.Argument(..., help="Patient id in the configured store (ingest the patient first)."),
    vcf: Path = typer.Argument(..., help="The patient's VCF (plain or bgzip), GRCh38."),
    sample: str = typer.Option(None, "--sample", help="Which sample of a multi-sample VCF is this patient."),
    outside_calls: Path = typer.Option(None, "--outside-calls", help="PharmCAT outside-call TSV (e.g. CYP2D6)."),
    kb_dir: Path = _KB_OPT,
) -> None:
    """Genotype a patient: store genotype/phenotype Observations (HL7 Genomics Reporting IG) in the configured
    store, all or nothing, and list the actionable drug–gene findings."""
    from hygeia.cli.common import fail, open_store
    from hygeia.pgx.patient import PatientCallError, call_patient
    from hygeia.pgx.pipeline import OutsideCallError, read_outside_calls
    from hygeia.pgx.vcf import VcfError
    from hygeia.records.store import StoreError

    if not vcf.exists():
        fail(f"{vcf}: file not found", "give the path of the patient's VCF")
    kb = _load(kb_dir)
    try:
        outside = read_outside_calls(outside_calls) if outside_calls else None
        store = open_store()
        findings = call_patient(store, patient_id, vcf, kb, sample=sample, outside=outside)
    except (VcfError, OutsideCallError) as exc:
        fail(str(exc), "fix the file and run again; nothing was written")
    except PatientCallError as exc:
        fail(str(exc), "use --sample NAME for a multi-sample VCF; `hygeia ingest` loads patients")
    except StoreError as exc:
        fail(f"cannot write to the store: {exc}", "check `database_url` (HYGEIA_DATABASE_URL); nothing was written")
    typer.echo(f"Patient/{patient_id}: genotype and phenotype Observations written. {DECISION_SUPPORT_NOTICE}")
    if not findings:
        typer.echo("No actionable drug–gene pairs.")
    for f in findings:
        typer.echo(f"[{f.indicator.value}] {f.summary}")


def register(app: typer.Typer) -> None:
    app.add_typer(sub, name="pgx")
