"""Per-patient monitoring state and the alert policy (pure; time is passed in).

- :class:`PatientState` keeps each parameter's latest reading, scores NEWS2 on every update with
  readings older than the staleness window left out (reported as stale), and keeps the totals'
  history for the rising-trend rule.
- :class:`AlertEngine` raises an alert when a patient's NEWS2 response level rises, routes it by
  level, deduplicates (no second open alert at the same or a lower level), and re-sends an
  unacknowledged alert at the interval its level prescribes.

Routing and re-send intervals are Hygeia's default policy, not RCP text, and are configurable. The
default follows RCP Chart 4's escalation: ward-based response to the ward (registered) nurse; a single
red 3 also to the nurse in charge (who informs the medical team); urgent and emergency responses to
the nurse in charge and the rapid response team.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from hygeia.ews.findings import TREND_RISE, TREND_WINDOW, Trend
from hygeia.ews.news2 import News2Result, Reading, ResponseLevel, canonical_parameter, news2_level, score_news2

WARD_NURSE, NURSE_IN_CHARGE, RAPID_RESPONSE = "ward_nurse", "nurse_in_charge", "rapid_response"


@dataclass
class PatientState:
    """The latest value of each parameter for one patient, and the NEWS2 history."""

    patient_id: str
    scale: int = 1
    staleness: timedelta = timedelta(hours=12)
    latest: dict[str, Reading] = field(default_factory=dict)
    history: list[tuple[datetime, int]] = field(default_factory=list)
    # points per parameter for the Reading they were computed from (see news2_level)
    _memo: dict[str, tuple[Reading, tuple[float | str | bool, int]]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    # what the last advance() scored: (level, points per parameter, stale parameters, scale) — equal
    # signatures mean equal scores (the total, missing parameters and risk follow from these)
    signature: tuple[Any, ...] = field(default=(), init=False, repr=False, compare=False)

    def update(self, readings: Mapping[str, Reading], now: datetime) -> tuple[News2Result, Trend | None]:
        """Take new readings (a reading older than the one held is ignored); score; check the trend."""
        _, _, _, trend = self.advance(readings, now)
        return self.score(now), trend

    def advance(self, readings: Mapping[str, Reading], now: datetime) -> tuple[int, bool, ResponseLevel, Trend | None]:
        """:meth:`update` without building the full result: (total, any single 3, level, trend).

        The live path calls this for every update and :meth:`score` once per batch.
        """
        for name, r in readings.items():
            p = canonical_parameter(name)
            held = self.latest.get(p)
            if held is None or held.time is None or (r.time is not None and r.time >= held.time):
                self.latest[p] = r
        points: dict[str, int] = {}
        stale: list[str] = []
        total, red, level = news2_level(self.latest, now=now, scale=self.scale, max_age=self.staleness,
                                        memo=self._memo, points_of=points, stale=stale)
        self.signature = (int(level), tuple(sorted(points.items())), tuple(sorted(stale)), self.scale)
        # The trend rule needs the lowest score of the window (the most recent on ties): a
        # sliding-window minimum. ``history`` keeps, oldest first, only points lower than every point
        # after them (a later point as low replaces an earlier one for good): at most 21 entries
        # (NEWS2 totals 0-20) however often the patient is scored, and exactly rising_trend's answer.
        history = self.history
        while history and now - history[0][0] > TREND_WINDOW:
            del history[0]
        trend = None
        if history and total - history[0][1] >= TREND_RISE:
            t0, base = history[0]
            trend = Trend(base, t0, total, now)
        while history and history[-1][1] >= total:
            history.pop()
        history.append((now, total))
        return total, red, level, trend

    def score(self, now: datetime) -> News2Result:
        """The full NEWS2 result (scores, ages, missing, stale) of the readings held now."""
        return score_news2(self.latest, now=now, scale=self.scale, max_age=self.staleness)


@dataclass(frozen=True)
class AlertPolicy:
    routes: Mapping[int, tuple[str, ...]] = field(
        default_factory=lambda: {
            ResponseLevel.WARD: (WARD_NURSE,),
            ResponseLevel.URGENT_WARD: (WARD_NURSE, NURSE_IN_CHARGE),
            ResponseLevel.URGENT: (NURSE_IN_CHARGE, RAPID_RESPONSE),
            ResponseLevel.EMERGENCY: (NURSE_IN_CHARGE, RAPID_RESPONSE),
        }
    )
    resend_after: Mapping[int, timedelta] = field(
        default_factory=lambda: {
            ResponseLevel.WARD: timedelta(hours=1),
            ResponseLevel.URGENT_WARD: timedelta(minutes=30),
            ResponseLevel.URGENT: timedelta(minutes=15),
            ResponseLevel.EMERGENCY: timedelta(minutes=5),
        }
    )


@dataclass(frozen=True)
class Alert:
    id: str
    patient_id: str
    level: ResponseLevel
    total: int
    recipients: tuple[str, ...]
    raised: datetime
    last_sent: datetime
    sends: int = 1
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    superseded_by: str | None = None

    @property
    def open(self) -> bool:
        return self.acknowledged_at is None and self.superseded_by is None


@dataclass
class AlertEngine:
    """Alert state for all patients; every method returns the alerts to send now."""

    policy: AlertPolicy = field(default_factory=AlertPolicy)
    alerts: dict[str, Alert] = field(default_factory=dict)
    last_level: dict[str, ResponseLevel] = field(default_factory=dict)

    def _open_for(self, patient_id: str) -> Alert | None:
        return next((a for a in self.alerts.values() if a.patient_id == patient_id and a.open), None)

    def on_score(self, patient_id: str, level: ResponseLevel, total: int, now: datetime) -> list[Alert]:
        previous = self.last_level.get(patient_id, ResponseLevel.ROUTINE)
        self.last_level[patient_id] = level
        if level <= previous or level == ResponseLevel.ROUTINE:
            return []
        current = self._open_for(patient_id)
        if current is not None and current.level >= level:
            return []  # deduplicated: an open alert already covers this level
        alert = Alert(
            id=f"alert-{uuid.uuid4().hex[:20]}",
            patient_id=patient_id,
            level=level,
            total=total,
            recipients=tuple(self.policy.routes.get(level, ())),
            raised=now,
            last_sent=now,
        )
        if current is not None:
            self.alerts[current.id] = replace(current, superseded_by=alert.id)
        self.alerts[alert.id] = alert
        return [alert]

    def acknowledge(self, alert_id: str, by: str, now: datetime) -> Alert:
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise KeyError(f"no alert {alert_id}")
        if alert.acknowledged_at is None:
            alert = replace(alert, acknowledged_by=by, acknowledged_at=now)
            self.alerts[alert_id] = alert
        return alert

    def due(self, now: datetime) -> list[Alert]:
        """Open alerts not acknowledged within their level's interval: re-sent (returned) now."""
        out = []
        for a in list(self.alerts.values()):
            interval = self.policy.resend_after.get(a.level)
            if a.open and interval is not None and now - a.last_sent >= interval:
                a = replace(a, last_sent=now, sends=a.sends + 1)
                self.alerts[a.id] = a
                out.append(a)
        return out
