"""Ingest the 60 Synthea R4 sample bundles into SQLite and PostgreSQL; compare with the floor of
merely parsing and validating the same resources with fhir.resources (goal: ratio >= 0.5).

Usage: python benchmarks/bench_records_ingest.py [--repeats 3] [--postgres URL]
(PostgreSQL URL defaults to HYGEIA_TEST_POSTGRES_URL; it creates and drops a scratch database.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import orjson
from sqlalchemy import create_engine, text

from hygeia.config import Settings
from hygeia.records import Store, ingest_paths
from hygeia.records.ingest import bundle_resources
from hygeia.records.validate import validate_resource


def parse_and_validate(files: list[Path]) -> tuple[int, float]:
    started = time.perf_counter()
    n = 0
    for f in files:
        for resource in bundle_resources(orjson.loads(f.read_bytes()), str(f)):
            validate_resource(resource)
            n += 1
    return n, time.perf_counter() - started


def ingest(url: str, files: list[Path]) -> tuple[int, float]:
    store = Store(url)
    store.init()
    report = ingest_paths(store, files)
    store.dispose()
    return report.resources, report.seconds


def scratch_postgres(base_url: str) -> tuple[str, object]:
    name = f"hygeia_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    return base_url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("HYGEIA_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    root = Settings().reference("clinical", "synthea", "r4-sample")
    files = sorted(root.glob("*.json"))
    print(f"{len(files)} Synthea R4 sample bundles from {root}")
    targets: list[tuple[str, str | None]] = [("SQLite", None)]
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    floor_rates: list[float] = []
    rates: dict[str, list[float]] = {label: [] for label, _ in targets}
    ratios: dict[str, list[float]] = {label: [] for label, _ in targets}
    for _ in range(args.repeats):  # interleaved, so that each ratio is taken under the same machine load
        for label, base in targets:
            n, floor_seconds = parse_and_validate(files)
            floor_rates.append(n / floor_seconds)
            if base is None:
                with tempfile.TemporaryDirectory() as tmp:
                    count, seconds = ingest(f"sqlite:///{tmp}/bench.db", files)
            else:
                url, drop = scratch_postgres(base)
                try:
                    count, seconds = ingest(url, files)
                finally:
                    drop()  # type: ignore[operator]
            rates[label].append(count / seconds)
            ratios[label].append((count / seconds) / (n / floor_seconds))
    print(f"{'parse + validate (fhir.resources R4B)':<42} {statistics.median(floor_rates):>9.0f} resources/s  (n={n})")
    for label, _ in targets:
        print(f"{'ingest into ' + label:<42} {statistics.median(rates[label]):>9.0f} resources/s  "
              f"median ratio to floor {statistics.median(ratios[label]):.2f}  (goal >= 0.5)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
