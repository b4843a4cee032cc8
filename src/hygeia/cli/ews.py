"""``hygeia ews``: early warning scores from the command line."""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path
from typing import IO

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.ews.batch import INPUT_COLUMNS, missing_columns, output_columns, score_rows

CHUNK_ROWS = 20_000
PROGRESS_MIN_BYTES = 1_000_000

ews_app = typer.Typer(
    help=(f"Early warning scores (NEWS2, RCP 2017). {DECISION_SUPPORT_NOTICE}"),
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(ews_app, name="ews")


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=2)


@ews_app.command("score")
def score(
    in_csv: Path = typer.Argument(..., metavar="IN.csv", help="CSV with a header row (UTF-8)."),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write here (default: standard output)."),
) -> None:
    """Score NEWS2 for every row of a CSV.

    Required columns: **rr, spo2, scale, on_oxygen, sbp, pulse, acvpu, temp_c** — scale 1 or 2 (empty
    means 1; scale 2 only for confirmed hypercapnic respiratory failure), on_oxygen true/false, acvpu one
    of A, C, V, P, U (C = new confusion), temp_c in °C. Other columns (ids) pass through unchanged.

    Adds **news2_total, any_red_3, news2_risk** (low, low-medium, medium, high), **response** (RCP Chart 4
    monitoring and clinical response) and **error**: a row that cannot be scored gets its score columns
    empty and the field and problem in *error*; a missing value is never scored as normal.

    Source: Royal College of Physicians, National Early Warning Score (NEWS) 2, 2017.
    """
    if not in_csv.is_file():
        raise _fail(f"{in_csv}: no such file")
    size = in_csv.stat().st_size
    tmp = out.with_name(f".{out.name}.partial") if out else None
    err = Console(stderr=True, soft_wrap=True)
    try:
        raw = in_csv.open("rb")
    except OSError as exc:
        raise _fail(f"{in_csv}: cannot open ({exc.strerror})") from None
    # surrogateescape: bytes that are not UTF-8 pass through to the output unchanged; a numeric field with
    # them is reported in its row's error column.
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
    dest: IO[str]
    if tmp is not None:
        try:
            dest = tmp.open("w", encoding="utf-8", errors="surrogateescape", newline="")
        except OSError as exc:
            text.close()
            raise _fail(f"{out}: cannot write ({exc.strerror})") from None
    else:
        dest = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", errors="surrogateescape", newline="")
    n_rows = n_bad = 0
    ok = False
    try:
        reader = csv.DictReader(text)
        try:
            header = reader.fieldnames
        except csv.Error as exc:
            raise _fail(f"{in_csv} line 1: not a readable CSV header ({exc})") from None
        if not header:
            raise _fail(f"{in_csv}: empty file (expected a header with {', '.join(INPUT_COLUMNS)})")
        absent = missing_columns(header)
        if absent:
            raise _fail(
                f"{in_csv} line 1: missing column(s) {', '.join(absent)}; the header must name "
                f"{', '.join(INPUT_COLUMNS)} (other columns pass through)"
            )
        reader.fieldnames = [h.strip() for h in header]
        writer = csv.DictWriter(dest, fieldnames=output_columns(reader.fieldnames), extrasaction="ignore")
        writer.writeheader()
        progress = Progress(
            TextColumn("scoring"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=size < PROGRESS_MIN_BYTES,
        )
        with progress:
            task = progress.add_task("score", total=size)
            chunk: list[dict[str | None, object]] = []
            try:
                for row in reader:
                    chunk.append(row)
                    if len(chunk) >= CHUNK_ROWS:
                        n_bad += _flush(chunk, writer, len(header))
                        n_rows += len(chunk)
                        chunk = []
                        progress.update(task, completed=raw.tell())
            except csv.Error as exc:
                raise _fail(f"{in_csv} line {reader.line_num}: malformed CSV ({exc})") from None
            n_bad += _flush(chunk, writer, len(header))
            n_rows += len(chunk)
            progress.update(task, completed=size)
        ok = True
    finally:
        text.close()
        if tmp is not None:
            dest.close()
            if ok and out is not None:
                os.replace(tmp, out)
            else:
                tmp.unlink(missing_ok=True)
        else:
            dest.flush()
            dest.detach()
    where = f" to {out}" if out else ""
    err.print(
        f"scored {n_rows - n_bad} of {n_rows} rows{where}; {n_bad} with errors (see the error column). "
        f"{DECISION_SUPPORT_NOTICE}",
        highlight=False,
    )


def _flush(chunk: list[dict[str | None, object]], writer: csv.DictWriter[str], n_fields: int) -> int:
    if not chunk:
        return 0
    scored = score_rows(chunk, n_fields)
    writer.writerows(scored)
    return sum(1 for r in scored if r["error"])
