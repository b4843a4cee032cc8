"""MEWS (Modified Early Warning Score), with thresholds configurable per site.

Default: Subbe CP, Kruger M, Rutherford P, Gemmel L. Validation of a modified Early Warning Score
in medical admissions. QJM 2001;94(10):521-6, Table 1. The published table leaves several
boundaries open to reading (40 /min, RR 9, 35.0 °C, 38.4-38.5 °C, 200 mmHg) and implementations
disagree; the default reads it as:

  systolic BP  <=70: 3, 71-80: 2, 81-100: 1, 101-199: 0, >=200: 2
  heart rate   <=40: 2, 41-50: 1, 51-100: 0, 101-110: 1, 111-129: 2, >=130: 3
  resp. rate   <=8: 2, 9-14: 0, 15-20: 1, 21-29: 2, >=30: 3
  temperature  <35.0: 2, 35.0-38.4: 0, >=38.5: 2
  AVPU         A 0, V 1, P 2, U 3   (MEWS has no "new confusion": C is reported, not scored)

and triggers at a total >= 5 (Subbe 2001). A site with another reading passes its own
:class:`MewsConfig` (e.g. from JSON via :meth:`MewsConfig.from_dict`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hygeia.ews.bands import MISSING, Band, BandTable, table
from hygeia.ews.news2 import parse_number

MEWS_SOURCE = "Subbe CP, et al. Validation of a modified Early Warning Score in medical admissions. QJM 2001;94:521-6"
_NUMERIC = ("systolic_bp", "heart_rate", "respiratory_rate", "temperature")
_PLAUSIBLE_KEY = {
    "systolic_bp": "systolic_bp",
    "heart_rate": "pulse",
    "respiratory_rate": "respiration_rate",
    "temperature": "temperature",
}
AVPU = ("A", "V", "P", "U")


@dataclass(frozen=True)
class MewsConfig:
    systolic_bp: BandTable
    heart_rate: BandTable
    respiratory_rate: BandTable
    temperature: BandTable
    avpu: dict[str, int] = field(default_factory=lambda: {"A": 0, "V": 1, "P": 2, "U": 3})
    trigger_at: int = 5
    source: str = MEWS_SOURCE

    def numeric(self) -> dict[str, BandTable]:
        return {k: getattr(self, k) for k in _NUMERIC}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> MewsConfig:
        """``{"systolic_bp": {"resolution": 1, "bands": [[null, 70, 3], ...]}, ..., "avpu": {...},
        "trigger_at": 5, "source": "..."}``; raises ``ValueError`` naming the bad key."""
        tables: dict[str, BandTable] = {}
        for key in _NUMERIC:
            try:
                spec = doc[key]
                bands = tuple(Band(lo, hi, int(s)) for lo, hi, s in spec["bands"])
                tables[key] = BandTable(key, str(spec.get("unit", "")), float(spec.get("resolution", 1)), bands)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"MEWS config: {key}: {exc}") from exc
        avpu = {str(k).upper(): int(v) for k, v in doc.get("avpu", {"A": 0, "V": 1, "P": 2, "U": 3}).items()}
        return cls(
            **tables,
            avpu=avpu,
            trigger_at=int(doc.get("trigger_at", 5)),
            source=str(doc.get("source", "site MEWS configuration")),
        )


SUBBE_2001 = MewsConfig(
    systolic_bp=table(
        "systolic_bp", "mm[Hg]", 1, (None, 70, 3), (71, 80, 2), (81, 100, 1), (101, 199, 0), (200, None, 2)
    ),
    heart_rate=table(
        "heart_rate",
        "/min",
        1,
        (None, 40, 2),
        (41, 50, 1),
        (51, 100, 0),
        (101, 110, 1),
        (111, 129, 2),
        (130, None, 3),
    ),
    respiratory_rate=table(
        "respiratory_rate", "/min", 1, (None, 8, 2), (9, 14, 0), (15, 20, 1), (21, 29, 2), (30, None, 3)
    ),
    temperature=table("temperature", "Cel", 0.1, (None, 34.9, 2), (35.0, 38.4, 0), (38.5, None, 2)),
)


@dataclass(frozen=True)
class MewsResult:
    total: int
    triggered: bool
    scores: dict[str, int]
    missing: tuple[str, ...]
    source: str

    @property
    def complete(self) -> bool:
        return not self.missing


def score_mews(
    readings: Mapping[str, float | str | None],
    config: MewsConfig = SUBBE_2001,
) -> MewsResult:
    """MEWS from ``systolic_bp``, ``heart_rate``, ``respiratory_rate``, ``temperature`` and ``avpu``.

    Absent or ``None`` values, and an AVPU the site's table does not score, are reported as missing.
    """
    scores: dict[str, int] = {}
    for key, bands in config.numeric().items():
        v = readings.get(key)
        if v is not None:
            scores[key] = bands.score(parse_number(_PLAUSIBLE_KEY[key], v))
    avpu = readings.get("avpu")
    if avpu is not None:
        letter = str(avpu).strip().upper()[:1]
        if letter not in ("A", "C", "V", "P", "U"):
            raise ValueError(f"avpu: {avpu!r} is not one of A, V, P, U")
        if letter in config.avpu:
            scores["avpu"] = config.avpu[letter]
    order = (*_NUMERIC, "avpu")
    total = sum(scores.values())
    return MewsResult(
        total,
        total >= config.trigger_at,
        {k: scores[k] for k in order if k in scores},
        tuple(k for k in order if k not in scores),
        config.source,
    )


def mews_arrays(
    systolic_bp: npt.ArrayLike,
    heart_rate: npt.ArrayLike,
    respiratory_rate: npt.ArrayLike,
    temperature: npt.ArrayLike,
    avpu: npt.ArrayLike,
    config: MewsConfig = SUBBE_2001,
) -> tuple[npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """Vectorised MEWS: (total of what was measured, complete).

    ``avpu`` holds codes 0-3 for A, V, P, U; -1 is missing.
    """
    av = np.asarray(avpu, dtype=np.int8)
    lookup = np.array([config.avpu.get(k, MISSING) for k in AVPU] + [MISSING], dtype=np.int8)
    parts = [
        config.systolic_bp.score_array(systolic_bp),
        config.heart_rate.score_array(heart_rate),
        config.respiratory_rate.score_array(respiratory_rate),
        config.temperature.score_array(temperature),
        lookup[np.where(av < 0, len(AVPU), av)],
    ]
    stack = np.stack(parts)
    present = stack >= 0
    return np.where(present, stack, 0).sum(axis=0, dtype=np.int16), np.asarray(present.all(axis=0))
