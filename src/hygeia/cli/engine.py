"""``hygeia batch …``: population-scale jobs on one machine or a Dask cluster (hygeia.engine)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.cli.common import console, err_console, fail, open_store, progress_bar

batch_app = typer.Typer(
    help=(
        "Population-scale batch jobs, partitioned by patient or sample, on this machine (--engine local) or on "
        "Dask distributed (--engine dask; a LocalCluster unless --scheduler tcp://HOST:PORT is given). Output "
        "goes to a folder of per-partition Parquet/NDJSON files; a re-run skips partitions already done. "
        f"{DECISION_SUPPORT_NOTICE}"
    ),
    no_args_is_help=True,
)

ENGINE = typer.Option("local", "--engine", help="local (in process; a process pool with --workers > 1) or dask.")
SCHEDULER = typer.Option(None, "--scheduler", help="Dask scheduler address tcp://HOST:PORT (default: a LocalCluster).")
WORKERS = typer.Option(None, "--workers", min=1, help="Worker processes (default: 1 local, 2 for a Dask LocalCluster).")
OUT = typer.Option(..., "--out", "-o", help="Output folder (one file per partition, re-runs resume).")
FORMAT = typer.Option("parquet", "--format", help="parquet or ndjson.")
SIZE = typer.Option(None, "--partition-size", min=1, help="Patients/samples/notes per partition.")
ATTEMPTS = typer.Option(3, "--attempts", min=1, max=20, help="Tries per partition before the job gives up on it.")


# --engine/--scheduler of the plain batch commands (hygeia pgx match, risk score, ews score, deid text):
# without --engine they run as they always did; with it, through hygeia.engine, with the same output.
ROUTE_ENGINE = typer.Option(
    None, "--engine", help="Run through hygeia.engine: local (in process) or dask (same output as without it)."
)
ROUTE_SCHEDULER = typer.Option(
    None, "--scheduler", help="Dask scheduler tcp://HOST:PORT (default with --engine dask: a 2-worker LocalCluster)."
)


def use_engine(engine: str | None, scheduler: str | None) -> bool:
    """True when a plain batch command should go through hygeia.engine (exits with a clear error on bad options)."""
    if engine is None:
        if scheduler:
            fail("--scheduler needs --engine dask", "add --engine dask")
        return False
    _check_engine(engine, scheduler)
    return True


def _run(job: Any, engine: str, scheduler: str | None, workers: int | None, sink: Any, attempts: int) -> Any:
    from hygeia.engine import JobFailed, make_executor, run_job

    _check_engine(engine, scheduler)
    executor = make_executor(engine, scheduler=scheduler, workers=workers or (2 if engine == "dask" else 1))
    try:
        with progress_bar() as bar:
            return run_job(job, executor, sink, attempts=attempts, progress=bar)
    except JobFailed as exc:
        err_console.print(f"[bold red]error:[/] {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except ConnectionError as exc:
        fail(str(exc), "check --scheduler, or leave it out to start a LocalCluster")


def run_rows(job: Any, engine: str, scheduler: str | None, attempts: int = 3) -> list[dict[str, Any]]:
    """Every row of ``job`` in partition order (progress on stderr; a failed job exits 1 naming its partitions)."""
    from hygeia.engine import MemorySink

    sink = MemorySink()
    _run(job, engine, scheduler, None, sink, attempts)
    return sink.rows()


class InputError(ValueError):
    """Bad input to a plain batch command's engine route; the command prints it as it prints its own errors."""


