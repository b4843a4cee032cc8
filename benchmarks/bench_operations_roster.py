"""Curtois & Qu: objective vs best-known, gap and time to best — CP-SAT+LNS vs the plain CP-SAT model.

Run: ``python benchmarks/bench_operations_roster.py [--limit 60] [--instances Instance1 Instance2 …]``.
Anchor (issue 7): plain CP-SAT, 2 workers: Instance1 best in 0.3 s, Instance2 in 53 s, Instance3 1002 after 60 s.
"""

from __future__ import annotations

import argparse
import csv

from hygeia.config import get_settings
from hygeia.operations.roster import parse_curtois, solve_curtois


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per instance")
    parser.add_argument("--instances", nargs="*", default=[f"Instance{i}" for i in range(1, 8)])
    parser.add_argument("--plain", action="store_true", help="also run the plain model (no LNS) as the anchor")
    args = parser.parse_args()
    folder = get_settings().reference("ops", "rostering", "curtois")
    rows = csv.DictReader((folder / "best_known.csv").open())
    best = {r["instance"]: int(r["best_known_ub_wssuite_nrp_yml"]) for r in rows}
    print(f"{'instance':10} {'method':9} {'objective':>9} {'best':>6} {'gap%':>6} {'t_best_s':>8} feasible")
    for name in args.instances:
        inst = parse_curtois((folder / f"{name}.txt").read_text(), name)
        for method, lns in (("lns", True), ("plain", False))[: 2 if args.plain else 1]:
            trace: list[tuple[float, int]] = []
            plan = solve_curtois(inst, args.limit, workers=2, seed=0, lns=lns,
                                 progress=lambda t, o, trace=trace: trace.append((t, o)))
            t_best = next((t for t, o in trace if o == plan.objective), plan.seconds)
            gap = 100.0 * (plan.objective - best[name]) / best[name]
            row = f"{name:10} {method:9} {plan.objective:>9} {best[name]:>6} {gap:>6.2f} {t_best:>8.1f}"
            print(row, plan.feasible, flush=True)


if __name__ == "__main__":
    main()
