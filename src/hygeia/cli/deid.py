"""``hygeia deid …``: de-identify clinical data (notes, FHIR, DICOM, tables)."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
import typer
from rich.progress import Progress

from hygeia.cli.common import fail, progress_bar
from hygeia.cli.engine import ROUTE_ENGINE, ROUTE_SCHEDULER, use_engine
from hygeia.config import get_settings
from hygeia.governance.deid.text import DeidConfig, deidentify, find_phi


class _BadLine(Exception):
    pass


def _parse(raw: bytes, number: int, path: Path) -> tuple[Any, str, str | None]:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise _BadLine(f"{path}:{number}: not valid JSON ({exc}); each line must be one JSON object") from None
    if not isinstance(obj, dict):
        raise _BadLine(f"{path}:{number}: expected a JSON object with fields 'id' and 'text'")
    if "id" not in obj:
        raise _BadLine(f"{path}:{number}: field 'id' is missing")
    text = obj.get("text")
    if not isinstance(text, str):
        raise _BadLine(f"{path}:{number}: field 'text' is missing or not a string")
    patient = obj.get("patient")
    return obj["id"], text, str(patient) if patient is not None else None


def text_command(
    input: Path = typer.Option(..., "--input", "-i", help='JSON Lines file, one {"id", "text"} object a line.'),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the de-identified JSON Lines."),
    mode: str = typer.Option("tag", help="tag: replace PHI with [LABEL]; surrogate: realistic, format-keeping."),
    key_env: str = typer.Option(
        "HYGEIA_DEID_KEY", help="Environment variable holding the secret key for surrogate mode (keyed HMAC)."
    ),
    key_file: Path | None = typer.Option(
        None, "--key-file", help="File holding the secret key (instead of the variable)."
    ),
    general: bool = typer.Option(
        False,
        "--general",
        help="General-text profile: also mark countries, and unknown capitalised words even in drug context.",
    ),
    engine: str | None = ROUTE_ENGINE,
    scheduler: str | None = ROUTE_SCHEDULER,
) -> None:
    """De-identify clinical notes: names, dates, ages over 89, places, contacts and ID numbers (with
    --engine local|dask: in partitions of notes, same output).

    Each output line is {"id", "text": de-identified, "spans": [{"start", "end", "label"}]} with
    offsets into the input text. In surrogate mode an optional "patient" field on a line keys that
    patient's date shift, so intervals between their dates survive. The output is written to a
    temporary file and renamed at the end: a bad input line leaves nothing behind.
    """
    if mode not in ("tag", "surrogate"):
        raise typer.BadParameter("use 'tag' or 'surrogate'", param_hint="--mode")
    if not input.is_file():
        typer.echo(f"error: input file not found: {input}", err=True)
        raise typer.Exit(2)
    key: bytes | None = None
    if mode == "surrogate" and key_file is not None:
        key = _secret(key_file)
    elif mode == "surrogate":
        secret = os.environ.get(key_env, "")
        if len(secret) < 16:
            typer.echo(f"error: surrogate mode needs a secret of 16+ characters in ${key_env}", err=True)
            raise typer.Exit(2)
        key = secret.encode()
    config = DeidConfig(countries=general, drug_context=not general)
    lines = input.read_bytes().splitlines()
    if use_engine(engine, scheduler):
        from hygeia.cli.engine import deid_text_to_file

        try:
            notes = [_parse(raw, number, input) for number, raw in enumerate(lines, start=1) if raw.strip()]
        except _BadLine as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        count = deid_text_to_file(notes, key, general, output, engine or "local", scheduler)
        typer.echo(f"de-identified {count} notes → {output}")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".deid-", suffix=".jsonl", dir=output.parent)
    count = 0
    try:
        with os.fdopen(fd, "wb") as out, Progress(transient=True) as progress:
            task = progress.add_task("de-identifying", total=len(lines))
            for number, raw in enumerate(lines, start=1):
                progress.advance(task)
                if not raw.strip():
                    continue
                ident, text, patient = _parse(raw, number, input)
                spans = find_phi(text, config=config)
                result = deidentify(text, mode="surrogate" if key else "tag", key=key, patient_key=patient, spans=spans)
                record = {
                    "id": ident,
                    "text": result.text,
                    "spans": [{"start": s.start, "end": s.end, "label": s.label} for s in spans],
                }
                out.write(orjson.dumps(record) + b"\n")
                count += 1
        os.replace(tmp_name, output)
    except _BadLine as exc:
        Path(tmp_name).unlink(missing_ok=True)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    typer.echo(f"de-identified {count} notes → {output}")


MIN_KEY = 16
KEY_HELP = "File holding the secret key (else $HYGEIA_DEID_KEY)."
PROFILE = ("privacy", "dicom", "ps3.15_tableE1-1_basic_profile_rev2024b.csv")


def _secret(key_file: Path | None, key_env: str = "HYGEIA_DEID_KEY") -> bytes:
    """The pseudonymisation key from ``--key-file`` or the environment; at least 16 bytes."""
    if key_file is not None:
        if not key_file.is_file():
            fail(f"key file not found: {key_file}", "pass --key-file PATH to a file holding the secret")
        secret = key_file.read_bytes().strip()
        where = str(key_file)
    else:
        secret = os.environ.get(key_env, "").encode()
        where = f"${key_env}"
    if len(secret) < MIN_KEY:
        fail(
            f"the de-identification key in {where} is missing or shorter than {MIN_KEY} bytes",
            f"set {key_env} or pass --key-file with a long random secret; keep it: the same key gives the same "
            "pseudonyms and date shifts, so records stay linkable",
        )
    return secret


class _Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


@contextlib.contextmanager
def _writer(fh: IO[bytes], gz: bool) -> Iterator[_Sink]:
    if gz:
        with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as out:
            yield out
    else:
        yield fh


@contextlib.contextmanager
def _atomic_file(target: Path) -> Iterator[_Sink]:
    """Write to a temporary file beside ``target`` (gzip when it ends .gz), renamed onto it on success."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".deid-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh, _writer(fh, target.name.endswith(".gz")) as out:
            yield out
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _atomic_dir(target: Path) -> Iterator[Path]:
    """A temporary directory beside ``target``, renamed to it when the block succeeds."""
    _need_new_dir(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".deid-", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            target.rmdir()
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _need_new_dir(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        fail(f"output {target} already exists and is not an empty directory", "choose a new output directory")


class _BadInput(Exception):
    pass


def _is_ndjson(path: Path) -> bool:
    return path.name.endswith((".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz"))


def _check_resource(obj: Any, where: str) -> None:
    if not isinstance(obj, dict):
        raise _BadInput(f"{where}: expected a JSON object (a FHIR resource)")
    if not isinstance(obj.get("resourceType"), str):
        raise _BadInput(f"{where}: field 'resourceType' is missing or not a string")
    if obj["resourceType"] == "Bundle":
        entries = obj.get("entry", [])
        if not isinstance(entries, list):
            raise _BadInput(f"{where}: field 'entry' must be a list")
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise _BadInput(f"{where}: entry[{i}] is not a JSON object")
            if "resource" in entry:
                _check_resource(entry["resource"], f"{where}: entry[{i}].resource")


def _fhir_bundle(path: Path, out: _Sink, config: Any) -> int:
    from hygeia.governance.deid.fhir import deidentify_resource

    try:
        obj = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise _BadInput(f"{path}: not valid JSON ({exc})") from None
    _check_resource(obj, str(path))
    out.write(orjson.dumps(deidentify_resource(obj, config), option=orjson.OPT_INDENT_2) + b"\n")
    return len(obj.get("entry", [])) if obj["resourceType"] == "Bundle" else 1


def _fhir_ndjson(path: Path, out: _Sink, config: Any, progress: Progress, task: Any) -> int:
    from hygeia.governance.deid.fhir import deidentify_resource

    count = 0
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                progress.advance(task, len(line))
                if not line.strip():
                    continue
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise _BadInput(f"{path}:{number}: not valid JSON ({exc}); one resource a line") from None
                _check_resource(obj, f"{path}:{number}")
                out.write(orjson.dumps(deidentify_resource(obj, config)) + b"\n")
                count += 1
    except (OSError, EOFError) as exc:
        raise _BadInput(f"{path}: cannot read ({exc})") from None
    return count


def fhir_command(
    source: Path = typer.Argument(..., help="A bundle (.json), a directory of bundles, or bulk NDJSON (.ndjson[.gz])."),
    output: Path = typer.Argument(..., help="Output file (same kind as the input); for a directory, a new directory."),
    key_file: Path | None = typer.Option(None, "--key-file", help=KEY_HELP),
    as_of: str = typer.Option("", "--as-of", help="Date ages are computed at (YYYY-MM-DD; default today)."),
) -> None:
    """De-identify FHIR R4 data under the HIPAA Safe Harbor profile, with keyed pseudonyms.

    Names, telecom and photos are removed; addresses keep state and 3-digit ZIP; identifiers and
    resource ids become keyed pseudonyms (references stay consistent); birth dates keep the year
    (over 89: aggregated); other dates move by a per-patient keyed offset; free text goes through the
    text de-identifier. The same key gives the same pseudonyms, so exports stay linkable. Output is
    written to a temporary path and renamed at the end: bad input leaves nothing behind.
    """
    from hygeia.governance.deid.fhir import FhirDeidConfig

    if not source.exists():
        fail(f"input not found: {source}", "pass a bundle .json, a directory of bundles, or an .ndjson[.gz] file")
    key = _secret(key_file)
    try:
        when = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        fail(f"--as-of {as_of!r} is not a date", "use YYYY-MM-DD")
    config = FhirDeidConfig(key=key, as_of=when)
    files = (
        sorted(p for p in source.rglob("*") if p.is_file() and p.name.endswith((".json", ".ndjson", ".ndjson.gz")))
        if source.is_dir()
        else [source]
    )
    if not files:
        fail(f"no .json or .ndjson[.gz] files in {source}")
    if source.is_dir():
        _need_new_dir(output)
    count = 0
    try:
        with progress_bar() as progress:
            if source.is_dir():
                task = progress.add_task("de-identifying FHIR files", total=len(files))
                with _atomic_dir(output) as tmp:
                    for path in files:
                        target = tmp / path.relative_to(source)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        with target.open("wb") as raw, _writer(raw, target.name.endswith(".gz")) as out:
                            sub = progress.add_task("", total=None, visible=False)
                            count += (
                                _fhir_ndjson(path, out, config, progress, sub)
                                if _is_ndjson(path)
                                else _fhir_bundle(path, out, config)
                            )
                        progress.advance(task)
            elif _is_ndjson(source):
                task = progress.add_task(
                    "de-identifying NDJSON", total=source.stat().st_size if not source.name.endswith(".gz") else None
                )
                with _atomic_file(output) as out:
                    count = _fhir_ndjson(source, out, config, progress, task)
            else:
                task = progress.add_task("de-identifying bundle", total=1)
                with _atomic_file(output) as out:
                    count = _fhir_bundle(source, out, config)
                progress.advance(task)
    except _BadInput as exc:
        fail(str(exc), "fix or remove that input; nothing was written")
    typer.echo(f"de-identified {count} resources → {output}")


def dicom_command(
    source: Path = typer.Argument(..., help="Directory of DICOM files (searched recursively)."),
    output: Path = typer.Argument(..., help="New directory for the de-identified files (same relative paths)."),
    key_file: Path | None = typer.Option(None, "--key-file", help=KEY_HELP),
    profile: Path | None = typer.Option(
        None,
        "--profile",
        help="PS3.15 Table E.1-1 as CSV (default: privacy/dicom/ps3.15_tableE1-1_basic_profile_rev2024b.csv "
        "in the reference data, $HYGEIA_REFERENCE_DIR).",
    ),
) -> None:
    """De-identify DICOM files with the PS3.15 Annex E Basic Application Level Confidentiality Profile.

    Every attribute gets the table's action (D, Z, X, K, C, U and combinations), UIDs are remapped
    with the keyed map (consistent across a study), private tags are removed. Burned-in text in the
    pixels is NOT removed: files that may carry it are listed in the report (and report.json) for review.
    """
    import pydicom
    from pydicom.errors import InvalidDicomError

    from hygeia.governance.deid.dicom import deidentify_dataset, load_profile

    if not source.is_dir():
        fail(f"input directory not found: {source}")
    table = profile or get_settings().reference(*PROFILE)
    if not table.is_file():
        fail(
            f"DICOM profile table not found: {table}",
            "pass --profile PATH to Table E.1-1 as CSV, or set HYGEIA_REFERENCE_DIR",
        )
    try:
        rules = load_profile(table)
    except (ValueError, UnicodeDecodeError) as exc:
        fail(f"bad profile table: {exc}")
    key = _secret(key_file)
    files = sorted(p for p in source.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        fail(f"no files in {source}")
    _need_new_dir(output)
    flagged: list[tuple[str, list[str]]] = []
    report: list[dict[str, Any]] = []
    try:
        with progress_bar() as progress, _atomic_dir(output) as tmp:
            task = progress.add_task("de-identifying DICOM", total=len(files))
            for path in files:
                rel = path.relative_to(source)
                try:
                    ds = pydicom.dcmread(path)
                except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
                    raise _BadInput(f"{path}: not a readable DICOM file ({exc})") from None
                out, rep = deidentify_dataset(ds, rules, key)
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                out.save_as(target)
                if rep.burned_in_suspected:
                    flagged.append((str(rel), rep.burned_in_reasons))
                report.append(
                    {
                        "file": str(rel),
                        "attributes": len(rep.actions),
                        "private_removed": rep.private_removed,
                        "burned_in_suspected": rep.burned_in_suspected,
                        "reasons": rep.burned_in_reasons,
                    }
                )
                progress.advance(task)
            (tmp / "report.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    except _BadInput as exc:
        fail(str(exc), "remove non-DICOM files from the input directory; nothing was written")
    typer.echo(f"de-identified {len(files)} DICOM files → {output} (report: {output / 'report.json'})")
    if flagged:
        typer.echo(f"{len(flagged)} file(s) may carry burned-in annotation (text in the pixels, not removed):")
        for name, reasons in flagged:
            typer.echo(f"  {name}: {'; '.join(reasons)}")
    else:
        typer.echo("no file flagged for burned-in annotation")


def _read_rows(path: Path) -> tuple[list[list[str]], str]:
    """Rows and delimiter (';' when the first line has more of them than ',')."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _BadInput(f"{path}: cannot read as UTF-8 text ({exc})") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = [r for r in csv.reader(text.splitlines(), delimiter=delimiter) if r]
    if not rows:
        raise _BadInput(f"{path}: empty file")
    return rows, delimiter


def _hierarchy_file(folder: Path, column: str) -> Path | None:
    for pattern in (f"{column}.csv", f"*hierarchy_{column}.csv"):
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    return None


def kanon_command(
    table: Path = typer.Argument(..., help="CSV table (';' or ',' separated) with a header row."),
    hierarchies: Path = typer.Option(
        ...,
        "--hierarchies",
        help="Directory of hierarchies, one CSV per quasi-identifier named COLUMN.csv or "
        "*_hierarchy_COLUMN.csv (ARX's layout: original value, then one column per level).",
    ),
    k: int = typer.Option(..., "--k", min=1, help="Every kept record shares its quasi-identifiers with k-1 others."),
    l_div: int | None = typer.Option(None, "--l", min=1, help="Distinct l-diversity of the sensitive column."),
    sensitive: str | None = typer.Option(None, "--sensitive", help="Sensitive column for --l."),
    suppression: float = typer.Option(
        0.0, "--suppression", min=0.0, max=1.0, help="Largest share of records that may be suppressed (0.04 = 4 %)."
    ),
    out: Path = typer.Option(..., "--out", help="Where to write the generalised table (CSV)."),
) -> None:
    """k-anonymise a table by optimal full-domain generalisation (ARX-style lattice search).

    Columns with a hierarchy are quasi-identifiers; the search finds the transformation with the
    least information loss (ARX's non-uniform entropy) that leaves at most --suppression of the
    records in classes smaller than k (or with fewer than l sensitive values); those records get '*'.
    Prints the transformation, k, l, re-identification risk and information loss.
    """
    from hygeia.governance.deid.kanon import Anonymiser, parse_hierarchy, table_risk

    if (l_div is None) != (sensitive is None):
        fail("--l and --sensitive go together", "pass both, e.g. --l 2 --sensitive diagnosis")
    if not table.is_file():
        fail(f"table not found: {table}")
    if not hierarchies.is_dir():
        fail(f"hierarchy directory not found: {hierarchies}")
    try:
        (head, *rows), delimiter = _read_rows(table)
        if not rows:
            raise _BadInput(f"{table}: a header but no data rows")
        for number, row in enumerate(rows, start=2):
            if len(row) != len(head):
                raise _BadInput(f"{table}:{number}: {len(row)} fields, the header has {len(head)}")
        if sensitive is not None and sensitive not in head:
            raise _BadInput(f"{table}: no column {sensitive!r} (columns: {', '.join(head)})")
        hs = []
        for i, column in enumerate(head):
            path = _hierarchy_file(hierarchies, column)
            if path is None or column == sensitive:
                continue
            try:
                h = parse_hierarchy(column, _read_rows(path)[0], str(path))
            except ValueError as exc:
                raise _BadInput(str(exc)) from None
            known = set(h.values)
            for number, row in enumerate(rows, start=2):
                if row[i] not in known:
                    raise _BadInput(f"{table}:{number}: column {column!r}: value {row[i]!r} is not in {path}")
            hs.append((i, h))
        if not hs:
            raise _BadInput(f"no hierarchy in {hierarchies} matches a column of {table} (columns: {', '.join(head)})")
    except _BadInput as exc:
        fail(str(exc), "fix the file; nothing was written")
    columns = {head[i]: [r[i] for r in rows] for i, _ in hs}
    sens_values = [r[head.index(sensitive)] for r in rows] if sensitive is not None else None
    anonymiser = Anonymiser(columns, [h for _, h in hs], sensitive=sens_values)
    with Progress(transient=True) as progress:
        progress.add_task(f"searching {'×'.join(map(str, anonymiser.heights))} transformations", total=None)
        try:
            best = anonymiser.optimise(k, suppression, l_div)
        except ValueError as exc:
            fail(str(exc), "lower k or l, allow more --suppression, or add hierarchy levels")
    generalised, suppressed = anonymiser.generalise(best.levels, k, suppression, l_div)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(head)
    for r, row in enumerate(rows):
        new = list(row)
        for (i, _), values in zip(hs, generalised, strict=True):
            new[i] = "*" if suppressed[r] else values[r]
        writer.writerow(new)
    with _atomic_file(out) as fh:
        fh.write(buffer.getvalue().encode())
    kept = [r for r in range(len(rows)) if not suppressed[r]]
    risk = table_risk(
        [tuple(values[r] for values in generalised) for r in kept],
        [sens_values[r] for r in kept] if sens_values is not None else None,
    )
    top = sum(float(c[-1].sum()) for c in anonymiser.cost)
    names = ", ".join(f"{h.attribute}={lv}" for (_, h), lv in zip(hs, best.levels, strict=True))
    typer.echo(f"transformation: {names}")
    typer.echo(
        f"k = {risk.k}"
        + (f", l = {risk.l_diversity}" if risk.l_diversity is not None else "")
        + f"; {best.suppressed} of {len(rows)} records suppressed ({best.suppressed / max(len(rows), 1):.1%})"
    )
    typer.echo(
        f"re-identification risk (prosecutor): max {risk.max_risk:.4f}, average {risk.average_risk:.4f}, "
        f"records above 0.2: {risk.records_at_risk:.1%}"
    )
    typer.echo(
        f"information loss (non-uniform entropy): {best.info_loss:,.2f}"
        + (f" ({best.info_loss / top:.1%} of full generalisation)" if top else "")
    )
    typer.echo(f"wrote {out}")


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="De-identify clinical notes, FHIR records, DICOM images and tables.", no_args_is_help=True)
    sub.command("text")(text_command)
    sub.command("fhir")(fhir_command)
    sub.command("dicom")(dicom_command)
    sub.command("kanon")(kanon_command)
    app.add_typer(sub, name="deid")
