"""De-identification jobs: notes and the bulk FHIR export give the same output locally and on Dask."""

from __future__ import annotations

import os
import signal
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import psutil
import pytest

from hygeia.engine import DaskExecutor, FileSink, InProcessExecutor, JobReport, read_rows, run_job
from hygeia.engine.jobs.deid import NotesError, plan_deid_text, plan_export, read_notes
from hygeia.records.store import Store

from .fixtures import make_notes, populate_store

KEY = b"a-secret-key-of-32-characters-xx"


def test_notes_local_equals_dask_in_both_modes(tmp_path: Path, dask_cluster: Any) -> None:
    notes = make_notes(30)
    for key in (None, KEY):
        job = plan_deid_text(notes, key=key, partition_size=8)
        run_job(job, InProcessExecutor(), FileSink(tmp_path / f"l{bool(key)}", "ndjson"))
        run_job(job, DaskExecutor(dask_cluster.scheduler_address), FileSink(tmp_path / f"d{bool(key)}", "ndjson"))
        rows = read_rows(tmp_path / f"l{bool(key)}")
        assert rows == read_rows(tmp_path / f"d{bool(key)}") and [r["id"] for r in rows] == [n[0] for n in notes]
        assert all("555-" not in r["text"] and "Hargreaves" not in r["text"] for r in rows)
    assert "[NAME]" in read_rows(tmp_path / "lFalse")[0]["text"]
    assert "[NAME]" not in read_rows(tmp_path / "lTrue")[0]["text"]  # surrogates


def test_killing_a_worker_mid_job_still_gives_the_single_process_output(tmp_path: Path) -> None:
    from distributed import Client

    from hygeia.engine.executors import local_cluster

    job = plan_deid_text(make_notes(120), partition_size=3)  # 40 partitions
    run_job(job, InProcessExecutor(), FileSink(tmp_path / "single"))
    with local_cluster(2) as cluster, Client(cluster.scheduler_address) as client:  # its own: a worker dies
        before = client.run(os.getpid)
        victim = min(before.values())
        killed: list[int] = []

        def kill(report: JobReport) -> None:
            if not killed and report.written >= 3:
                os.kill(victim, signal.SIGKILL)
                killed.append(report.written)

        report = run_job(
            job, DaskExecutor(cluster.scheduler_address), FileSink(tmp_path / "dask"), on_partition=kill
        )
        assert killed and killed[0] < len(job.partitions) and report.written == len(job.partitions)
        assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == psutil.STATUS_ZOMBIE
    assert read_rows(tmp_path / "dask") == read_rows(tmp_path / "single")


def test_export_local_equals_dask_and_holds_no_identifiers(store: Store, tmp_path: Path, dask_cluster: Any) -> None:
    populate_store(store, 5)
    job = plan_export(store, KEY, as_of=date(2025, 1, 1), partition_size=2)
    local = run_job(job, InProcessExecutor(), FileSink(tmp_path / "l"))
    run_job(job, DaskExecutor(dask_cluster.scheduler_address), FileSink(tmp_path / "d"))
    rows = read_rows(tmp_path / "l")
    assert rows == read_rows(tmp_path / "d") and local.rows == len(rows) == sum(store.counts().values())
    text = "".join(r["resource"] for r in rows)
    assert "pt-00" not in text and "Hargreaves" not in text and "Okafor" not in text
    patients = [orjson.loads(r["resource"]) for r in rows if r["resource_type"] == "Patient"]
    assert all(len(p["birthDate"]) == 4 for p in patients)  # year only


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{not json", ":2: not valid JSON"),
        (b"[1, 2]", ":2: expected a JSON object"),
        (b'{"id": 3, "text": 4}', ":2: field 'text'"),
    ],
)
def test_malformed_notes_are_named_with_their_line(tmp_path: Path, line: bytes, message: str) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_bytes(b'{"id": 1, "text": "ok"}\n' + line + b"\n")
    with pytest.raises(NotesError, match=message):
        read_notes(path)
    with pytest.raises(NotesError, match="cannot read"):
        read_notes(tmp_path / "missing.jsonl")
