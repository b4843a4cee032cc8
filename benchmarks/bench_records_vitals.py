"""PatientRecord.vitals() for a patient with 10,000 observations: median latency (goal < 50 ms),
beside the obvious alternative of loading and parsing every Observation resource of the patient."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import orjson

from hygeia.records import PatientRecord, Store
from hygeia.records.codes import VITALS


def main(n: int = 10_000, repeats: int = 21) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.init()
        store.write([{"resourceType": "Patient", "id": "bench", "gender": "other"}])
        start = datetime(2025, 1, 1, tzinfo=UTC)
        batch = []
        for i in range(n):
            vital = VITALS[i % 6]
            batch.append({"resourceType": "Observation", "id": f"o{i}", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org", "code": vital.codes[0]}]},
                          "subject": {"reference": "Patient/bench"},
                          "effectiveDateTime": (start + timedelta(minutes=15 * i)).isoformat(),
                          "valueQuantity": {"value": 50 + i % 50, "unit": vital.unit, "code": vital.unit,
                                            "system": "http://unitsofmeasure.org"}})
        store.write(batch)
        timings, cpu = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            df = PatientRecord.load(store, "bench").vitals()
            timings.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        assert len(df) == n
        naive = []
        for _ in range(5):
            t = time.perf_counter()
            rows = [orjson.loads(orjson.dumps(r)) for r in store.patient_resources("bench", ["Observation"])]
            naive.append((time.perf_counter() - t) * 1000)
        med, alt = statistics.median(timings), statistics.median(naive)
        load = os.getloadavg()[0]
        print(f"vitals() over {n} observations: median {med:.1f} ms wall, {statistics.median(cpu):.1f} ms CPU "
              f"(goal < 50 ms); loading all {len(rows)} Observation resources instead: {alt:.1f} ms wall; "
              f"ratio {alt / med:.1f}x  [load average {load:.1f} on {os.cpu_count()} cores]")
        store.dispose()


if __name__ == "__main__":
    main()
