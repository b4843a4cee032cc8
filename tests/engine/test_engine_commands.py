"""The plain batch commands with --engine local|dask: the same output as without --engine."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from hygeia.cli import app
from hygeia.config import get_settings
from hygeia.engine import DaskExecutor, InProcessExecutor, MemorySink, run_job
from hygeia.engine.jobs.ews import plan_csv_rows
from hygeia.engine.jobs.pgx import plan_pgx_stage
from hygeia.ews.batch import score_rows
from hygeia.records.store import Store
from tests.pgx.test_cli import _kb_dir

from .fixtures import make_notes, populate_store, tiny_kb, write_multisample_vcf

runner = CliRunner()


def _engines(cluster: Any) -> list[list[str]]:
    """No --engine (the plain path), then the engine in process, then on the shared Dask cluster."""
    return [[], ["--engine", "local"], ["--engine", "dask", "--scheduler", cluster.scheduler_address]]


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_pgx_match(tmp_path: Path, dask_cluster: Any) -> None:
    kb = tiny_kb()
    kb_root = _kb_dir(kb, tmp_path / "kb")
    vcf = tmp_path / "cohort.vcf"
    write_multisample_vcf(kb, vcf, 17)
    docs = [_ok(["pgx", "match", str(vcf), "--kb", str(kb_root), *e]) for e in _engines(dask_cluster)]
    assert docs[0] == docs[1] == docs[2]
    assert [s["sample"] for s in orjson.loads(docs[0])["samples"]] == [f"S{i}" for i in range(17)]
    bad = runner.invoke(app, ["pgx", "match", str(tmp_path / "none.vcf"), "--kb", str(kb_root), "--engine", "dask"])
    assert bad.exit_code == 2 and "none.vcf: file not found" in bad.output


def test_pgx_stage_job_keeps_sample_order_over_partitions(tmp_path: Path, dask_cluster: Any) -> None:
    kb = tiny_kb()
    vcf = tmp_path / "cohort.vcf"
    write_multisample_vcf(kb, vcf, 23)
    job = plan_pgx_stage(vcf, kb, partition_size=4)
    sinks = [MemorySink(), MemorySink()]
    run_job(job, InProcessExecutor(), sinks[0])
    run_job(job, DaskExecutor(dask_cluster.scheduler_address), sinks[1])
    assert len(job.partitions) == 6 and sinks[0].rows() == sinks[1].rows()
    assert [r["sample"] for r in sinks[0].rows()] == [f"S{i}" for i in range(23)]


CSV = (
    "id,rr,spo2,scale,on_oxygen,sbp,pulse,acvpu,temp_c\n"
    "a,18,96,1,false,120,80,A,37.0\n"
    "b,26,90,1,true,88,135,V,39.5\n"
    "c,,96,1,false,120,80,A,37.0\n"
    "d,18,96,2,false,120,80,C,35.0,extra\n"
    "e,12,88,2,true,101,51,A,36.1\n"
)


def test_ews_score(tmp_path: Path, dask_cluster: Any) -> None:
    src = tmp_path / "in.csv"
    src.write_text(CSV)
    for i, e in enumerate(_engines(dask_cluster)):
        _ok(["ews", "score", str(src), "--out", str(tmp_path / f"out{i}.csv"), *e])
    outs = [(tmp_path / f"out{i}.csv").read_bytes() for i in range(3)]
    assert outs[0] == outs[1] == outs[2]
    rows = list(csv.DictReader(io.StringIO(outs[0].decode())))
    assert [r["id"] for r in rows] == ["a", "b", "c", "d", "e"] and rows[2]["error"] and not rows[0]["error"]
    stdout = [_ok(["ews", "score", str(src), *e]) for e in _engines(dask_cluster)[::2]]
    assert stdout[0] == stdout[1]
    missing = tmp_path / "bad.csv"
    missing.write_text("id,rr\n1,2\n")
    bad = runner.invoke(app, ["ews", "score", str(missing), "--engine", "local"])
    assert bad.exit_code == 2 and "missing column(s) spo2" in bad.output
    bad = runner.invoke(app, ["ews", "score", str(src), "--scheduler", "tcp://h:1"])
    assert bad.exit_code == 1 and "--scheduler needs --engine dask" in bad.output


def test_ews_rows_job_over_partitions_equals_one_chunk(dask_cluster: Any) -> None:
    rows: list[dict[str | None, object]] = list(csv.DictReader(io.StringIO(CSV + CSV.split("\n", 1)[1] * 2)))
    job = plan_csv_rows(rows, 9, partition_size=4)
    sink = MemorySink()
    run_job(job, DaskExecutor(dask_cluster.scheduler_address), sink)
    assert len(job.partitions) == 4 and sink.rows() == score_rows(rows, 9)


def test_deid_text(tmp_path: Path, dask_cluster: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = tmp_path / "notes.jsonl"
    notes.write_bytes(b"".join(orjson.dumps({"id": n, "text": t, "patient": p}) + b"\n" for n, (_, t, p) in
                               enumerate(make_notes(9))))
    monkeypatch.setenv("HYGEIA_DEID_KEY", "a-secret-key-of-32-characters-xx")
    for mode in ("tag", "surrogate"):
        outs = []
        for i, e in enumerate(_engines(dask_cluster)):
            out = tmp_path / f"{mode}{i}.jsonl"
            _ok(["deid", "text", "--input", str(notes), "--output", str(out), "--mode", mode, *e])
            outs.append(out.read_bytes())
        assert outs[0] == outs[1] == outs[2]
        first = orjson.loads(outs[0].splitlines()[0])
        assert first["id"] == 0 and first["spans"] and "555-" not in first["text"]  # ids keep their JSON type
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "ok"}\n{"id": 2}\n')
    r = runner.invoke(app, ["deid", "text", "-i", str(bad), "-o", str(tmp_path / "x.jsonl"), "--engine", "dask"])
    assert r.exit_code == 1 and "bad.jsonl:2: field 'text'" in r.output


@pytest.fixture
def cli_store(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setenv("HYGEIA_DATABASE_URL", sqlite_store.url)
    get_settings.cache_clear()
    yield sqlite_store
    get_settings.cache_clear()


def test_risk_score(cli_store: Store, model_dir: Path, dask_cluster: Any) -> None:
    ids = populate_store(cli_store, 5)
    one = [_ok(["risk", "score", str(model_dir), "--patient", ids[3], *e]) for e in _engines(dask_cluster)]
    assert one[0] == one[1] == one[2] and "%" in one[0]
    every = [_ok(["risk", "score", str(model_dir), "--json", *e]) for e in _engines(dask_cluster)[1:]]
    # a Finding's ids and issue time are made when it is made; everything else is equal
    made = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\d{4}-\d\d-\d\dT[0-9:.+Z]+")
    scrub = [made.sub("*", out) for out in every]
    assert scrub[0] == scrub[1] and scrub[0] != every[0]
    docs = [orjson.loads(line) for line in every[0].splitlines()]
    assert [d["finding"]["patient_id"] for d in docs] == ids
    r = runner.invoke(app, ["risk", "score", str(model_dir), "--stay", "x.txt", "--engine", "local"])
    assert r.exit_code == 1 and "not a --stay file" in r.output
