"""``hygeia deid …``: de-identify clinical data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.progress import Progress

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
    general: bool = typer.Option(
        False,
        "--general",
        help="General-text profile: also mark countries, and unknown capitalised words even in drug context.",
    ),
) -> None:
    """De-identify clinical notes: names, dates, ages over 89, places, contacts and ID numbers.

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
    if mode == "surrogate":
        secret = os.environ.get(key_env, "")
        if len(secret) < 16:
            typer.echo(f"error: surrogate mode needs a secret of 16+ characters in ${key_env}", err=True)
            raise typer.Exit(2)
        key = secret.encode()
    config = DeidConfig(countries=general, drug_context=not general)
    lines = input.read_bytes().splitlines()
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


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="De-identify clinical text (and, later, records, images and tables).", no_args_is_help=True)
    sub.command("text")(text_command)
    app.add_typer(sub, name="deid")
