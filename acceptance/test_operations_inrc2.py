"""INRC-II n005w4: the evaluator against the official validator's per-constraint breakdown."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from hygeia.operations.roster.inrc2 import (
    OFFICIAL_NAMES,
    evaluate_inrc2,
    parse_history,
    parse_scenario,
    parse_solution,
    parse_week,
)


def _evaluate(base: Path, folder: Path) -> tuple[dict[str, int], int, dict[str, int]]:
    scenario = parse_scenario(next(base.glob("Sc-*.txt")).read_text())
    match = re.fullmatch(r"Solution_H_(\d+)-WD_([\d-]+)", folder.name)
    assert match, folder.name
    history = parse_history(next(base.glob(f"H0-*-{match[1]}.txt")).read_text(), scenario)
    weeks, solutions = [], []
    for i, wd in enumerate(match[2].split("-")):
        weeks.append(parse_week(next(base.glob(f"WD-*-{wd}.txt")).read_text(), scenario))
        solutions.append(parse_solution(next(folder.glob(f"Sol-*-{wd}-{i}.txt")).read_text(), scenario))
    result = evaluate_inrc2(scenario, history, weeks, solutions)
    validator = (folder / "validator.txt").read_text()
    expected = {name: int(m[1]) for name in OFFICIAL_NAMES.values()
                if (m := re.search(rf"^{re.escape(name)}: (\d+)", validator, re.M))}
    total = re.search(r"^Total cost: (\d+)", validator, re.M)
    assert total and len(expected) == len(OFFICIAL_NAMES)
    return result.official(), int(total[1]), expected | {"hard": sum(result.hard.values())}


def test_n005w4_total_1695(reference: Callable[..., Path]) -> None:
    base = reference("ops", "rostering", "inrc2", "n005w4")
    got, total, expected = _evaluate(base, base / "Solution_H_0-WD_1-2-3-3")
    assert expected.pop("hard") == 0  # the official solution has no hard violations
    assert got == expected
    assert sum(got.values()) == total == 1695
