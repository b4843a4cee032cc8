"""NEWS2 results and rising trends as :class:`hygeia.findings.Finding`s (capability ``ews``).

Indicator by RCP Chart 3 clinical risk: low -> info, low-medium and medium -> warning, high ->
critical. The Finding carries a FHIR R4 Observation coded with the SNOMED CT NEWS2 total
(``hygeia.records.codes.NEWS2_TOTAL_SNOMED``) whose components are the per-parameter scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hygeia import DECISION_SUPPORT_NOTICE
from hygeia.ews.news2 import (
    DISPLAY,
    RCP_SOURCE,
    RCP_URL,
    RISK_BY_LEVEL,
    UNITS,
    News2Result,
    ParameterScore,
    ResponseLevel,
    response_level,
)
from hygeia.findings import Driver, Evidence, Finding, Indicator, Source, Suggestion
from hygeia.records.codes import HYGEIA_LOCAL, NEWS2_TOTAL_SNOMED, SNOMED, concept

SOURCE = Source(label=RCP_SOURCE, url=RCP_URL)
_INDICATOR = {
    "low": Indicator.INFO,
    "low-medium": Indicator.WARNING,
    "medium": Indicator.WARNING,
    "high": Indicator.CRITICAL,
}
# The rising-trend rule (aggregate up >= 2 within 4 h) is Hygeia's, on NEWS2 scores; RCP 2017 asks
# that trends be noted but sets no number.
TREND_SOURCE = Source(label="Hygeia rising-trend rule on RCP NEWS2 scores", url=RCP_URL)
TREND_RISE = 2  # points
TREND_WINDOW = timedelta(hours=4)


def _fmt(value: float | str | bool) -> str:
    if isinstance(value, bool):
        return "oxygen" if value else "air"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _evidence(s: ParameterScore) -> Evidence:
    value: float | str | bool = _fmt(s.value) if isinstance(s.value, bool) else s.value
    return Evidence(
        label=f"{DISPLAY[s.parameter]} (NEWS2 {s.score})",
        value=value,
        unit=UNITS[s.parameter] or None,
        reference=s.reference,
        time=s.time,
    )


def news2_observation(patient_id: str, result: News2Result, observation_id: str) -> dict[str, Any]:
    """A FHIR R4 Observation for the NEWS2 total, with the parameter scores as components."""
    effective = result.now or max((s.time for s in result.scores.values() if s.time), default=None)
    components = [
        {
            "code": concept(HYGEIA_LOCAL, f"news2-{s.parameter}-score", f"NEWS2 {DISPLAY[s.parameter]} score"),
            "valueInteger": s.score,
        }
        for s in result.scores.values()
    ]
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": observation_id,
        "status": "final" if result.complete else "preliminary",
        "category": [concept("http://terminology.hl7.org/CodeSystem/observation-category", "survey", "Survey")],
        "code": concept(SNOMED, NEWS2_TOTAL_SNOMED, "National Early Warning Score 2 (NEWS2) total score"),
        "subject": {"reference": f"Patient/{patient_id}"},
        "valueInteger": result.total,
        "interpretation": [{"text": f"{result.risk} clinical risk"}],
        "component": components,
        "method": {"text": f"{result.version}; SpO2 scale {result.scale}"},
        "note": [{"text": DECISION_SUPPORT_NOTICE}],
    }
    if not result.complete:
        obs["note"].append({"text": f"Incomplete: not measured {', '.join(result.missing)}; total is a lower bound."})
    if effective is not None:
        obs["effectiveDateTime"] = effective.isoformat()
    refs = [{"reference": s.reference} for s in result.scores.values() if s.reference]
    if refs:
        obs["derivedFrom"] = refs
    return obs


def news2_finding(patient_id: str, result: News2Result) -> Finding:
    """The Finding for one NEWS2 score: summary, evidence per parameter, the chart's response."""
    risk = result.risk
    partial = "" if result.complete else " (incomplete)"
    summary = f"NEWS2 {result.total}{partial}: {risk} clinical risk — {result.response.monitoring}"
    lines = [
        f"**NEWS2 {result.total}** ({risk} clinical risk; SpO2 scale {result.scale}).",
        f"**Response (RCP Chart 4):** {result.response.text()}.",
    ]
    if result.any_red_3:
        reds = ", ".join(DISPLAY[s.parameter] for s in result.scores.values() if s.score == 3)
        lines.append(f"A single parameter scores 3: {reds}.")
    if result.missing:
        lines.append(
            f"**Not measured:** {', '.join(DISPLAY[p] for p in result.missing)} — not scored as normal; "
            "the total is a lower bound."
        )
    if result.stale:
        lines.append(f"**Too old to use:** {', '.join(DISPLAY[p] for p in result.stale)}.")
    ages = [
        f"{DISPLAY[s.parameter]} {int(s.age.total_seconds() // 60)} min ago"
        for s in result.scores.values()
        if s.age is not None
    ]
    if ages:
        lines.append("Readings used: " + "; ".join(ages) + ".")
    finding_kwargs: dict[str, Any] = {}
    if result.now is not None:
        finding_kwargs["issued"] = result.now
    finding = Finding(
        patient_id=patient_id,
        capability="ews",
        kind="news2",
        summary=summary[:140],
        indicator=_INDICATOR[risk],
        detail="\n\n".join(lines),
        evidence=[_evidence(s) for s in result.scores.values()],
        explanation=[
            Driver(description=f"{DISPLAY[s.parameter]} {_fmt(s.value)}: +{s.score}", contribution=float(s.score))
            for s in result.scores.values()
            if s.score
        ],
        suggestions=[Suggestion(label=result.response.action, is_recommended=result.level >= ResponseLevel.URGENT_WARD)]
        if result.level > ResponseLevel.ROUTINE
        else [],
        source=SOURCE,
        version=result.version,
        **finding_kwargs,
    )
    return finding.model_copy(update={"resources": [news2_observation(patient_id, result, finding.id)]})


