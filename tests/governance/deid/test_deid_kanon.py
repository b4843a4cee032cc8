"""k-anonymity search and risk measures on a small synthetic table."""

from __future__ import annotations

import pytest

from hygeia.governance.deid.kanon import Anonymiser, parse_hierarchy, table_risk

AGE = [[str(a), f"{a // 10 * 10}-{a // 10 * 10 + 9}", "*"] for a in range(20, 60)]
SEX = [["F", "*"], ["M", "*"]]
ROWS = [(str(20 + (i * 7) % 40), "F" if i % 3 else "M") for i in range(60)]


def anonymiser() -> Anonymiser:
    cols = {"age": [r[0] for r in ROWS], "sex": [r[1] for r in ROWS]}
    return Anonymiser(cols, [parse_hierarchy("age", AGE), parse_hierarchy("sex", SEX)])


def test_optimal_solution_is_k_anonymous_and_minimal() -> None:
    a = anonymiser()
    best = a.optimise(k=5)
    assert best.suppressed == 0 and best.min_class >= 5
    for node in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]:
        other = a.evaluate(node, 5, 0.0)
        if other is not None:
            assert other.info_loss >= best.info_loss


def test_suppression_lowers_loss() -> None:
    a = anonymiser()
    assert a.optimise(k=5, max_suppression=0.2).info_loss <= a.optimise(k=5).info_loss


def test_risk_and_l_diversity() -> None:
    risk = table_risk([("a", "1"), ("a", "1"), ("b", "2")], sensitive=["x", "y", "x"])
    assert (risk.k, risk.classes, risk.l_diversity) == (1, 2, 1)
    assert risk.max_risk == 1.0 and risk.records_at_risk == pytest.approx(1.0)
    assert table_risk([("a",)] * 10, threshold=0.2).records_at_risk == 0.0


def test_bad_input_named() -> None:
    with pytest.raises(ValueError, match=r"age.*not in its hierarchy"):
        Anonymiser({"age": ["999"]}, [parse_hierarchy("age", AGE)])
    with pytest.raises(ValueError, match="h:2: 1 columns"):
        parse_hierarchy("x", [["a", "*"], ["b"]], "h")
    with pytest.raises(ValueError, match="k must"):
        anonymiser().optimise(k=0)
