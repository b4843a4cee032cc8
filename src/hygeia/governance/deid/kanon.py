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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd


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
    min_l: int | None = None  # fewest distinct sensitive values in a kept class (with ``sensitive``)


def _dense(key: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], int]:
    """Hash-based dense codes 0..m-1 of ``key`` (pandas factorize: O(n), no sort)."""
    codes, uniques = pd.factorize(key, sort=False)
    return codes.astype(np.int64, copy=False), len(uniques)


class Anonymiser:
    """A table's QI columns encoded against their hierarchies, ready to evaluate transformations.

    ``sensitive``: optional sensitive column for distinct l-diversity (``evaluate``/``optimise``
    with ``l_div``). Identical QI rows are merged up front (weights), so each check touches distinct
    rows only.
    """

    def __init__(
        self,
        columns: Mapping[str, Sequence[str]],
        hierarchies: Sequence[Hierarchy],
        sensitive: Sequence[str] | None = None,
    ) -> None:
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
        self.sensitive: npt.NDArray[np.int64] | None = None
        if sensitive is not None:
            if len(sensitive) != self.n:
                raise ValueError("sensitive column has a different number of rows")
            self.sensitive = pd.factorize(np.asarray(sensitive, dtype=object))[0].astype(np.int64)
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
        # distinct rows (QIs and, when given, the sensitive value) with their weights
        full = [*self.codes, self.sensitive] if self.sensitive is not None else list(self.codes)
        row_id = self._key(full, [int(c.max()) + 1 if c.size else 1 for c in full])
        self._row_of = row_id  # record -> distinct row
        first = np.zeros(int(row_id.max()) + 1 if self.n else 0, dtype=np.int64)
        first[row_id[::-1]] = np.arange(self.n - 1, -1, -1)
        self._weight = np.bincount(row_id).astype(np.int64) if self.n else np.zeros(0, np.int64)
        self._dcodes = [c[first] for c in self.codes]
        self._dsens = self.sensitive[first] if self.sensitive is not None else None

    @staticmethod
    def _key(columns: Sequence[npt.NDArray[np.int64]], sizes: Sequence[int]) -> npt.NDArray[np.int64]:
        """Dense id of each row's combination of ``columns`` (values below ``sizes``)."""
        if not columns:
            return np.zeros(0, dtype=np.int64)
        key = np.zeros(len(columns[0]), dtype=np.int64)
        span = 1
        for c, size in zip(columns, sizes, strict=True):
            if span * size >= 2**62:  # keep the mixed-radix key inside int64
                key, span = _dense(key)
            key = key * size + c
            span *= size
        return _dense(key)[0]

    @property
    def heights(self) -> list[int]:
        return [len(h.levels) for h in self.hierarchies]

    def _generalised(self, codes: Sequence[npt.NDArray[np.int64]], levels: Sequence[int]) -> npt.NDArray[np.int64]:
        cols = [h.levels[lv][c] for h, c, lv in zip(self.hierarchies, codes, levels, strict=True)]
        return self._key(cols, [len(h.labels[lv]) for h, lv in zip(self.hierarchies, levels, strict=True)])

    def classes(self, levels: Sequence[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(class id of each record, size of each class) under a transformation."""
        inverse = self._generalised(self.codes, levels)
        return inverse, np.bincount(inverse)

    def _small(
        self, levels: Sequence[int], k: int, l_div: int | None
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Per distinct row: in a class failing k (or l); class id; class sizes."""
        cls = self._generalised(self._dcodes, levels)
        sizes = np.bincount(cls, weights=self._weight).astype(np.int64)
        fail = sizes < k
        if l_div is not None and l_div > 1 and self._dsens is not None:
            pair = np.unique(cls * (int(self._dsens.max()) + 1) + self._dsens) // (int(self._dsens.max()) + 1)
            fail |= np.bincount(pair, minlength=len(sizes)) < l_div
        return fail[cls], cls, sizes

    def is_anonymous(self, levels: Sequence[int], k: int, max_suppression: float, l_div: int | None = None) -> bool:
        """Whether at most ``max_suppression`` of the records fall in classes below k (or l)."""
        small, _, _ = self._small(levels, k, l_div)
        return int(self._weight[small].sum()) <= max_suppression * self.n

    def evaluate(
        self, levels: Sequence[int], k: int, max_suppression: float, l_div: int | None = None
    ) -> Solution | None:
        """The solution at ``levels``, or None when more than the allowed records fall below k (or l)."""
        dsmall, cls, sizes = self._small(levels, k, l_div)
        small = dsmall[self._row_of]
        suppressed = int(small.sum())
        if suppressed > max_suppression * self.n:
            return None
        loss = 0.0
        for cost, lv in zip(self.cost, levels, strict=True):
            loss += float(cost[lv][~small].sum() + cost[-1][small].sum())
        kept_classes = np.unique(cls[~dsmall])
        kept = sizes[kept_classes]
        min_l = None
        if self._dsens is not None:
            keep = ~dsmall
            pairs = np.unique(np.stack([cls[keep], self._dsens[keep]], axis=1), axis=0)
            min_l = int(np.bincount(pairs[:, 0])[kept_classes].min()) if pairs.size else 0
        return Solution(tuple(levels), loss, suppressed, int(kept.min()) if kept.size else 0, min_l)

    def generalise(
        self, levels: Sequence[int], k: int, max_suppression: float, l_div: int | None = None
    ) -> tuple[list[list[str]], npt.NDArray[np.bool_]]:
        """Generalised labels of each QI column (hierarchy order) and which records are suppressed."""
        dsmall, _, _ = self._small(levels, k, l_div)
        suppressed = dsmall[self._row_of]
        columns = []
        for h, c, lv in zip(self.hierarchies, self.codes, levels, strict=True):
            names = np.asarray(h.labels[lv], dtype=object)
            columns.append(names[h.levels[lv][c]].tolist())
        return columns, suppressed

    def _projection_fails(self, k: int, max_suppression: float) -> npt.NDArray[np.bool_]:
        """Nodes that cannot be anonymous: a pair of QIs alone already leaves too many records below k.

        A record in a class below k under a node is in a class below k in every projection of the
        node (Incognito's subset property, LeFevre et al. 2005), so each pair's count is a lower bound.
        """
        heights = self.heights
        fails = np.zeros(heights, dtype=bool)
        m = len(heights)
        budget = max_suppression * self.n
        pairs = [(i, j) for i in range(m) for j in range(i + 1, m)] if m > 1 else [(0, 0)] if m else []
        for i, j in pairs:
            table = np.zeros((heights[i], heights[j]), dtype=bool)
            for li in range(heights[i]):
                for lj in range(heights[j]):
                    hi, hj = self.hierarchies[i], self.hierarchies[j]
                    cols = [hi.levels[li][self._dcodes[i]], hj.levels[lj][self._dcodes[j]]]
                    cls = self._key(cols, [len(hi.labels[li]), len(hj.labels[lj])])
                    sizes = np.bincount(cls, weights=self._weight)
                    table[li, lj] = float(self._weight[sizes[cls] < k].sum()) > budget
            shape = [1] * m
            shape[i], shape[j] = heights[i], heights[j]
            fails |= table.reshape(shape) if i != j else table.diagonal().reshape(shape)
        return fails

    def optimise(self, k: int, max_suppression: float = 0.0, l_div: int | None = None) -> Solution:
        """Globally optimal full-domain transformation reaching k (and l) with minimum information loss.

        Anonymity is monotone along generalisation, so each check classifies a whole cone of the
        lattice (predictive tagging, as in ARX's Flash, Kohlmayer et al. 2012): an anonymous node makes
        every node above it anonymous, a failing node every node below it failing. Unknown nodes are
        resolved by binary search along upward paths. With a monotone metric the optimum is a minimal
        anonymous node; nodes are visited in order of their loss bound (loss with nothing suppressed),
        so the search stops, and stops classifying, once the bound reaches the best loss found.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        if l_div is not None and self._dsens is None:
            raise ValueError("l-diversity needs a sensitive column")
        heights = self.heights
        status = np.zeros(heights, dtype=np.int8)  # 1 anonymous, -1 failing, 0 unknown
        status[self._projection_fails(k, max_suppression)] = -1

        def check(node: tuple[int, ...]) -> bool:
            ok = self.is_anonymous(node, k, max_suppression, l_div)
            cone = tuple(slice(v, None) for v in node) if ok else tuple(slice(0, v + 1) for v in node)
            status[cone] = 1 if ok else -1
            return ok

        # Lower bound of a node's loss: its loss with nothing suppressed (suppression only adds).
        totals = [[float(c.sum()) for c in per_level] for per_level in self.cost]
        nodes = list(itertools.product(*(range(h) for h in heights)))
        bound = {n: sum(t[lv] for t, lv in zip(totals, n, strict=True)) for n in nodes}
        best: Solution | None = None

        def resolve(node: tuple[int, ...], limit: float) -> None:
            """Binary search for the first anonymous node on an upward path of unknown nodes below ``limit``."""
            path = [node]
            while True:  # raise the first attribute whose successor is unknown and still worth knowing
                cur = path[-1]
                step = next(
                    (
                        nxt
                        for i in range(len(heights))
                        if cur[i] + 1 < heights[i]
                        for nxt in [(*cur[:i], cur[i] + 1, *cur[i + 1 :])]
                        if status[nxt] == 0 and bound[nxt] < limit
                    ),
                    None,
                )
                if step is None:
                    break
                path.append(step)
            lo, hi = 0, len(path) - 1
            while lo <= hi:
                mid = (lo + hi) // 2
                known = int(status[path[mid]])
                if known == 1 or (known == 0 and check(path[mid])):
                    hi = mid - 1
                else:
                    lo = mid + 1

        # Nodes in order of their bound (predecessors first): a node whose bound reaches the best loss
        # found, and every later one, cannot do better; only minimal anonymous nodes are scored.
        for node in sorted(nodes, key=lambda t: (bound[t], sum(t), t)):
            limit = best.info_loss if best is not None else float("inf")
            if bound[node] >= limit:
                break
            if status[node] == 0:
                resolve(node, limit)
            if status[node] != 1:
                continue
            preds = ((*node[:i], v - 1, *node[i + 1 :]) for i, v in enumerate(node) if v > 0)
            if any(status[p] == 1 for p in preds):
                continue  # above an anonymous node: never less loss (monotone metric)
            solution = self.evaluate(node, k, max_suppression, l_div)
            if solution is not None and (best is None or solution.info_loss < best.info_loss):
                best = solution
        if best is None:
            what = f"k={k}" + (f", l={l_div}" if l_div else "")
            raise ValueError(f"no transformation reaches {what} within {max_suppression:.0%} suppression")
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
