"""Banded score tables: the shape every early-warning chart shares.

A chart lists, per parameter, inclusive ranges at the precision it is charted to (whole breaths per
minute, 0.1 °C) and the points each range scores. A value between two charted ranges (8.5 /min,
35.05 °C) is not on the chart; Hygeia's rule is to round it half up to the charted precision, which
is the same as cutting the line half a step below each range's lower bound. The scalar path
(:meth:`BandTable.score`) and the vectorised path (:meth:`BandTable.score_array`) use the very
same cut points, so they agree bit for bit.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

MISSING = -1  # score code for "not measured" in the vectorised API


@dataclass(frozen=True)
class Band:
    """One charted range, both ends inclusive; ``None`` is an open end."""

    lo: float | None
    hi: float | None
    score: int


@dataclass(frozen=True)
class BandTable:
    """A parameter's bands, lowest first, contiguous at ``resolution``."""

    parameter: str
    unit: str
    resolution: float
    bands: tuple[Band, ...]
    cuts: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        b = self.bands
        if not b:
            raise ValueError(f"{self.parameter}: no bands")
        if b[0].lo is not None or b[-1].hi is not None:
            raise ValueError(f"{self.parameter}: the first band must be open below and the last open above")
        tol = self.resolution / 100
        for prev, nxt in itertools.pairwise(b):
            if prev.hi is None or nxt.lo is None:
                raise ValueError(f"{self.parameter}: only the outer bands may be open")
            if abs(prev.hi + self.resolution - nxt.lo) > tol:
                raise ValueError(
                    f"{self.parameter}: bands {prev.hi} and {nxt.lo} are not contiguous at resolution {self.resolution}"
                )
        # rounded so that a value typed exactly half-way (35.05) cuts upwards, as half-up rounding does
        cuts = tuple(round(float(x.lo) - self.resolution / 2, 9) for x in b[1:] if x.lo is not None)
        object.__setattr__(self, "cuts", cuts)

    @property
    def scores(self) -> tuple[int, ...]:
        return tuple(x.score for x in self.bands)

    def score(self, value: float) -> int:
        """Points for one value (finite; the caller checks)."""
        if not math.isfinite(value):
            raise ValueError(f"{self.parameter}: {value!r} is not a finite number")
        return self.bands[bisect.bisect_right(self.cuts, value)].score

    def score_array(self, values: npt.ArrayLike) -> npt.NDArray[np.int8]:
        """Points for each value; NaN (not measured) gives :data:`MISSING`.

        The band is the count of cut points at or below the value (what ``bisect_right`` gives the
        scalar path); the score is accumulated as the first band's score plus each crossed cut's
        step, a few vectorised comparisons — faster than a binary search for a chart's handful of bands.
        """
        v = np.asarray(values, dtype=np.float64)
        out = np.full(v.shape, self.bands[0].score, dtype=np.int8)
        hit = np.empty(v.shape, dtype=np.bool_)
        for cut, lower, upper in zip(self.cuts, self.bands, self.bands[1:], strict=False):
            step = upper.score - lower.score
            if step:
                np.greater_equal(v, cut, out=hit)
                out += hit.view(np.int8) * np.int8(step) if step != 1 else hit.view(np.int8)
        np.copyto(out, np.int8(MISSING), where=np.isnan(v))
        return out

    def normal_range(self) -> tuple[float | None, float | None]:
        """The lowest and highest charted values that score 0 (``None`` for an open end)."""
        zero = [x for x in self.bands if x.score == 0]
        if not zero:
            raise ValueError(f"{self.parameter}: no band scores 0")
        return zero[0].lo, zero[-1].hi


def table(parameter: str, unit: str, resolution: float, *bands: tuple[float | None, float | None, int]) -> BandTable:
    """Shorthand: ``table("rr", "/min", 1, (None, 8, 3), (9, 11, 1), ...)``."""
    return BandTable(parameter, unit, resolution, tuple(Band(lo, hi, s) for lo, hi, s in bands))
