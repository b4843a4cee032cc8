"""NDJSON ingest memory: generate an NDJSON file (default 1 GB) of Observations and ingest it; memory
must stay flat (peak RSS reported, and RSS sampled along the way), not grow with the file.

Usage: python benchmarks/bench_records_ndjson.py [--mb 1024] [--keep]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psutil

from hygeia.records import Store, ingest_paths


def generate(path: Path, megabytes: int) -> int:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    target = megabytes * 1024 * 1024
    written = count = 0
    with path.open("wb") as fh:
        fh.write(orjson.dumps({"resourceType": "Patient", "id": "bulk", "gender": "female"}) + b"\n")
        while written < target:
            line = orjson.dumps({
                "resourceType": "Observation", "id": f"bulk-{count}", "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                          "code": "vital-signs"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
                "subject": {"reference": "Patient/bulk"},
                "effectiveDateTime": (start + timedelta(seconds=30 * count)).isoformat(),
                "valueQuantity": {"value": 60 + count % 60, "unit": "/min", "system": "http://unitsofmeasure.org",
                                  "code": "/min"},
            }) + b"\n"
            fh.write(line)
            written += len(line)
            count += 1
    return count + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=1024)
    args = parser.parse_args()
    process = psutil.Process()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Observation.ndjson"
        n = generate(path, args.mb)
        store = Store(f"sqlite:///{tmp}/bench.db")
        store.init()
        samples: list[tuple[float, int]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                samples.append((time.perf_counter(), process.memory_info().rss))
                time.sleep(0.5)

        baseline = process.memory_info().rss
        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        started = time.perf_counter()
        report = ingest_paths(store, [path])
        seconds = time.perf_counter() - started
        done.set()
        thread.join()
        rss = [r for _, r in samples]
        quarter = max(1, len(rss) // 4)
        mib = 1024 * 1024
        print(f"{path.stat().st_size / mib:.0f} MiB NDJSON, {n} resources ingested in {seconds:.0f} s "
              f"({report.resources / seconds:.0f} resources/s)")
        print(f"RSS before {baseline / mib:.0f} MiB; peak {max(rss) / mib:.0f} MiB; median RSS by quarter of the run: "
              + ", ".join(f"{statistics.median(rss[i:i + quarter]) / mib:.0f}" for i in range(0, len(rss), quarter))
              + " MiB (flat = memory does not grow with the file)")
        store.dispose()


if __name__ == "__main__":
    main()
