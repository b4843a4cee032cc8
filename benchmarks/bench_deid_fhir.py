"""Resources/s of the FHIR de-identification profile on the synthetic hospital's bundles.

Generate the hospital first: ``hygeia synth --patients 100 --out DIR`` (FHIR bundles in DIR/fhir).
Anchor: reading and re-serialising the same resources (orjson), the floor any profile pays.

    python benchmarks/bench_deid_fhir.py DIR/fhir [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from hygeia.governance.deid.fhir import FhirDeidConfig, deidentify_resource


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bundles: list[dict[str, Any]] = [orjson.loads(p.read_bytes()) for p in sorted(args.folder.glob("*.json"))]
    count = sum(len(b.get("entry", [])) for b in bundles)
    config = FhirDeidConfig(key=b"benchmark-secret-key-0123456789", as_of=date(2025, 1, 1))
    ours, floor = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for b in bundles:
            deidentify_resource(b, config)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        for b in bundles:
            orjson.loads(orjson.dumps(b))
        floor.append(time.perf_counter() - start)
    rate, base = count / statistics.median(ours), count / statistics.median(floor)
    print(f"{len(bundles)} bundles, {count} resources, median of {args.repeats} repeats, 1 process")
    print(f"{'hygeia FHIR de-identification':36} {rate:12.0f} resources/s")
    print(f"{'orjson round trip (floor)':36} {base:12.0f} resources/s")
    print(f"{'ratio':36} {rate / base:12.3f} x")


if __name__ == "__main__":
    main()