# --------------------------------------------------------------------------------------------------
# Rising trend


@dataclass(frozen=True)
class Trend:
    """The latest NEWS2 has risen by ``rise`` points from ``baseline`` within the window."""

    baseline: int
    baseline_time: datetime
    latest: int
    latest_time: datetime
    window: timedelta = TREND_WINDOW

    @property
    def rise(self) -> int:
        return self.latest - self.baseline


def rising_trend(
    history: Sequence[tuple[datetime, int]],
    *,
    rise: int = TREND_RISE,
    window: timedelta = TREND_WINDOW,
) -> Trend | None:
    """Has the latest aggregate risen by >= ``rise`` over any score in the ``window`` before it?

    ``history`` is ``(time, total)`` pairs in any order. Returns the largest such rise (from the
    lowest score in the window; the most recent one on ties: "up from 3 in the last 40 min"), or
    ``None``.
    """
    if len(history) < 2:
        return None
    points = sorted(history, key=lambda p: p[0])
    t_last, latest = points[-1]
    earlier = [p for p in points[:-1] if t_last - p[0] <= window]
    if not earlier:
        return None
    t0, base = min(reversed(earlier), key=lambda p: p[1])  # the first minimum of the reversed list: the latest
    if latest - base < rise:
        return None
    return Trend(base, t0, latest, t_last, window)


def trend_finding(patient_id: str, trend: Trend, *, any_red_3: bool = False) -> Finding:
    """A rising NEWS2 trend as its own Finding (kind ``news2-rising-trend``)."""
    level = response_level(trend.latest, any_red_3)
    minutes = int((trend.latest_time - trend.baseline_time).total_seconds() // 60)
    summary = f"NEWS2 rising: {trend.baseline} → {trend.latest} (+{trend.rise}) in {minutes} min"
    return Finding(
        patient_id=patient_id,
        capability="ews",
        kind="news2-rising-trend",
        summary=summary,
        indicator=Indicator.CRITICAL if level == ResponseLevel.EMERGENCY else Indicator.WARNING,
        detail=(
            f"The NEWS2 aggregate rose from {trend.baseline} ({trend.baseline_time.isoformat()}) to "
            f"{trend.latest} ({trend.latest_time.isoformat()}), a rise of {trend.rise} within "
            f"{trend.window.total_seconds() / 3600:g} h; now {RISK_BY_LEVEL[level]} clinical risk. "
            "A rising score may signal deterioration before a threshold is crossed: review the patient."
        ),
        evidence=[
            Evidence(label="NEWS2 baseline", value=trend.baseline, time=trend.baseline_time),
            Evidence(label="NEWS2 latest", value=trend.latest, time=trend.latest_time),
        ],
        explanation=[Driver(description=f"NEWS2 +{trend.rise} in {minutes} min", contribution=float(trend.rise))],
        suggestions=[Suggestion(label="Review the patient and increase the frequency of observations")],
        source=TREND_SOURCE,
        version=f"rising trend: +{trend.rise} within {trend.window.total_seconds() / 3600:g} h",
        issued=trend.latest_time,
    )
