"""k-anonymity on Adult with ARX's hierarchies against the solutions ARX's JUnit tests expect.

ARX's metric is monotonic non-uniform entropy (see ``hygeia.governance.deid.kanon``). For all four
cases ARX's expected node is checked to be valid under our evaluation; the full search (about a
minute on a free core, more on a loaded one) runs for k=5 at 4 % suppression to stay in budget.
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
        theirs = a.evaluate(case["expected_levels"], case["k"], case["max_suppression"])
        assert theirs is not None and theirs.min_class >= case["k"]
        if case["max_suppression"] == 0.0:
            assert abs(theirs.info_loss - case["expected_info_loss"]) < 1e-6 * case["expected_info_loss"]
    case = next(c for c in expected["cases"] if c["k"] == 5 and c["max_suppression"] == 0.04)
    ours = a.optimise(case["k"], case["max_suppression"])
    theirs = a.evaluate(case["expected_levels"], case["k"], case["max_suppression"])
    assert theirs is not None
    assert ours.suppressed <= 0.04 * a.n and ours.min_class >= 5
    assert ours.info_loss <= theirs.info_loss + 1e-6
    print(f"\nk=5 4%: ours {ours.levels} loss {ours.info_loss:.1f}; ARX {tuple(case['expected_levels'])}")
