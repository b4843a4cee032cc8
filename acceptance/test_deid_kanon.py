"""k-anonymity on Adult with ARX's hierarchies against the solutions ARX's JUnit tests expect.

ARX's metric is monotonic non-uniform entropy (see ``hygeia.governance.deid.kanon``). For all four
cases ARX's expected node is checked to be valid under our evaluation, and the full search runs
(a few seconds of CPU each) and must return ARX's node, or one no worse by the metric.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from hygeia.governance.deid.kanon import Anonymiser, parse_hierarchy


def load(folder: Path) -> Anonymiser:
    with (folder / "adult.csv").open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    head, body = rows[0], rows[1:]
    columns = {h: [r[i] for r in body] for i, h in enumerate(head)}
    hierarchies = []
    for h in head:
        with (folder / f"adult_hierarchy_{h}.csv").open(encoding="utf-8") as fh:
            hierarchies.append(parse_hierarchy(h, list(csv.reader(fh, delimiter=";")), f"adult_hierarchy_{h}.csv"))
    return Anonymiser(columns, hierarchies)


def test_arx_expected_nodes_and_our_optimum(reference: Callable[..., Path]) -> None:
    folder = reference("privacy", "kanonymity")
    expected = json.loads((folder / "arx_junit_kanonymity_expected.json").read_text(encoding="utf-8"))
    a = load(folder)
    for case in expected["cases"]:
        k, s = case["k"], case["max_suppression"]
        theirs = a.evaluate(case["expected_levels"], k, s)
        assert theirs is not None and theirs.min_class >= k
        if s == 0.0:
            assert abs(theirs.info_loss - case["expected_info_loss"]) < 1e-6 * case["expected_info_loss"]
        ours = a.optimise(k, s)
        assert ours.suppressed <= s * a.n and ours.min_class >= k
        assert ours.info_loss <= theirs.info_loss + 1e-6
        print(f"\nk={k} {s:.0%}: ours {ours.levels} loss {ours.info_loss:.2f}; ARX {tuple(case['expected_levels'])}")
        assert list(ours.levels) == case["expected_levels"]
