"""k-anonymity search time on Adult with ARX's hierarchies, beside a plain bound-ordered search.

Anchor (``--baseline``): visit every node of the lattice in order of its loss bound, checking each
one whose predecessors are all failing (the search Hygeia used before predictive tagging); it
returns the same node. Needs the reference data (``privacy/kanonymity``). Wall and CPU time
(``time.process_time``) per case; one process.

    python benchmarks/bench_deid_kanon.py [--baseline]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import time
from pathlib import Path

from hygeia.config import get_settings
from hygeia.governance.deid.kanon import Anonymiser, Solution, parse_hierarchy


def load(folder: Path) -> Anonymiser:
    with (folder / "adult.csv").open(encoding="utf-8") as fh:
        head, *body = list(csv.reader(fh, delimiter=";"))
    hierarchies = []
    for h in head:
        with (folder / f"adult_hierarchy_{h}.csv").open(encoding="utf-8") as fh:
            hierarchies.append(parse_hierarchy(h, list(csv.reader(fh, delimiter=";"))))
    return Anonymiser({h: [r[i] for r in body] for i, h in enumerate(head)}, hierarchies)


def baseline(a: Anonymiser, k: int, s: float) -> tuple[Solution, int]:
    totals = [[float(c.sum()) for c in per_level] for per_level in a.cost]

    def bound(node: tuple[int, ...]) -> float:
        return sum(t[lv] for t, lv in zip(totals, node, strict=True))

    above: set[tuple[int, ...]] = set()
    best: Solution | None = None
    checks = 0
    for node in sorted(itertools.product(*(range(h) for h in a.heights)), key=lambda t: (bound(t), sum(t), t)):
        if best is not None and bound(node) >= best.info_loss:
            break
        if any((*node[:i], v - 1, *node[i + 1 :]) in above for i, v in enumerate(node) if v > 0):
            above.add(node)
            continue
        checks += 1
        solution = a.evaluate(node, k, s)
        if solution is None:
            continue
        above.add(node)
        if best is None or solution.info_loss < best.info_loss:
            best = solution
    assert best is not None
    return best, checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", action="store_true", help="also run the plain search (minutes)")
    args = parser.parse_args()
    folder = get_settings().reference("privacy", "kanonymity")
    cases = json.loads((folder / "arx_junit_kanonymity_expected.json").read_text(encoding="utf-8"))["cases"]
    a = load(folder)
    print(f"Adult: {a.n} records, lattice {'x'.join(map(str, a.heights))}; wall / CPU seconds, one process")
    print(
        f"{'case':12} {'node':28} {'ARX node?':9} {'hygeia':>15}"
        + (f" {'baseline':>15} {'CPU ratio':>9}" if args.baseline else "")
    )
    for case in cases:
        k, s = case["k"], case["max_suppression"]
        w, c = time.perf_counter(), time.process_time()
        ours = a.optimise(k, s)
        ours_t = (time.perf_counter() - w, time.process_time() - c)
        line = (
            f"k={k:<3} {s:4.0%}   {list(ours.levels)!s:28} {list(ours.levels) == case['expected_levels']!s:9}"
            f" {ours_t[0]:6.1f} / {ours_t[1]:5.1f}"
        )
        if args.baseline:
            w, c = time.perf_counter(), time.process_time()
            theirs, _ = baseline(a, k, s)
            base_t = (time.perf_counter() - w, time.process_time() - c)
            assert theirs.levels == ours.levels
            line += f" {base_t[0]:6.1f} / {base_t[1]:5.1f} {base_t[1] / ours_t[1]:8.0f}x"
        print(line, flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
