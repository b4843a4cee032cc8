"""k-anonymity, l-diversity and re-identification risk of a table; optimal full-domain generalisation.

Definitions: k-anonymity (Sweeney 2002): every combination of quasi-identifier (QI) values is
shared by at least k records; distinct l-diversity (Machanavajjhala et al. 2007): every such
class holds at least l distinct sensitive values; prosecutor re-identification risk of a record
is 1 / (size of its class) (El Emam 2013).

Generalisation: each QI has a hierarchy (column 0 the original value, column i its level-i
generalisation, as ARX writes them). A transformation is one level per QI (full-domain), and
records in classes smaller than k may be suppressed up to a fraction of the table. The search
visits the lattice in order of a lower bound of the loss (the loss with nothing suppressed), skips
every node above an anonymous one (k-anonymity with suppression is monotone along
generalisation) and stops when the bound reaches the best loss found, so it returns a globally
optimal node under
ARX's monotonic non-uniform entropy (Prasser et al., "Lightning", and ARX's
``MetricMDNUEntropy``): for every QI and every record, -log2(count of the record's original value
/ count of its generalised value), counts over the whole input; a suppressed record counts as
generalised to the top level.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Hierarchy:
    """``levels[i][v]``: the level-i code of original value code ``v``; ``labels[i]`` their names."""

    attribute: str
    values: list[str]
    levels: list[npt.NDArray[np.int64]]
    labels: list[list[str]]


def parse_hierarchy(attribute: str, rows: Sequence[Sequence[str]], source: str = "hierarchy") -> Hierarchy:
    """Build a hierarchy from rows ``[original, level1, level2, ...]``; errors name the row."""
    if not rows:
        raise ValueError(f"{source}: empty hierarchy")
    depth = len(rows[0])
    for number, row in enumerate(rows, start=1):
        if len(row) != depth:
            raise ValueError(f"{source}:{number}: {len(row)} columns, expected {depth} like the first row")
    values = [r[0] for r in rows]
    if len(set(values)) != len(values):
        raise ValueError(f"{source}: duplicate original values")
    levels: list[npt.NDArray[np.int64]] = []
    labels: list[list[str]] = []
    for i in range(depth):
        names = sorted({r[i] for r in rows})
        index = {n: j for j, n in enumerate(names)}
        levels.append(np.array([index[r[i]] for r in rows], dtype=np.int64))
        labels.append(names)
    return Hierarchy(attribute, values, levels, labels)


@dataclass(frozen=True)
class Solution:
    levels: tuple[int, ...]
    info_loss: float
    suppressed: int
    min_class: int  # among the records kept


class Anonymiser:
    """A table's QI columns encoded against their hierarchies, ready to evaluate transformations."""

    def __init__(self, columns: dict[str, Sequence[str]], hierarchies: Sequence[Hierarchy]) -> None:
        self.hierarchies = list(hierarchies)
        self.codes: list[npt.NDArray[np.int64]] = []
        for h in self.hierarchies:
            index = {v: i for i, v in enumerate(h.values)}
            column = columns.get(h.attribute)
            if column is None:
                raise ValueError(f"column {h.attribute!r} missing from the table")
            missing = sorted({v for v in column if v not in index})
            if missing:
                raise ValueError(f"column {h.attribute!r}: values not in its hierarchy: {missing[:5]}")
            self.codes.append(np.array([index[v] for v in column], dtype=np.int64))
        self.n = len(self.codes[0]) if self.codes else 0
        # per attribute, level: per-record cost -log2(count(original) / count(generalised))
        self.cost: list[list[npt.NDArray[np.float64]]] = []
        for h, c in zip(self.hierarchies, self.codes, strict=True):
            orig = np.bincount(c, minlength=len(h.values))[c].astype(np.float64)
            per_level = []
            for lvl in h.levels:
                g = lvl[c]
                gen = np.bincount(g)[g].astype(np.float64)
                per_level.append(-np.log2(orig / gen))
            self.cost.append(per_level)

    @property
    def heights(self) -> list[int]:
        return [len(h.levels) for h in self.hierarchies]

    def classes(self, levels: Sequence[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(class id of each record, size of each class) under a transformation."""
        key = np.zeros(self.n, dtype=np.int64)
        for h, c, lv in zip(self.hierarchies, self.codes, levels, strict=True):
            g = h.levels[lv][c]
            key = key * (len(h.labels[lv]) + 1) + g
        _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        return inverse, counts

    def evaluate(self, levels: Sequence[int], k: int, max_suppression: float) -> Solution | None:
        """The solution at ``levels``, or None when more than the allowed records fall below k."""
        inverse, counts = self.classes(levels)
        small = counts[inverse] < k
        suppressed = int(small.sum())
        if suppressed > max_suppression * self.n:
            return None
        loss = 0.0
        for cost, lv in zip(self.cost, levels, strict=True):
            loss += float(cost[lv][~small].sum() + cost[-1][small].sum())
        kept = counts[counts >= k]
        return Solution(tuple(levels), loss, suppressed, int(kept.min()) if kept.size else 0)

    def optimise(self, k: int, max_suppression: float = 0.0) -> Solution:
        """Globally optimal full-domain transformation reaching k (minimum information loss)."""
        if k < 1:
            raise ValueError("k must be at least 1")
        # Lower bound of a node's loss: its loss with nothing suppressed (suppression only adds).
        totals = [[float(c.sum()) for c in per_level] for per_level in self.cost]

        def bound(node: tuple[int, ...]) -> float:
            return sum(t[lv] for t, lv in zip(totals, node, strict=True))

        nodes = sorted(itertools.product(*(range(h) for h in self.heights)), key=lambda t: (bound(t), sum(t), t))
        above: set[tuple[int, ...]] = set()  # anonymous nodes and every node above one
        best: Solution | None = None
        for node in nodes:
            if best is not None and bound(node) >= best.info_loss:
                break  # every later node has at least this loss
            preds = ((*node[:i], v - 1, *node[i + 1 :]) for i, v in enumerate(node) if v > 0)
            if any(p in above for p in preds):
                above.add(node)  # anonymous too, and never less loss (monotone metric)
                continue
            solution = self.evaluate(node, k, max_suppression)
            if solution is None:
                continue
            above.add(node)
            if best is None or solution.info_loss < best.info_loss:
                best = solution
        if best is None:
            raise ValueError(f"no transformation reaches k={k} within {max_suppression:.0%} suppression")
        return best


@dataclass(frozen=True)
class Risk:
    records: int
    classes: int
    k: int  # smallest class
    l_diversity: int | None  # fewest distinct sensitive values in a class
    max_risk: float  # prosecutor: 1 / smallest class
    average_risk: float  # classes / records
    records_at_risk: float  # share of records in classes with risk above the threshold


def table_risk(rows: Sequence[Sequence[str]], sensitive: Sequence[str] | None = None, threshold: float = 0.2) -> Risk:
    """k, distinct l and prosecutor re-identification risk of QI tuples ``rows``."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, row in enumerate(rows):
        groups.setdefault(tuple(row), []).append(i)
    if not groups:
        raise ValueError("empty table")
    sizes = [len(v) for v in groups.values()]
    ldiv = min(len({sensitive[i] for i in v}) for v in groups.values()) if sensitive is not None else None
    at_risk = sum(s for s in sizes if 1 / s > threshold)
    return Risk(len(rows), len(sizes), min(sizes), ldiv, 1 / min(sizes), len(sizes) / len(rows), at_risk / len(rows))
