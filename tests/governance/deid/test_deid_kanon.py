"""k-anonymity search and risk measures on a small synthetic table."""

from __future__ import annotations

import itertools

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


ZIP = [[f"{z}", f"{z[:4]}*", f"{z[:3]}**", "*"] for z in (f"130{d}{e}" for d in range(4) for e in range(5))]
DISEASE = ["flu", "flu", "cancer", "asthma", "flu", "hiv"]


def three_qi(sensitive: bool = False) -> Anonymiser:
    rows = [(str(20 + (i * 7) % 40), "F" if i % 3 else "M", ZIP[(i * 11) % len(ZIP)][0]) for i in range(90)]
    cols = {"age": [r[0] for r in rows], "sex": [r[1] for r in rows], "zip": [r[2] for r in rows]}
    sens = [DISEASE[(i * 5) % len(DISEASE)] for i in range(90)] if sensitive else None
    hierarchies = [parse_hierarchy("age", AGE), parse_hierarchy("sex", SEX), parse_hierarchy("zip", ZIP)]
    return Anonymiser(cols, hierarchies, sensitive=sens)


def brute_force(a: Anonymiser, k: int, s: float, l_div: int | None = None) -> tuple[float, tuple[int, ...]]:
    """Best minimal valid node by exhaustive evaluation (the search's contract, without its pruning)."""
    solutions = {n: a.evaluate(n, k, s, l_div) for n in itertools.product(*(range(h) for h in a.heights))}
    valid = {n: sol.info_loss for n, sol in solutions.items() if sol is not None}
    minimal = [n for n in valid if not any((*n[:i], v - 1, *n[i + 1 :]) in valid for i, v in enumerate(n) if v)]
    best = min(minimal, key=lambda n: (valid[n], sum(n), n))
    return valid[best], best


@pytest.mark.parametrize(("k", "s"), [(2, 0.0), (5, 0.0), (5, 0.1), (10, 0.05), (20, 0.0)])
def test_search_matches_exhaustive_evaluation(k: int, s: float) -> None:
    a = three_qi()
    best = a.optimise(k, s)
    loss, node = brute_force(a, k, s)
    assert best.info_loss == pytest.approx(loss) and best.levels == node
    assert best.min_class >= k and best.suppressed <= s * a.n


def test_anonymity_is_monotone_along_generalisation() -> None:
    a = three_qi()
    for node in itertools.product(*(range(h) for h in a.heights)):
        if a.is_anonymous(node, 5, 0.05):
            ups = [(*node[:i], v + 1, *node[i + 1 :]) for i, v in enumerate(node) if v + 1 < a.heights[i]]
            assert all(a.is_anonymous(u, 5, 0.05) for u in ups)


def test_l_diversity_search_and_generalise() -> None:
    a = three_qi(sensitive=True)
    best = a.optimise(3, 0.0, l_div=3)
    assert best.min_l is not None and best.min_l >= 3 and best.min_class >= 3
    loss, node = brute_force(a, 3, 0.0, 3)
    assert best.info_loss == pytest.approx(loss) and best.levels == node
    assert a.optimise(3, 0.0).info_loss <= best.info_loss
    columns, suppressed = a.generalise(best.levels, 3, 0.0, 3)
    assert not suppressed.any() and len(columns) == 3 and len(columns[0]) == a.n
    risk = table_risk(list(zip(*columns, strict=True)))
    assert risk.k == best.min_class
    with pytest.raises(ValueError, match="sensitive column"):
        three_qi().optimise(3, 0.0, l_div=2)
    with pytest.raises(ValueError, match="no transformation reaches k=91"):
        a.optimise(91, 0.0)
