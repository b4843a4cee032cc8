"""Emergency department attendances that end in discharge, and triage vital signs for every ED visit.

Pure and deterministic (a ``random.Random`` per patient seeded from the hospital seed, separate from
the patient's main stream, so the rest of the synthetic record is unchanged by this module).

Why: :func:`hygeia.synth.course.simulate_patient` writes an ED visit before every emergency admission
but few ED visits that end in discharge (about three in four ED visits were admitted), and no vital
signs at triage, so "admission from the ED" had neither a realistic base rate nor a signal to learn.

Mechanism (synthetic; the rates are chosen to land near published figures, the coefficients are invented):

* extra discharged attendances per patient over the simulated period ~ Poisson(λ),
  λ = (0.8 + 0.12·chronic conditions + 0.4·[age ≥ 75] + 0.3·[age < 18]) · days/365 — ED use rises with
  chronic illness and is highest at 75 and over and in young children (NHAMCS 2006 ED summary: 40.5 visits
  per 100 persons a year, highest rates at ≥ 75 years; Pitts SR et al., Natl Health Stat Report 2008;7).
  With the default hospital about 30 % of ED visits end in admission: between US EDs (about one in eight
  visits admitted, NHAMCS summaries) and English type 1 A&E departments (about a quarter to a third), for a
  hospital whose population is older and more chronically ill than a general ED's;
* triage vital signs (~10-20 min after arrival) from the same physiology model as the ward
  (:func:`hygeia.synth.course._vitals`) at the acute severity of the visit: for a visit that leads to an
  emergency admission the stay's admission severity ``sev0``; for a discharged visit a minor illness,
  severity 0.6·Beta(1.2, 6) (mean ≈ 0.1). Admission is therefore associated with triage vital signs,
  age, chronic illness and prior use through the latent severity, never through a recorded label.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from hygeia.synth.course import _NS, INFECTIONS, Course, Visit, _physiology, _vitals
from hygeia.synth.vocab import CONDITIONS, MINOR_REASONS

_INFECTIOUS_MINOR = {"68566005", "444814009"}  # urinary tract infection, viral sinusitis


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method (small λ)."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _id_stream(seed: int, index: int) -> Callable[[], str]:
    """Deterministic UUIDs apart from the patient's main stream (hygeia.synth.course.Ids)."""
    counter = iter(range(1, 1 << 30))
    return lambda: str(uuid.uuid5(_NS, f"{seed}:{index}:ed:{next(counter)}"))


def _busy(course: Course, now: datetime) -> list[tuple[datetime, datetime]]:
    spans = [(v.start - timedelta(hours=12), v.end + timedelta(hours=12)) for v in course.visits]
    for s in course.stays:
        begin = s.ed.start if s.ed is not None else s.admit
        spans.append((begin - timedelta(hours=12), (s.discharge or now) + timedelta(hours=12)))
    return spans


def add_ed_attendances(courses: list[Course], seed: int, begin: datetime, now: datetime) -> int:
    """Add discharged ED attendances and triage vital signs to every ED visit; returns the number added."""
    added = 0
    days = (now - begin).days
    for course in courses:
        person = course.person
        rng = random.Random(f"hygeia-synth:{seed}:{person.index}:ed")
        next_id = _id_stream(seed, person.index)
        chronic = sum(1 for c in course.conditions if CONDITIONS[c.key].chronic)
        age = person.age_at(begin)
        lam = (0.8 + 0.12 * chronic + 0.4 * (age >= 75) + 0.3 * (age < 18)) * days / 365.0
        end_of_life = course.death or now
        busy = _busy(course, now)
        for _ in range(_poisson(rng, lam)):
            when = begin + timedelta(days=rng.randrange(days), hours=rng.randint(0, 23),
                                     minutes=rng.randrange(0, 60, 5))
            length = timedelta(hours=rng.uniform(1.5, 6))
            if when + length >= end_of_life or any(a <= when <= b for a, b in busy):
                continue  # the draw falls in a stay, next to another visit, or after death: no visit
            code, display = rng.choice(MINOR_REASONS)
            course.visits.append(Visit(next_id(), "EMER", when, when + length, code, display, "acute medicine"))
            busy.append((when - timedelta(hours=12), when + length + timedelta(hours=12)))
            added += 1
        course.visits.sort(key=lambda v: v.start)
        ph = _physiology(rng, course, age)
        for v in course.visits:
            if v.cls == "EMER":
                severity = 0.6 * rng.betavariate(1.2, 6)
                t = v.start + timedelta(minutes=rng.randint(10, 20))
                v.triage = _vitals(rng, ph, severity, t, v.reason_code in _INFECTIOUS_MINOR, person.age_at(t))
        for s in course.stays:
            if s.ed is not None:
                t = s.ed.start + timedelta(minutes=rng.randint(10, 20))
                s.ed.triage = _vitals(rng, ph, s.sev0, t, s.reason in INFECTIONS, person.age_at(t))
    return added


__all__ = ["add_ed_attendances"]
