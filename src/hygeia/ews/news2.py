"""NEWS2: the Royal College of Physicians' National Early Warning Score 2 (2017).

Source: Royal College of Physicians. *National Early Warning Score (NEWS) 2: Standardising the
assessment of acute-illness severity in the NHS.* London: RCP, 2017. Chart 1 (the scoring table),
Chart 3 (thresholds and triggers), Chart 4 (clinical response). https://www.rcp.ac.uk/improving-care/
resources/national-early-warning-score-news-2/ — reproduced with acknowledgement of the RCP, as the RCP
permits; the chart itself is not modified.

The chart is encoded below as data (:data:`RCP_2017`), and :func:`load_news2_table` reads the same
structure from a JSON transcription (``$HYGEIA_REFERENCE_DIR/ews/news2_rcp_2017_table.json``); the
acceptance tests check the two are identical. Scoring is driven by a :class:`News2Table`, so a
corrected or local table is data, not code.

Two APIs: :func:`score_news2` takes one patient's readings with their times (the live path) and
says which it used, how old each is and which are missing; :func:`score_news2_arrays` scores whole
columns with numpy (batches). Missing parameters are never scored as normal: the total is then the
sum of what was measured (a lower bound) and ``complete`` is False.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hygeia.ews.bands import MISSING, Band, BandTable, table

RCP_SOURCE = (
    "Royal College of Physicians. National Early Warning Score (NEWS) 2: standardising the assessment of "
    "acute-illness severity in the NHS. London: RCP, 2017"
)
RCP_URL = "https://www.rcp.ac.uk/improving-care/resources/national-early-warning-score-news-2/"
TABLE_VERSION = "RCP NEWS2 2017 (Charts 1, 3, 4)"

# Canonical parameter names, in chart order.
RR, SPO2, AIR_OXYGEN, SBP, PULSE, CONSCIOUSNESS, TEMPERATURE = (
    "respiration_rate",
    "spo2",
    "air_or_oxygen",
    "systolic_bp",
    "pulse",
    "consciousness",
    "temperature",
)
PARAMETERS: tuple[str, ...] = (RR, SPO2, AIR_OXYGEN, SBP, PULSE, CONSCIOUSNESS, TEMPERATURE)
UNITS = {
    RR: "/min",
    SPO2: "%",
    AIR_OXYGEN: "",
    SBP: "mm[Hg]",
    PULSE: "/min",
    CONSCIOUSNESS: "",
    TEMPERATURE: "Cel",
}
DISPLAY = {
    RR: "Respiration rate",
    SPO2: "SpO2",
    AIR_OXYGEN: "Air or oxygen",
    SBP: "Systolic BP",
    PULSE: "Pulse",
    CONSCIOUSNESS: "Consciousness (ACVPU)",
    TEMPERATURE: "Temperature",
}
ALIASES = {
    "rr": RR,
    "respiratory_rate": RR,
    "resp_rate": RR,
    "spo2": SPO2,
    "oxygen_saturation": SPO2,
    "on_oxygen": AIR_OXYGEN,
    "supplemental_oxygen": AIR_OXYGEN,
    "oxygen": AIR_OXYGEN,
    "sbp": SBP,
    "heart_rate": PULSE,
    "hr": PULSE,
    "acvpu": CONSCIOUSNESS,
    "avpu": CONSCIOUSNESS,
    "temp_c": TEMPERATURE,
    "temp": TEMPERATURE,
    **{p: p for p in PARAMETERS},
}
ACVPU = ("A", "C", "V", "P", "U")
_ACVPU_WORDS = {
    "alert": "A",
    "confusion": "C",
    "new confusion": "C",
    "confused": "C",
    "voice": "V",
    "pain": "P",
    "unresponsive": "U",
}
# Physiologically possible ranges: input validation (typing errors, wrong units), not clinical content.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    RR: (0, 100),
    SPO2: (0, 100),
    SBP: (0, 350),
    PULSE: (0, 350),
    TEMPERATURE: (20, 46),
}


class ResponseLevel(IntEnum):
    """RCP Chart 4 trigger levels, lowest first."""

    ROUTINE = 0  # aggregate 0
    WARD = 1  # aggregate 1-4
    URGENT_WARD = 2  # a single parameter scoring 3 (aggregate <= 4)
    URGENT = 3  # aggregate 5-6
    EMERGENCY = 4  # aggregate 7 or more


# RCP Chart 3: clinical risk by trigger level.
RISK_BY_LEVEL = ("low", "low", "low-medium", "medium", "high")
RISKS = ("low", "low-medium", "medium", "high")
# RCP Chart 4 minimum monitoring frequency as an interval (4-6 hourly -> 4 h; continuous -> 0).
MONITORING_INTERVAL = (
    timedelta(hours=12),
    timedelta(hours=4),
    timedelta(hours=1),
    timedelta(hours=1),
    timedelta(0),
)


@dataclass(frozen=True)
class ClinicalResponse:
    """One row of RCP Chart 4."""

    trigger: str
    monitoring: str
    action: str
    label: str = ""

    def text(self) -> str:
        head = f"{self.label}: " if self.label else ""
        return f"{head}{self.monitoring}; {self.action}"


@dataclass(frozen=True)
class News2Table:
    """Everything the chart says, as data."""

    respiration_rate: BandTable
    spo2_scale1: BandTable
    spo2_scale2_air: BandTable
    spo2_scale2_oxygen: BandTable
    systolic_bp: BandTable
    pulse: BandTable
    temperature: BandTable
    air_score: int
    oxygen_score: int
    acvpu_scores: tuple[int, int, int, int, int]  # A, C, V, P, U
    responses: tuple[ClinicalResponse, ...]  # indexed by ResponseLevel
    source: str = field(default=RCP_SOURCE, compare=False)

    def numeric(self) -> dict[str, BandTable]:
        return {
            RR: self.respiration_rate,
            SBP: self.systolic_bp,
            PULSE: self.pulse,
            TEMPERATURE: self.temperature,
        }

    def spo2_table(self, scale: int, on_oxygen: bool) -> BandTable:
        if scale == 1:
            return self.spo2_scale1
        return self.spo2_scale2_oxygen if on_oxygen else self.spo2_scale2_air


# RCP 2017 Chart 1 (scoring), Chart 4 (clinical response). Bounds are inclusive at the charted precision.
RCP_2017 = News2Table(
    respiration_rate=table(RR, "/min", 1, (None, 8, 3), (9, 11, 1), (12, 20, 0), (21, 24, 2), (25, None, 3)),
    spo2_scale1=table(SPO2, "%", 1, (None, 91, 3), (92, 93, 2), (94, 95, 1), (96, None, 0)),
    spo2_scale2_air=table(SPO2, "%", 1, (None, 83, 3), (84, 85, 2), (86, 87, 1), (88, 92, 0), (93, None, 0)),
    spo2_scale2_oxygen=table(
        SPO2,
        "%",
        1,
        (None, 83, 3),
        (84, 85, 2),
        (86, 87, 1),
        (88, 92, 0),
        (93, 94, 1),
        (95, 96, 2),
        (97, None, 3),
    ),
    systolic_bp=table(SBP, "mm[Hg]", 1, (None, 90, 3), (91, 100, 2), (101, 110, 1), (111, 219, 0), (220, None, 3)),
    pulse=table(PULSE, "/min", 1, (None, 40, 3), (41, 50, 1), (51, 90, 0), (91, 110, 1), (111, 130, 2), (131, None, 3)),
    temperature=table(
        TEMPERATURE,
        "Cel",
        0.1,
        (None, 35.0, 3),
        (35.1, 36.0, 1),
        (36.1, 38.0, 0),
        (38.1, 39.0, 1),
        (39.1, None, 2),
    ),
    air_score=0,
    oxygen_score=2,
    acvpu_scores=(0, 3, 3, 3, 3),
    responses=(
        ClinicalResponse("aggregate 0", "minimum 12 hourly", "Continue routine NEWS monitoring"),
        ClinicalResponse(
            "aggregate 1-4",
            "minimum 4-6 hourly",
            "Inform registered nurse, who must assess the patient; registered nurse decides whether "
            "increased frequency of monitoring and/or escalation of care is required",
            "ward-based response",
        ),
        ClinicalResponse(
            "3 in single parameter",
            "minimum 1 hourly",
            "Registered nurse to inform medical team caring for the patient, who will review and decide "
            "whether escalation of care is necessary",
            "urgent ward-based response",
        ),
        ClinicalResponse(
            "aggregate 5 or more",
            "minimum 1 hourly",
            "Registered nurse to immediately inform the medical team caring for the patient; request urgent "
            "assessment by a clinician or team with core competencies in the care of acutely ill patients; "
            "provide clinical care in an environment with monitoring facilities",
            "urgent response threshold",
        ),
        ClinicalResponse(
            "aggregate 7 or more",
            "continuous monitoring of vital signs",
            "Registered nurse to immediately inform the medical team caring for the patient (at least "
            "specialist registrar level); emergency assessment by a team with critical care competencies "
            "including practitioner(s) with advanced airway management skills; consider transfer of care "
            "to a level 2 or 3 clinical care facility (HDU or ICU); clinical care in an environment with "
            "monitoring facilities",
            "emergency response threshold",
        ),
    ),
)


# --------------------------------------------------------------------------------------------------
# Reading the JSON transcription of the chart


_JSON_KEYS = {
    "respiration_rate_per_min": (RR, "/min", 1.0),
    "spo2_scale1_pct": (SPO2, "%", 1.0),
    "spo2_scale2_pct": (SPO2, "%", 1.0),
    "systolic_bp_mmHg": (SBP, "mm[Hg]", 1.0),
    "pulse_per_min": (PULSE, "/min", 1.0),
    "temperature_C": (TEMPERATURE, "Cel", 0.1),  # charted to 0.1 °C
}


def _bands(key: str, rows: list[dict[str, Any]], on: str | None = None) -> BandTable:
    name, unit, res = _JSON_KEYS[key]
    out = [Band(r.get("min"), r.get("max"), int(r["score"])) for r in rows if on is None or r.get("on") in (None, on)]
    out.sort(key=lambda b: -math.inf if b.lo is None else b.lo)
    return BandTable(name, unit, res, tuple(out))


def news2_table_from_dict(doc: Mapping[str, Any]) -> News2Table:
    """Build a :class:`News2Table` from the JSON structure of the RCP transcription.

    Raises ``ValueError`` naming the key that is missing or malformed.
    """
    try:
        p = doc["parameters"]
        oxygen = {r["value"]: int(r["score"]) for r in p["air_or_oxygen"]}
        acvpu: dict[str, int] = {}
        for r in p["consciousness_ACVPU"]:
            values = r["value"] if isinstance(r["value"], list) else [r["value"]]
            for v in values:
                acvpu[str(v).strip()[:1].upper()] = int(r["score"])
        responses = tuple(
            ClinicalResponse(r["trigger"], r["monitoring"], r["response"], r.get("label", ""))
            for r in doc["chart4_clinical_response"]
        )
        if len(responses) != len(ResponseLevel):
            raise ValueError(f"chart4_clinical_response: expected {len(ResponseLevel)} rows, got {len(responses)}")
        a, c, v, pp, u = (acvpu[k] for k in ACVPU)
        return News2Table(
            respiration_rate=_bands("respiration_rate_per_min", p["respiration_rate_per_min"]),
            spo2_scale1=_bands("spo2_scale1_pct", p["spo2_scale1_pct"]),
            spo2_scale2_air=_bands("spo2_scale2_pct", p["spo2_scale2_pct"], "air"),
            spo2_scale2_oxygen=_bands("spo2_scale2_pct", p["spo2_scale2_pct"], "oxygen"),
            systolic_bp=_bands("systolic_bp_mmHg", p["systolic_bp_mmHg"]),
            pulse=_bands("pulse_per_min", p["pulse_per_min"]),
            temperature=_bands("temperature_C", p["temperature_C"]),
            air_score=oxygen["air"],
            oxygen_score=oxygen["oxygen"],
            acvpu_scores=(a, c, v, pp, u),
            responses=responses,
            source=str(doc.get("source", RCP_SOURCE)),
        )
    except KeyError as exc:
        raise ValueError(f"NEWS2 table: missing key {exc}") from exc
    except (TypeError, AttributeError) as exc:
        raise ValueError(f"NEWS2 table: malformed structure ({exc})") from exc


def load_news2_table(path: Path) -> News2Table:
    """Read a NEWS2 table JSON file (the RCP transcription's structure)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read NEWS2 table ({exc})") from exc
    try:
        return news2_table_from_dict(doc)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


# --------------------------------------------------------------------------------------------------
# Parsing values


def canonical_parameter(name: str) -> str:
    try:
        return ALIASES[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown NEWS2 parameter {name!r} (expected one of {', '.join(PARAMETERS)})") from None


def parse_acvpu(value: object) -> str:
    """'A', 'C', 'V', 'P' or 'U' (also the words: alert, new confusion, voice, pain, unresponsive)."""
    text = str(value).strip()
    if text.upper() in ACVPU:
        return text.upper()
    word = _ACVPU_WORDS.get(text.lower())
    if word is None:
        raise ValueError(f"consciousness: {value!r} is not one of A, C, V, P, U")
    return word


_TRUE = {"true", "t", "yes", "y", "1", "oxygen", "o2"}
_FALSE = {"false", "f", "no", "n", "0", "air"}


def parse_on_oxygen(value: object) -> bool:
    """True for supplemental oxygen, False for air (bools, 1/0, true/false, yes/no, oxygen/air)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"air_or_oxygen: {value!r} is not true/false (or oxygen/air)")


def parse_number(parameter: str, value: object) -> float:
    """A finite number within the physiologically possible range of ``parameter``."""
    if isinstance(value, bool):
        raise ValueError(f"{parameter}: {value!r} is not a number")
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{parameter}: {value!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{parameter}: {value!r} is not a finite number")
    lo, hi = PLAUSIBLE[parameter]
    if not lo <= x <= hi:
        raise ValueError(f"{parameter}: {x:g} is outside the possible range {lo:g}-{hi:g} (wrong units?)")
    return x


def parse_scale(value: object) -> int:
    text = str(value).strip()
    if text in ("1", "1.0", "2", "2.0"):
        return int(float(text))
    raise ValueError(f"scale: {value!r} is not 1 or 2 (SpO2 scale 2 only for hypercapnic respiratory failure)")


# --------------------------------------------------------------------------------------------------
# Aggregate -> level, risk, response (RCP Charts 3 and 4)


def response_level(total: int, any_red_3: bool) -> ResponseLevel:
    if total >= 7:
        return ResponseLevel.EMERGENCY
    if total >= 5:
        return ResponseLevel.URGENT
    if any_red_3:
        return ResponseLevel.URGENT_WARD
    if total >= 1:
        return ResponseLevel.WARD
    return ResponseLevel.ROUTINE


# --------------------------------------------------------------------------------------------------
# Scalar (live) API


@dataclass(frozen=True)
class Reading:
    """One measured value, when it was taken, and the FHIR resource it came from (if any)."""

    value: float | str | bool
    time: datetime | None = None
    reference: str | None = None


@dataclass(frozen=True)
class ParameterScore:
    parameter: str
    value: float | str | bool
    score: int
    time: datetime | None = None
    age: timedelta | None = None
    reference: str | None = None


@dataclass(frozen=True)
class News2Result:
    """A NEWS2 score, the readings it used, and what the chart says to do."""

    scores: dict[str, ParameterScore]
    missing: tuple[str, ...]
    stale: tuple[str, ...]
    scale: int
    total: int
    any_red_3: bool
    level: ResponseLevel
    response: ClinicalResponse
    now: datetime | None = None
    version: str = TABLE_VERSION

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def risk(self) -> str:
        return RISK_BY_LEVEL[self.level]


ReadingLike = Reading | tuple[Any, ...] | float | str | bool


def _as_reading(raw: ReadingLike) -> Reading:
    if isinstance(raw, Reading):
        return raw
    if isinstance(raw, tuple):
        if not 1 <= len(raw) <= 3:
            raise ValueError(f"expected (value, time[, reference]), got {raw!r}")
        return Reading(*raw)
    return Reading(raw)


def score_news2(
    readings: Mapping[str, ReadingLike],
    *,
    now: datetime | None = None,
    scale: int = 1,
    max_age: timedelta | None = None,
    table: News2Table = RCP_2017,
) -> News2Result:
    """Score one observation set.

    ``readings`` maps a parameter (canonical name or alias such as ``rr``, ``sbp``, ``acvpu``,
    ``on_oxygen``) to a :class:`Reading`, a ``(value, time[, reference])`` tuple, or a bare value.
    With ``now``, each reading's age is reported, and readings older than ``max_age`` are
    *stale*: reported and not scored. Absent or ``None`` values are *missing*. Raises
    ``ValueError`` naming the parameter for a value that cannot be scored.
    """
    if scale not in (1, 2):
        raise ValueError(f"scale: {scale!r} is not 1 or 2")
    got: dict[str, Reading] = {}
    for name, raw in readings.items():
        r = _as_reading(raw)
        if r.value is None:
            continue
        got[canonical_parameter(name)] = r
    stale: list[str] = []
    if max_age is not None and now is not None:
        for p, r in list(got.items()):
            if r.time is not None and now - r.time > max_age:
                stale.append(p)
                del got[p]

    def entry(p: str, value: float | str | bool, score: int) -> ParameterScore:
        r = got[p]
        age = now - r.time if now is not None and r.time is not None else None
        return ParameterScore(p, value, score, r.time, age, r.reference)

    scores = {p: entry(p, value, points) for p, (value, points) in _points(got, scale, table).items()}
    ordered = {p: scores[p] for p in PARAMETERS if p in scores}
    total = sum(s.score for s in ordered.values())
    red = any(s.score == 3 for s in ordered.values())
    level = response_level(total, red)
    return News2Result(
        scores=ordered,
        missing=tuple(p for p in PARAMETERS if p not in scores),
        stale=tuple(stale),
        scale=scale,
        total=total,
        any_red_3=red,
        level=level,
        response=table.responses[level],
        now=now,
    )


def _point(p: str, value: object, table: News2Table) -> tuple[float | str | bool, int]:
    """(parsed value, points) of one parameter other than SpO2 (whose points depend on air/oxygen)."""
    if p == AIR_OXYGEN:
        oxygen = parse_on_oxygen(value)
        return oxygen, table.oxygen_score if oxygen else table.air_score
    if p == CONSCIOUSNESS:
        letter = parse_acvpu(value)
        return letter, table.acvpu_scores[ACVPU.index(letter)]
    x = parse_number(p, value)
    return x, table.numeric()[p].score(x)


def _spo2_point(value: object, scale: int, oxygen: bool | None, table: News2Table) -> tuple[float, int] | None:
    x = parse_number(SPO2, value)
    if oxygen is not None:
        return x, table.spo2_table(scale, oxygen).score(x)
    # on scale 2 the score may depend on air/oxygen; score it only where it does not
    s_air, s_o2 = table.spo2_table(scale, False).score(x), table.spo2_table(scale, True).score(x)
    return (x, s_air) if s_air == s_o2 else None


def _points(got: Mapping[str, Reading], scale: int, table: News2Table) -> dict[str, tuple[float | str | bool, int]]:
    """(value, points) of each scorable parameter in ``got`` (canonical names, fresh, not None): Chart 1."""
    out = {p: _point(p, got[p].value, table) for p in (RR, SBP, PULSE, TEMPERATURE, AIR_OXYGEN) if p in got}
    if SPO2 in got:
        oxygen = out[AIR_OXYGEN][0] if AIR_OXYGEN in out else None
        spo2 = _spo2_point(got[SPO2].value, scale, oxygen if isinstance(oxygen, bool) else None, table)
        if spo2 is not None:
            out[SPO2] = spo2
    if CONSCIOUSNESS in got:
        out[CONSCIOUSNESS] = _point(CONSCIOUSNESS, got[CONSCIOUSNESS].value, table)
    return out


def news2_level(
    readings: Mapping[str, Reading],
    *,
    now: datetime,
    scale: int = 1,
    max_age: timedelta | None = None,
    table: News2Table = RCP_2017,
    memo: dict[str, tuple[Reading, tuple[float | str | bool, int]]] | None = None,
    points_of: dict[str, int] | None = None,
    stale: list[str] | None = None,
) -> tuple[int, bool, ResponseLevel]:
    """(total, any single 3, response level) exactly as :func:`score_news2` gives them, without the detail.

    For the live path, which checks the level after every update and builds the full result once per
    batch. ``readings`` maps canonical parameter names to :class:`Reading` s. ``memo`` (one per
    patient, kept by the caller) remembers each parameter's points for the :class:`Reading` object they
    were computed from, so an update re-scores only what changed (SpO2 is always re-scored: its
    points depend on air/oxygen). ``points_of`` and ``stale``, when given, receive each scored
    parameter's points and the stale parameters (what :func:`score_news2` reports as ``scores`` and
    ``stale``).
    """
    if scale not in (1, 2):
        raise ValueError(f"scale: {scale!r} is not 1 or 2")
    memo = {} if memo is None else memo
    total, red = 0, False
    oxygen: bool | None = None
    spo2: Reading | None = None
    for p, r in readings.items():
        if r.value is None:
            continue
        if max_age is not None and r.time is not None and now - r.time > max_age:
            if stale is not None:
                stale.append(p)
            continue
        if p == SPO2:
            spo2 = r
            continue
        hit = memo.get(p)
        if hit is None or hit[0] is not r:
            hit = (r, _point(p, r.value, table))
            memo[p] = hit
        value, points = hit[1]
        if p == AIR_OXYGEN and isinstance(value, bool):
            oxygen = value
        total += points
        red = red or points == 3
        if points_of is not None:
            points_of[p] = points
    if spo2 is not None:
        scored = _spo2_point(spo2.value, scale, oxygen, table)
        if scored is not None:
            total += scored[1]
            red = red or scored[1] == 3
            if points_of is not None:
                points_of[SPO2] = scored[1]
    return total, red, response_level(total, red)


# --------------------------------------------------------------------------------------------------
# Vectorised (batch) API


@dataclass(frozen=True)
class News2Batch:
    """Column results. Per-parameter scores use -1 for missing; ``total`` sums what was measured."""

    parameter_scores: dict[str, npt.NDArray[np.int8]]
    total: npt.NDArray[np.int8]
    any_red_3: npt.NDArray[np.bool_]
    complete: npt.NDArray[np.bool_]
    level: npt.NDArray[np.int8]

    def risk(self) -> npt.NDArray[np.str_]:
        return np.array(RISK_BY_LEVEL)[self.level]


def acvpu_codes(values: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Letters (A/C/V/P/U, any case; empty or None for missing) to codes 0-4, -1 missing.

    Raises ``ValueError`` for anything else.
    """
    arr = np.asarray(values, dtype=object)
    out = np.full(arr.shape, MISSING, dtype=np.int8)
    for i, v in enumerate(arr.ravel()):
        if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
            continue
        out.flat[i] = ACVPU.index(parse_acvpu(v))
    return out


def score_news2_arrays(
    rr: npt.ArrayLike,
    spo2: npt.ArrayLike,
    on_oxygen: npt.ArrayLike,
    sbp: npt.ArrayLike,
    pulse: npt.ArrayLike,
    acvpu: npt.ArrayLike,
    temp_c: npt.ArrayLike,
    scale: npt.ArrayLike = 1,
    table: News2Table = RCP_2017,
) -> News2Batch:
    """Score columns of observation sets at once.

    Numbers are float arrays with NaN for missing; ``on_oxygen`` is 1/0 (or bool) with NaN
    missing; ``acvpu`` holds codes 0-4 for A, C, V, P, U (see :func:`acvpu_codes`) with -1
    missing; ``scale`` is 1 or 2 per row or for all. Values are not range-checked here.
    """
    o2 = np.asarray(on_oxygen, dtype=np.float64)
    o2_missing = np.isnan(o2)
    sp = np.asarray(spo2, dtype=np.float64)
    spo2_score = table.spo2_scale1.score_array(sp)
    on_scale2 = np.broadcast_to(np.asarray(scale), o2.shape) == 2
    if on_scale2.any():
        s2a = table.spo2_scale2_air.score_array(sp)
        s2o = table.spo2_scale2_oxygen.score_array(sp)
        s2 = np.where(o2 == 1, s2o, s2a)
        # air/oxygen unknown: the scale 2 score stands only where air and oxygen agree
        np.copyto(s2, np.int8(MISSING), where=o2_missing & (s2a != s2o))
        np.copyto(spo2_score, s2, where=on_scale2)
    ox = np.where(o2 == 1, np.int8(table.oxygen_score), np.int8(table.air_score))
    np.copyto(ox, np.int8(MISSING), where=o2_missing)
    # codes 0-4; -1 (missing) indexes the trailing MISSING entry
    ac_lookup = np.array((*table.acvpu_scores, MISSING), dtype=np.int8)
    scores = {
        RR: table.respiration_rate.score_array(rr),
        SPO2: spo2_score,
        AIR_OXYGEN: ox,
        SBP: table.systolic_bp.score_array(sbp),
        PULSE: table.pulse.score_array(pulse),
        CONSCIOUSNESS: ac_lookup.take(np.asarray(acvpu, dtype=np.intp)),
        TEMPERATURE: table.temperature.score_array(temp_c),
    }
    total = np.zeros(o2.shape, dtype=np.int8)  # at most 20
    lowest = np.zeros(o2.shape, dtype=np.int8)
    highest = np.zeros(o2.shape, dtype=np.int8)
    tmp = np.empty(o2.shape, dtype=np.int8)
    for part in scores.values():
        np.maximum(part, 0, out=tmp)
        total += tmp
        np.minimum(lowest, part, out=lowest)
        np.maximum(highest, part, out=highest)
    red = highest == 3
    # RCP Charts 3/4 (same rule as response_level): >=7: 4; 5-6: 3; a red 3 below 5: 2; 1-4: 1; 0: 0
    level = (total >= 1).view(np.int8) + 2 * (total >= 5).view(np.int8) + (total >= 7).view(np.int8)
    level += (red & (total < 5)).view(np.int8)
    complete = lowest >= 0
    return News2Batch(scores, total, red, complete, level)
