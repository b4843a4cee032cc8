"""Span-level evaluation of a de-identifier against gold spans.

Matching is label-agnostic (any PHI found is PHI removed):

- ``overlap``: a gold span is found when any predicted span overlaps it by at least one character;
  a predicted span is correct when it overlaps any gold span;
- ``strict``: a gold span is found, and a predicted span correct, only with exactly the same
  boundaries (after trimming white space at both ends).

F-beta with beta = 2 weights recall four times as much as precision (van Rijsbergen 1979), the
measure Presidio's evaluation reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Scores:
    true_gold: int  # gold spans found
    gold: int
    true_pred: int  # predicted spans that are correct
    pred: int

    @property
    def recall(self) -> float:
        return self.true_gold / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.true_pred / self.pred if self.pred else 1.0

    def f(self, beta: float = 2.0) -> float:
        p, r = self.precision, self.recall
        return (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0

    def __add__(self, other: Scores) -> Scores:
        return Scores(
            self.true_gold + other.true_gold,
            self.gold + other.gold,
            self.true_pred + other.true_pred,
            self.pred + other.pred,
        )


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def score_spans(
    text: str, gold: Sequence[tuple[int, int]], pred: Sequence[tuple[int, int]], *, strict: bool = False
) -> Scores:
    """Score one document's predicted (start, end) spans against its gold spans."""
    g = [_trim(text, a, b) for a, b in gold]
    p = [_trim(text, a, b) for a, b in pred]
    if strict:
        gs, ps = set(g), set(p)
        return Scores(len(gs & ps), len(g), len(ps & gs), len(p))

    def overlaps(x: tuple[int, int], ys: list[tuple[int, int]]) -> bool:
        return any(x[0] < y[1] and y[0] < x[1] for y in ys)

    return Scores(sum(overlaps(x, p) for x in g), len(g), sum(overlaps(y, g) for y in p), len(p))
