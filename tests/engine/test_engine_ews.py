"""NEWS2 backfill over stored vitals: local and Dask agree; Parquet and store outputs are idempotent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from hygeia.engine import DaskExecutor, FileSink, InProcessExecutor, StoreSink, read_rows, run_job
from hygeia.engine.jobs.ews import plan_ews_backfill
from hygeia.records.store import Store

from .fixtures import populate_store


def test_backfill_local_equals_dask_and_reruns_are_idempotent(store: Store, tmp_path: Path, dask_cluster: Any) -> None:
    ids = populate_store(store, 9)
    job = plan_ews_backfill(store, partition_size=4, resources=True)
    assert [p.size for p in job.partitions] == [4, 4, 1]
    local = run_job(job, InProcessExecutor(), FileSink(tmp_path / "local"))
    run_job(job, DaskExecutor(dask_cluster.scheduler_address), FileSink(tmp_path / "dask"))
    rows = read_rows(tmp_path / "local")
    assert rows == read_rows(tmp_path / "dask") and local.rows == len(rows) > 9
    assert {r["patient_id"] for r in rows} == set(ids)
    for r in rows:  # the vectorised total and the scalar Observation agree
        obs = orjson.loads(r["resource"])
        assert obs["valueInteger"] == r["news2_total"] and obs["subject"]["reference"] == f"Patient/{r['patient_id']}"
        assert (obs["status"] == "final") == r["complete"]
    # a re-run of the same job over an unchanged store skips every partition
    assert (
        run_job(
            plan_ews_backfill(store, partition_size=4, resources=True),
            InProcessExecutor(),
            FileSink(tmp_path / "local"),
        ).skipped
        == 3
    )
    # new data for one patient: only that patient's partition is recomputed
    store.write(
        [
            {
                "resourceType": "Observation",
                "id": "late-hr",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
                "subject": {"reference": f"Patient/{ids[5]}"},
                "effectiveDateTime": "2024-03-01T20:00:00+00:00",
                "valueQuantity": {"value": 140, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
            }
        ]
    )
    again = run_job(
        plan_ews_backfill(store, partition_size=4, resources=True), InProcessExecutor(), FileSink(tmp_path / "local")
    )
    assert (again.written, again.skipped) == (1, 2)
    # to the store: a second run creates nothing (upserts of unchanged content keep their version)
    first, second = StoreSink(store), StoreSink(store)
    run_job(job, DaskExecutor(dask_cluster.scheduler_address), first)
    run_job(job, InProcessExecutor(), second)
    assert first.created == len(read_rows(tmp_path / "local")) == len(rows) + 1
    assert (second.created, second.updated) == (0, 0)
