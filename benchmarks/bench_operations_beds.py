"""Monks et al. (2016) Table 2: published vs reproduced P(delay) by beds (ASU and rehab, +5 % admissions).

Run: ``python benchmarks/bench_operations_beds.py [--replications 150]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import time

from hygeia.config import get_settings
from hygeia.operations.simulation import SimulationConfig, parse_stroke_parameters, simulate_stroke_pathway


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=150)
    args = parser.parse_args()
    folder = get_settings().reference("ops", "beds", "monks2016_stroke")
    params = parse_stroke_parameters(json.loads((folder / "parameters.json").read_text()))
    rows = list(csv.DictReader((folder / "table2.csv").open()))
    for label, scale, column in (("current", 1.0, "prob_delay_current"), ("+5%", 1.05, "prob_delay_5%")):
        start = time.perf_counter()
        result = simulate_stroke_pathway(params, SimulationConfig(replications=args.replications, arrival_scale=scale))
        print(f"\n{label} admissions ({args.replications} replications, {time.perf_counter() - start:.1f}s)")
        print(f"{'unit':6} {'beds':>4} {'published':>9} {'simulated':>9} {'diff':>6}")
        for row in rows:
            if row[column]:
                sim = result[row["unit"]].prob_delay(int(row["beds"]))
                pub = float(row[column])
                print(f"{row['unit']:6} {row['beds']:>4} {pub:>9.3f} {sim:>9.3f} {sim - pub:>+6.3f}")


if __name__ == "__main__":
    main()