def pgx_match_samples(
    vcf: Path,
    kb_dir: Path | None,
    all_candidates: bool,
    find_combinations: bool,
    outside_calls: Path | None,
    engine: str,
    scheduler: str | None,
) -> tuple[Any, list[dict[str, Any]]]:
    """``hygeia pgx match`` through the engine: the KB and each sample's ``SampleResult.to_json()`` in VCF order
    (the VCF is cut by sample on this machine; workers load the KB from the same folder)."""
    from hygeia.engine.jobs.pgx import SplitError, plan_pgx_stage
    from hygeia.pgx import MatchOptions, load_kb
    from hygeia.pgx.kb import KbError, default_kb_dir
    from hygeia.pgx.pipeline import OutsideCallError, read_outside_calls

    root = (kb_dir or default_kb_dir()).resolve()
    try:
        kb = load_kb(root)
        outside = read_outside_calls(outside_calls) if outside_calls else None
        opts = MatchOptions(top_candidates_only=not all_candidates, find_combinations=find_combinations)
        job = plan_pgx_stage(vcf, kb, kb_ref=str(root), opts=opts, outside=outside)
    except (KbError, OutsideCallError, SplitError) as exc:
        raise InputError(str(exc)) from None
    return kb, [row["result"] for row in run_rows(job, engine, scheduler)]


def risk_findings(model_dir: Path, patient: str | None, engine: str, scheduler: str | None) -> list[Any]:
    """``hygeia risk score`` through the engine: the Finding of ``patient``, or of every patient of the store."""
    from hygeia.engine.jobs.risk import plan_risk_findings

    job = plan_risk_findings(open_store(init=False), model_dir, patient_ids=[patient] if patient else None)
    return [row["finding"] for row in run_rows(job, engine, scheduler)]


