"""``hygeia ews``: early warning scores from the command line."""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path
from typing import IO, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.cli.engine import ROUTE_ENGINE, ROUTE_SCHEDULER, use_engine
from hygeia.ews.batch import INPUT_COLUMNS, missing_columns, output_columns, score_rows
from hygeia.records.store import Store

CHUNK_ROWS = 20_000
PROGRESS_MIN_BYTES = 1_000_000

ews_app = typer.Typer(
    help=(f"Early warning scores (NEWS2, RCP 2017). {DECISION_SUPPORT_NOTICE}"),
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(ews_app, name="ews")
    app.add_typer(monitor_app, name="monitor")
    app.add_typer(alerts_app, name="alerts")


def _fail(message: str) -> typer.Exit:
    Console(stderr=True, soft_wrap=True).print(f"[red]error:[/red] {message}", highlight=False)
    return typer.Exit(code=2)


@ews_app.command("score")
def score(
    in_csv: Path = typer.Argument(..., metavar="IN.csv", help="CSV with a header row (UTF-8)."),
    out: Path | None = typer.Option(None, "-o", "--out", help="Write here (default: standard output)."),
    engine: str | None = ROUTE_ENGINE,
    scheduler: str | None = ROUTE_SCHEDULER,
) -> None:
    """Score NEWS2 for every row of a CSV (with --engine local|dask: in partitions of rows, same output).

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
    if use_engine(engine, scheduler):
        from hygeia.cli.engine import InputError, ews_score_csv

        try:
            n_rows, n_bad = ews_score_csv(in_csv, out, engine or "local", scheduler)
        except InputError as exc:
            raise _fail(str(exc)) from None
        Console(stderr=True, soft_wrap=True).print(
            f"scored {n_rows - n_bad} of {n_rows} rows{f' to {out}' if out else ''}; {n_bad} with errors (see the "
            f"error column). {DECISION_SUPPORT_NOTICE}",
            highlight=False,
        )
        return
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


# --------------------------------------------------------------------------------------------------
# hygeia monitor / hygeia alerts

monitor_app = typer.Typer()
alerts_app = typer.Typer(help=f"NEWS2 alerts: list, acknowledge, follow. {DECISION_SUPPORT_NOTICE}",
                         no_args_is_help=True)
_LEVEL_STYLE = {4: "bold red", 3: "red", 2: "yellow", 1: "cyan"}


def _open_store(database: str | None) -> Store:
    from hygeia.config import get_settings

    url = database or get_settings().resolved_database_url()
    try:
        store = Store(url)
        store.init()
    except Exception as exc:  # the driver's errors vary; say what failed and how to fix it
        raise _fail(f"cannot open the database {url!r} ({type(exc).__name__}: {str(exc).splitlines()[0]}); "
                    "check HYGEIA_DATABASE_URL or --database") from None
    return store


_DB_OPTION = typer.Option(None, "--database", help="SQLAlchemy URL (default: HYGEIA_DATABASE_URL / the data dir).")


@monitor_app.callback(invoke_without_command=True)
def monitor(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="MQTT broker host."),
    port: int = typer.Option(1883, help="MQTT broker port."),
    client_id: str = typer.Option("hygeia-monitor", help="MQTT client id (the persistent session's name)."),
    batch_size: int = typer.Option(1000, min=1, help="Commit (then acknowledge) at most this many messages."),
    batch_ms: float = typer.Option(5.0, min=0.0, help="... or this many milliseconds after the first."),
    webhook: str | None = typer.Option(None, envvar="HYGEIA_ALERT_WEBHOOK", help="POST each alert's JSON here."),
    writer_process: bool = typer.Option(True, "--writer-process/--one-process",
                                        help="Write batches in a second process (uses a second core)."),
    stats: bool = typer.Option(False, "--stats", help="Print the counters (accepted, rejected by reason) and exit."),
    database: str | None = _DB_OPTION,
) -> None:
    """The monitoring service. Without a command: run it — subscribe to `hygeia/devices/+/vitals`
    (QoS 1, persistent session), verify each message (HMAC-SHA256, device registry, replay guard),
    store the readings as FHIR Observations, score NEWS2 and raise alerts. Messages are acknowledged
    only after their batch is committed.

    The broker needs persistence on and a large `max_queued_messages` (see docs/ews.md). Stop with Ctrl-C.
    Commands: `device-add` (register a device and its key), `bind` (device to patient for a period).
    Decision support for a clinician: alerts inform, they do not replace, clinical judgement.
    """
    if ctx.invoked_subcommand is not None:
        return
    store = _open_store(database)
    if stats:
        from hygeia.ews.monitor import read_counters

        counts = read_counters(store)
        if not counts:
            typer.echo("no messages counted yet")
        for name, n in counts.items():
            typer.echo(f"{name}\t{n}")
        return
    import logging
    import signal

    from hygeia.ews.monitor import Monitor
    from hygeia.ews.service import MqttMonitor, webhook_hook

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    hooks = [webhook_hook(webhook)] if webhook else []
    service = MqttMonitor(Monitor(store, hooks=hooks), host, port, client_id=client_id, batch_size=batch_size,
                          batch_ms=batch_ms, writer_process=writer_process)
    signal.signal(signal.SIGTERM, lambda *_: service.stop())
    Console(stderr=True).print(f"monitoring mqtt://{host}:{port} hygeia/devices/+/vitals — Ctrl-C to stop. "
                               f"{DECISION_SUPPORT_NOTICE}", highlight=False)
    try:
        service.run()
    except KeyboardInterrupt:
        service.stop()
    except Exception as exc:  # the store or broker failed: stop; unacknowledged messages will be redelivered
        raise _fail(f"monitor stopped: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} — "
                    "messages not yet committed were not acknowledged and will be redelivered on restart") from None


@monitor_app.command("device-add")
def device_add(
    device_id: str = typer.Argument(..., help="The device's id (the {device_id} in its MQTT topic)."),
    key_hex: str | None = typer.Option(None, "--key-hex", help="Its HMAC key in hex (>= 16 bytes); default: new."),
    database: str | None = _DB_OPTION,
) -> None:
    """Register a device (or re-key it) and print its key: configure the device with it."""
    import secrets

    from hygeia.ews.monitor import register_device

    if "/" in device_id or "+" in device_id or "#" in device_id or not device_id:
        raise _fail(f"device id {device_id!r}: must be non-empty, without / + #")
    try:
        key = bytes.fromhex(key_hex) if key_hex else secrets.token_bytes(32)
        register_device(_open_store(database), device_id, key)
    except ValueError as exc:
        raise _fail(f"--key-hex: {exc} (give at least 32 hex digits)") from None
    typer.echo(f"{device_id}\t{key.hex()}")


@monitor_app.command("bind")
def bind(
    device_id: str = typer.Argument(..., help="A registered device."),
    patient_id: str = typer.Argument(..., help="The patient it measures."),
    ward: str | None = typer.Option(None, help="Ward, for routing and filtering alerts."),
    start: str | None = typer.Option(None, help="ISO 8601 start with offset (default: now)."),
    end: str | None = typer.Option(None, help="ISO 8601 end with offset (default: open)."),
    database: str | None = _DB_OPTION,
) -> None:
    """Bind a device to a patient for a period (admission, home monitoring); overlaps are refused."""
    from datetime import UTC, datetime

    from hygeia.ews.devices import Binding
    from hygeia.ews.monitor import bind_device, parse_time

    try:
        t0 = parse_time(start, "--start") if start else datetime.now(UTC)
        t1 = parse_time(end, "--end") if end else None
        bind_device(_open_store(database), Binding(device_id, patient_id, t0, t1), ward=ward)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"bound {device_id} to {patient_id} from {t0.isoformat()}" + (f" to {t1.isoformat()}" if t1 else ""))


def _print_alert(console: Console, a: dict[str, Any], event: str = "") -> None:
    style = _LEVEL_STYLE.get(int(a["level"]), "")
    head = f"[{style}]{a['risk']:<10}[/]" if style else f"{a['risk']:<10}"
    prefix = f"{event} " if event else ""
    console.print(f"{prefix}{head} {a['id']}  patient {a['patient_id']}  ward {a['ward'] or '-'}  "
                  f"NEWS2 {a['total']}  -> {', '.join(a['recipients'])}  [{a['status']}] "
                  f"sent {a['sends']}x", highlight=False)


@alerts_app.command("list")
def alerts_list(
    ward: str | None = typer.Option(None, help="Only this ward."),
    patient: str | None = typer.Option(None, help="Only this patient."),
    database: str | None = _DB_OPTION,
) -> None:
    """Open alerts, most urgent first."""
    from hygeia.ews.monitor import open_alerts

    console = Console()
    rows = open_alerts(_open_store(database), ward=ward, patient_id=patient)
    for a in rows:
        _print_alert(console, a)
    if not rows:
        console.print("no open alerts")


@alerts_app.command("ack")
def alerts_ack(
    alert_id: str = typer.Argument(..., metavar="ID", help="The alert's id (from `hygeia alerts list`)."),
    by: str = typer.Option(..., "--by", prompt="acknowledged by", help="Who acknowledges (name or user id)."),
    database: str | None = _DB_OPTION,
) -> None:
    """Acknowledge an alert: it stops being re-sent."""
    from hygeia.ews.monitor import acknowledge_alert

    try:
        a = acknowledge_alert(_open_store(database), alert_id, by)
    except KeyError:
        raise _fail(f"no alert {alert_id!r} (see `hygeia alerts list`)") from None
    typer.echo(f"{a['id']} acknowledged by {a['acknowledged_by']} at {a['acknowledged_at']}")


@alerts_app.command("tail")
def alerts_tail(
    follow: bool = typer.Option(True, "--follow/--no-follow", help="Keep waiting for new events."),
    since: int | None = typer.Option(None, help="Start after this event number (default: the last 20)."),
    interval: float = typer.Option(1.0, min=0.05, help="Polling interval in seconds."),
    database: str | None = _DB_OPTION,
) -> None:
    """Follow alert events (raised, resent, acknowledged, superseded) as they happen. Ctrl-C to stop."""
    import time

    from hygeia.ews.monitor import alert_events, last_event_seq

    store = _open_store(database)
    console = Console()
    cursor = since if since is not None else max(0, last_event_seq(store) - 20)
    try:
        while True:
            for seq, event, doc in alert_events(store, cursor):
                cursor = seq
                _print_alert(console, doc, f"#{seq} {event:<12}")
            if not follow:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        return