def ews_score_csv(in_csv: Path, out: Path | None, engine: str, scheduler: str | None) -> tuple[int, int]:
    """``hygeia ews score`` through the engine: the same CSV (rows in input order, to ``out`` or stdout).
    The file is read here and sent to the workers in partitions of 20,000 rows. Returns (rows, rows with errors)."""
    import csv
    import io
    import sys

    from hygeia.engine.jobs.ews import plan_csv_rows
    from hygeia.ews.batch import INPUT_COLUMNS, missing_columns, output_columns

    try:
        raw = in_csv.open("rb")
    except OSError as exc:
        raise InputError(f"{in_csv}: cannot open ({exc.strerror})") from None
    with io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as text:
        reader = csv.DictReader(text)
        try:
            header = reader.fieldnames
        except csv.Error as exc:
            raise InputError(f"{in_csv} line 1: not a readable CSV header ({exc})") from None
        if not header:
            raise InputError(f"{in_csv}: empty file (expected a header with {', '.join(INPUT_COLUMNS)})")
        absent = missing_columns(header)
        if absent:
            raise InputError(
                f"{in_csv} line 1: missing column(s) {', '.join(absent)}; the header must name "
                f"{', '.join(INPUT_COLUMNS)} (other columns pass through)"
            )
        reader.fieldnames = [h.strip() for h in header]
        try:
            rows: list[dict[str | None, object]] = list(reader)
        except csv.Error as exc:
            raise InputError(f"{in_csv} line {reader.line_num}: malformed CSV ({exc})") from None
    scored = run_rows(plan_csv_rows(rows, len(header)), engine, scheduler)
    tmp = out.with_name(f".{out.name}.partial") if out else None
    try:
        dest = (
            tmp.open("w", encoding="utf-8", errors="surrogateescape", newline="")
            if tmp is not None
            else io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="surrogateescape", newline="")
        )
    except OSError as exc:
        raise InputError(f"{out}: cannot write ({exc.strerror})") from None
    ok = False
    try:
        writer = csv.DictWriter(dest, fieldnames=output_columns(reader.fieldnames), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(scored)
        ok = True
    finally:
        if tmp is not None and out is not None:
            dest.close()
            if ok:
                os.replace(tmp, out)
            else:
                tmp.unlink(missing_ok=True)
        else:
            dest.flush()
            dest.detach()
    return len(scored), sum(1 for r in scored if r["error"])


def deid_text_to_file(
    notes: list[tuple[Any, str, str | None]],
    key: bytes | None,
    general: bool,
    output: Path,
    engine: str,
    scheduler: str | None,
) -> int:
    """``hygeia deid text`` through the engine: the same JSON Lines, written to a temporary file and renamed."""
    import tempfile

    import orjson

    from hygeia.engine.jobs.deid import plan_deid_text

    rows = run_rows(plan_deid_text(notes, key=key, general=general), engine, scheduler)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".deid-", suffix=".jsonl", dir=output.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for r in rows:
                fh.write(orjson.dumps({"id": r["id"], "text": r["text"], "spans": orjson.loads(r["spans"])}) + b"\n")
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(rows)


def _execute(job: Any, engine: str, scheduler: str | None, workers: int | None, sink: Any, attempts: int) -> None:
    report = _run(job, engine, scheduler, workers, sink, attempts)
    console.print(
        f"{job.name}: {report.written} partition(s) written, {report.skipped} already done, "
        f"{report.rows} row(s) ({report.executor})"
        + (f"; retried {', '.join(report.retried)}" if report.retried else "")
    )


def _check_engine(engine: str, scheduler: str | None) -> None:
    if engine not in ("local", "dask"):
        fail(f"unknown engine {engine!r}", "use --engine local or --engine dask")
    if scheduler and engine != "dask":
        fail("--scheduler needs --engine dask", "add --engine dask")


def _file_sink(out: Path, fmt: str) -> Any:
    from hygeia.engine import FileSink

    try:
        return FileSink(out, fmt)
    except ValueError as exc:
        fail(str(exc), "use --format parquet or --format ndjson")
    except OSError as exc:
        fail(f"cannot write to {out}: {exc.strerror or exc}", "choose a writable --out folder")


@batch_app.command("pgx-match")
def pgx_match(
    vcf: Path = typer.Argument(..., help="Multi-sample VCF (GRCh38, plain or gzip)."),
    kb_dir: Path | None = typer.Option(None, "--kb", help="PGx knowledge base folder (default: the configured one)."),
    out: Path = OUT,
    fmt: str = FORMAT,
    engine: str = ENGINE,
    scheduler: str | None = SCHEDULER,
    workers: int | None = WORKERS,
    partition_size: int | None = SIZE,
    attempts: int = ATTEMPTS,
) -> None:
    """Pharmacogenomic calling (match → phenotype → CPIC/DPWG recommendations) of every sample, one row per
    sample and gene. Workers load the KB from the same path (shared or identical on every worker)."""
    _check_engine(engine, scheduler)
    from hygeia.engine.jobs.pgx import SplitError, plan_pgx_match
    from hygeia.pgx import load_kb
    from hygeia.pgx.kb import KbError, default_kb_dir

    root = (kb_dir or default_kb_dir()).resolve()
    try:
        kb = load_kb(root)
        job = plan_pgx_match(vcf, kb, kb_ref=str(root), partition_size=partition_size or 500)
    except (KbError, OSError) as exc:
        fail(f"cannot load the PGx knowledge base at {root}: {exc}", "pass --kb DIR or run `hygeia pgx kb import`")
    except SplitError as exc:
        fail(str(exc), "check the VCF")
    _execute(job, engine, scheduler, workers, _file_sink(out, fmt), attempts)


@batch_app.command("ews-backfill")
def ews_backfill(
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (or --to-store)."),
    to_store: bool = typer.Option(False, "--to-store", help="Write NEWS2 Observations to the store instead."),
    carry_hours: float = typer.Option(4.0, "--carry-hours", min=0.0, help="How long a vital sign is carried forward."),
    fmt: str = FORMAT,
    engine: str = ENGINE,
    scheduler: str | None = SCHEDULER,
    workers: int | None = WORKERS,
    partition_size: int | None = SIZE,
    attempts: int = ATTEMPTS,
) -> None:
    """NEWS2 (RCP 2017) at every recorded time for every patient of the store (workers read the store by
    its URL: use PostgreSQL, HYGEIA_DATABASE_URL, on a cluster)."""
    _check_engine(engine, scheduler)
    from hygeia.engine import StoreSink
    from hygeia.engine.jobs.ews import plan_ews_backfill

    if (out is None) == (not to_store):
        fail("say where results go", "pass --out FOLDER or --to-store (not both)")
    store = open_store(init=False)
    job = plan_ews_backfill(store, partition_size=partition_size or 200, carry_hours=carry_hours, resources=to_store)
    sink = StoreSink(store) if to_store else _file_sink(out or Path("."), fmt)
    _execute(job, engine, scheduler, workers, sink, attempts)
    if isinstance(sink, StoreSink):
        console.print(f"store: {sink.created} Observation(s) created, {sink.updated} updated (others unchanged)")


@batch_app.command("deid-text")
def deid_text(
    notes: Path = typer.Argument(..., help='JSON Lines file, one {"id", "text"[, "patient"]} object a line.'),
    mode: str = typer.Option("tag", "--mode", help="tag ([LABEL]) or surrogate (keyed, format-keeping)."),
    key_env: str = typer.Option("HYGEIA_DEID_KEY", "--key-env", help="Variable holding the secret for surrogates."),
    general: bool = typer.Option(False, "--general", help="General-text profile (see `hygeia deid text`)."),
    out: Path = OUT,
    fmt: str = FORMAT,
    engine: str = ENGINE,
    scheduler: str | None = SCHEDULER,
    workers: int | None = WORKERS,
    partition_size: int | None = SIZE,
    attempts: int = ATTEMPTS,
) -> None:
    """De-identify clinical notes; rows {id, text, spans} as `hygeia deid text` writes them."""
    _check_engine(engine, scheduler)
    from hygeia.engine.jobs.deid import NotesError, plan_deid_text, read_notes

    if mode not in ("tag", "surrogate"):
        fail(f"unknown mode {mode!r}", "use --mode tag or --mode surrogate")
    key = _key(key_env) if mode == "surrogate" else None
    try:
        job = plan_deid_text(read_notes(notes), key=key, general=general, partition_size=partition_size or 500)
    except NotesError as exc:
        fail(str(exc), "fix the line, then re-run")
    _execute(job, engine, scheduler, workers, _file_sink(out, fmt), attempts)


def _key(key_env: str) -> bytes:
    secret = os.environ.get(key_env, "")
    if len(secret) < 16:
        fail(f"the secret key in ${key_env} is missing or shorter than 16 characters", f"export {key_env}=…")
    return secret.encode()


@batch_app.command("risk-score")
def risk_score(
    model_dir: Path = typer.Argument(..., help="Model folder (a version, or a registry with LATEST)."),
    out: Path = OUT,
    fmt: str = FORMAT,
    engine: str = ENGINE,
    scheduler: str | None = SCHEDULER,
    workers: int | None = WORKERS,
    partition_size: int | None = SIZE,
    attempts: int = ATTEMPTS,
) -> None:
    """Score every patient of the store with a trained risk model: rows {patient_id, probability, band, model}."""
    _check_engine(engine, scheduler)
    from hygeia.engine.jobs.risk import plan_risk_store
    from hygeia.risk.training import RegistryError

    try:
        job = plan_risk_store(open_store(init=False), model_dir, partition_size=partition_size or 200)
    except (RegistryError, ValueError) as exc:
        fail(str(exc), "train one with `hygeia risk train TASK --out DIR`")
    _execute(job, engine, scheduler, workers, _file_sink(out, fmt), attempts)


@batch_app.command("export")
def export(
    key_env: str = typer.Option(
        "HYGEIA_DEID_KEY", "--key-env", help="Variable holding the pseudonym/date-shift secret."
    ),
    out: Path = OUT,
    fmt: str = FORMAT,
    engine: str = ENGINE,
    scheduler: str | None = SCHEDULER,
    workers: int | None = WORKERS,
    partition_size: int | None = SIZE,
    attempts: int = ATTEMPTS,
) -> None:
    """De-identified bulk export of every patient's resources (FHIR Safe Harbor profile, keyed pseudonyms)."""
    _check_engine(engine, scheduler)
    from hygeia.engine.jobs.deid import plan_export

    key = _key(key_env)
    job = plan_export(open_store(init=False), key, partition_size=partition_size or 200)
    _execute(job, engine, scheduler, workers, _file_sink(out, fmt), attempts)


def register(app: typer.Typer) -> None:
    app.add_typer(batch_app, name="batch")
