"""One synthetic patient's life in the hospital: demographics, conditions, visits, stays, outcomes.

Pure and deterministic: everything is drawn from the ``random.Random`` passed in, and times are
relative to the fixed simulation window (never the wall clock).

Latent risk model (documented in docs/synth.md; the coefficients are invented for synthetic data,
chosen so that rates land near published ranges — in-hospital mortality of emergency medical
admissions ~4–8 %, 30-day readmission ~12–18 %):

* admission severity ``sev0`` ~ Beta(2, 4) + reason bump (sepsis +0.25, pneumonia +0.10);
* deterioration: logit p = -4.0 + 0.035·(age-65) + 0.30·comorbidities + 2.8·sev0 + 0.4·sepsis;
* death given deterioration: logit p = -1.2 + 0.05·(age-70) + 0.25·comorbidities + 1.0·sev0;
  death without deterioration: logit p = -6.5 + 0.06·(age-70) + 0.3·comorbidities;
* 30-day readmission: logit p = -2.9 + 0.02·(age-65) + 0.25·comorbidities + 0.5·heart failure
  + 0.4·COPD + 0.5·(stay > 7 days) + 0.6·ICU + 0.5·(discharge creatinine > 1.5 mg/dL)
  + 0.4·(discharge haemoglobin < 10 g/dL).

Vitals and labs are functions of a latent acute-illness severity s(t) (0 = well, ~2 = peri-arrest):
HR +28·s, RR +9·s, SpO2 -7·s (oxygen titrated to target), SBP -35·s, temperature +1.6·s for
infections, new confusion (ACVPU C) above s ≈ 1.3; lactate, creatinine, WBC and CRP rise with s.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hygeia.synth.hospital import Bed, Hospital
from hygeia.synth.vocab import (
    ALLERGIES,
    CONDITIONS,
    FAMILY_NAMES,
    GIVEN_NAMES,
    MINOR_REASONS,
    PROCEDURES,
    RACES,
)

_NS = uuid.UUID("6f1c2a4e-8d51-4c2b-9a7e-2b1d7c0e5a10")
INFECTIONS = frozenset({"pneumonia", "sepsis", "copd_exacerbation", "uti", "cellulitis"})
SPECIALTY_OF_WARD = {
    "AMU": "acute medicine",
    "RESP": "respiratory medicine",
    "CARD": "cardiology",
    "ELD": "geriatric medicine",
    "SURG": "general surgery",
    "ORTH": "trauma and orthopaedics",
    "ONC": "oncology",
    "ICU": "critical care",
}


# Share of an adult's admission probability that puts them in a bed at "now" (the census the ward view
# shows): 500 patients give 45-70 current inpatients (46 with seed 42), the occupied beds of three or
# four medical wards — a point-prevalence sample, not the stationary census of 500 people's year.
IN_BED_AT_NOW = 0.4


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class Ids:
    """Deterministic UUIDs for one patient: uuid5 of (seed, patient index, counter)."""

    def __init__(self, seed: int, index: int) -> None:
        self._prefix = f"{seed}:{index}:"
        self._n = 0

    def next(self) -> str:
        self._n += 1
        return str(uuid.uuid5(_NS, f"{self._prefix}{self._n}"))


@dataclass(frozen=True)
class Person:
    index: int
    id: str
    mrn: str
    given: str
    family: str
    sex: str  # "male" / "female"
    birth_date: date
    race: str  # key of vocab.RACES
    hispanic: bool
    ancestry: str  # PGx biogeographic group

    def age_at(self, when: datetime) -> int:
        d = when.date()
        return d.year - self.birth_date.year - ((d.month, d.day) < (self.birth_date.month, self.birth_date.day))


@dataclass
class CondEntry:
    id: str
    key: str
    onset: datetime
    abatement: datetime | None = None
    encounter: str | None = None


@dataclass
class MedEntry:
    id: str
    key: str
    start: datetime
    end: datetime | None
    reason: str | None  # CondEntry id
    encounter: str | None = None
    prescriber_specialty: str = "acute medicine"


@dataclass(frozen=True)
class AllergyEntry:
    id: str
    code: str
    display: str
    category: str
    criticality: str
    recorded: datetime


@dataclass
class Visit:
    id: str
    cls: str  # "AMB" / "EMER"
    start: datetime
    end: datetime
    reason_code: str
    reason_display: str
    specialty: str
    admitted: bool = False
    triage: VitalRound | None = None  # ED triage vital signs (hygeia.synth.ed)


@dataclass
class WardStay:
    ward: str
    start: datetime
    end: datetime | None  # None: still there at "now"
    bed: Bed | None = None


@dataclass(frozen=True)
class VitalRound:
    time: datetime
    hr: int
    rr: int
    spo2: int
    temp: float
    sbp: int
    dbp: int
    o2_flow: float  # L/min, 0 = room air
    acvpu: str


@dataclass(frozen=True)
class LabResult:
    time: datetime
    name: str  # key of codes.LAB_BY_NAME
    value: float


@dataclass(frozen=True)
class Surgery:
    id: str
    code: str
    display: str
    planned_minutes: int
    start: datetime
    end: datetime
    specialty: str


@dataclass
class Stay:
    id: str
    reason: str  # CONDITIONS key
    reason_entry: str  # CondEntry id
    admit: datetime
    discharge: datetime | None  # None: ongoing at "now"
    elective: bool
    ed: Visit | None
    wards: list[WardStay] = field(default_factory=list)
    vitals: list[VitalRound] = field(default_factory=list)
    labs: list[LabResult] = field(default_factory=list)
    surgery: Surgery | None = None
    sev0: float = 0.0
    deteriorated: bool = False
    onset: datetime | None = None
    escalation: datetime | None = None  # ICU transfer or death on the ward after deterioration
    icu: bool = False
    died: bool = False
    disposition: str = "home"  # discharge-disposition code
    p_deteriorate: float = 0.0
    p_death: float = 0.0
    p_readmit: float = 0.0
    is_readmission: bool = False


@dataclass
class Course:
    person: Person
    conditions: list[CondEntry]
    meds: list[MedEntry]
    allergies: list[AllergyEntry]
    visits: list[Visit]
    stays: list[Stay]
    death: datetime | None = None

    def has(self, key: str) -> bool:
        return any(c.key == key for c in self.conditions)

    @property
    def comorbidities(self) -> int:
        return sum(1 for c in self.conditions if CONDITIONS[c.key].chronic)


# -- demographics ----------------------------------------------------------------------------------


def draw_person(rng: random.Random, ids: Ids, index: int, seed: int, now: datetime) -> Person:
    race = rng.choices(RACES, weights=[r[3] for r in RACES])[0]
    p_hisp = {"white": 0.1, "other": 0.6, "aian": 0.4}.get(race[0], 0.03)
    hispanic = rng.random() < p_hisp
    ancestry = "latino" if hispanic else race[4]
    sex = rng.choice(("female", "male"))
    age = rng.randint(2, 17) if rng.random() < 0.07 else 18 + int(77 * rng.betavariate(2.2, 1.6))
    birth = now.date() - timedelta(days=365 * age + rng.randint(1, 364))
    given = rng.choice(GIVEN_NAMES[ancestry][0 if sex == "female" else 1])
    family = rng.choice(FAMILY_NAMES[ancestry])
    # Synthea's convention: digits make the names recognisably synthetic.
    return Person(
        index,
        ids.next(),
        f"SYN-{seed}-{index + 1:05d}",
        f"{given}{rng.randint(10, 999)}",
        f"{family}{rng.randint(10, 999)}",
        sex,
        birth,
        race[0],
        hispanic,
        ancestry,
    )


def _age_prob(age: int, at50: float, at80: float) -> float:
    return min(0.95, max(0.0, at50 + (at80 - at50) * (age - 50) / 30.0))


_CHRONIC_RISK = {  # probability at age 50 and at age 80 (linear in between, extrapolated)
    "hypertension": (0.25, 0.6),
    "diabetes": (0.12, 0.25),
    "hyperlipidemia": (0.2, 0.45),
    "cad": (0.05, 0.2),
    "heart_failure": (0.02, 0.15),
    "af": (0.02, 0.15),
    "copd": (0.04, 0.14),
    "ckd": (0.04, 0.25),
    "osteoarthritis": (0.1, 0.4),
    "colorectal_cancer": (0.015, 0.05),
    "asthma": (0.08, 0.06),
    "crohns": (0.02, 0.02),
    "kidney_transplant": (0.02, 0.015),
    "all_leukaemia": (0.012, 0.01),
    "gallstones": (0.04, 0.05),
}


def _chronic(rng: random.Random, ids: Ids, person: Person, start: datetime) -> list[CondEntry]:
    age = person.age_at(start)
    out: list[CondEntry] = []

    def add(key: str) -> None:
        max_days = max(30, min(365 * 15, (age - 1) * 365))
        onset = start - timedelta(days=rng.randint(30, max_days), hours=rng.randint(8, 17))
        out.append(CondEntry(ids.next(), key, onset))

    if age < 18:
        for key, p in (("asthma", 0.1), ("all_leukaemia", 0.03), ("crohns", 0.01)):
            if rng.random() < p:
                add(key)
        return out
    for key, (p50, p80) in _CHRONIC_RISK.items():
        if rng.random() < _age_prob(age, p50, p80):
            add(key)
    if person.sex == "female" and rng.random() < _age_prob(age, 0.02, 0.05):
        add("breast_cancer")
    if any(c.key == "copd" for c in out) and rng.random() < 0.35:
        add("hypercapnic_rf")
    return out


def _chronic_meds(rng: random.Random, ids: Ids, conds: list[CondEntry], start: datetime) -> list[MedEntry]:
    meds: list[MedEntry] = []
    by_key = {c.key: c for c in conds}

    def give(drug: str, cond: str, spec: str = "acute medicine") -> None:
        c = by_key[cond]
        begin = min(c.onset + timedelta(days=rng.randint(1, 60)), start - timedelta(days=1))
        meds.append(MedEntry(ids.next(), drug, begin, None, c.id, None, spec))

    has = by_key.__contains__
    if has("hypertension"):
        give(rng.choice(("amlodipine", "ramipril")), "hypertension")
    if has("diabetes"):
        give("metformin", "diabetes")
        if rng.random() < 0.2:
            give("insulin_glargine", "diabetes")
    lipid = "cad" if has("cad") else ("hyperlipidemia" if has("hyperlipidemia") else "")
    if lipid:
        give("simvastatin" if rng.random() < 0.5 else "atorvastatin", lipid, "cardiology")
    if has("cad"):
        give("aspirin", "cad", "cardiology")
        if rng.random() < 0.5:
            give("clopidogrel", "cad", "cardiology")  # dual antiplatelet therapy after PCI
    if has("af"):
        give("warfarin" if rng.random() < 0.45 else "apixaban", "af", "cardiology")
        give("metoprolol", "af", "cardiology")
    if has("heart_failure"):
        give("furosemide", "heart_failure", "cardiology")
        if not has("hypertension"):
            give("ramipril", "heart_failure", "cardiology")
    if has("copd"):
        give("tiotropium", "copd", "respiratory medicine")
        give("salbutamol", "copd", "respiratory medicine")
    elif has("asthma"):
        give("salbutamol", "asthma", "respiratory medicine")
    if has("osteoarthritis"):
        give("codeine" if rng.random() < 0.35 else "acetaminophen", "osteoarthritis")
    for cancer in ("colorectal_cancer", "breast_cancer"):
        if has(cancer):
            if cancer == "breast_cancer" and rng.random() > 0.4:
                continue
            if cancer == "colorectal_cancer" and rng.random() < 0.5:
                give("fluorouracil", cancer, "oncology")
                give("oxaliplatin", cancer, "oncology")
            else:
                give("capecitabine", cancer, "oncology")
            if rng.random() < 0.7:
                give("ondansetron", cancer, "oncology")  # prophylaxis of chemotherapy-induced nausea
    if has("crohns"):
        r = rng.random()
        if r < 0.6:
            give("azathioprine", "crohns")
        elif r < 0.8:
            give("mercaptopurine", "crohns")
    if has("all_leukaemia"):
        give("mercaptopurine", "all_leukaemia", "oncology")  # maintenance therapy
        if rng.random() < 0.5:
            give("ondansetron", "all_leukaemia", "oncology")
    if has("kidney_transplant"):
        give("tacrolimus", "kidney_transplant")
        give("prednisolone", "kidney_transplant")
    return meds


# -- admissions ------------------------------------------------------------------------------------


def _admission_reason(rng: random.Random, course: Course, age: int) -> str:
    has = course.has
    on_anticoag = any(m.key in ("warfarin", "apixaban") for m in course.meds)
    immuno = has("colorectal_cancer") or has("breast_cancer") or has("all_leukaemia") or has("kidney_transplant")
    weights = {
        "pneumonia": 3 + 2 * has("copd"),
        "sepsis": 1.5 + 1.0 * (has("ckd") or has("diabetes") or immuno),
        "copd_exacerbation": 5.0 * has("copd"),
        "acute_hf": 5.0 * has("heart_failure"),
        "nstemi": 2.0 * has("cad") + 0.5 * (age > 50),
        "uti": 1.5 + 1.0 * (age >= 75),
        "aki": 1 + 1.0 * has("ckd"),
        "gi_bleed": 1 + 1.5 * on_anticoag,
        "stroke": 1 + 1.5 * has("af"),
        "cellulitis": 1.0,
    }
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _specialty_ward(reason: str, age: int, course: Course) -> str:
    if reason in ("sepsis", "pneumonia") and (course.has("all_leukaemia") or course.has("colorectal_cancer")):
        return "ONC"
    return {
        "pneumonia": "RESP",
        "copd_exacerbation": "RESP",
        "acute_hf": "CARD",
        "nstemi": "CARD",
        "gi_bleed": "SURG",
        "stroke": "ELD" if age >= 70 else "AMU",
        "sepsis": "ELD" if age >= 75 else "AMU",
        "uti": "ELD" if age >= 75 else "AMU",
        "aki": "ELD" if age >= 75 else "AMU",
        "cellulitis": "AMU",
    }.get(reason, "AMU")


_BASE_LOS_DAYS = {
    "pneumonia": 5,
    "sepsis": 7,
    "copd_exacerbation": 4,
    "acute_hf": 6,
    "nstemi": 4,
    "uti": 4,
    "aki": 5,
    "gi_bleed": 4,
    "stroke": 9,
    "cellulitis": 4,
    "hip_oa_surgery": 4,
    "colorectal_cancer": 7,
    "gallstones": 1.5,
}


@dataclass(frozen=True)
class _Physiology:
    hr: float
    rr: float
    spo2: float
    target: float  # lowest acceptable SpO2 before oxygen is titrated (88 in hypercapnic failure)
    temp: float
    sbp: float
    dbp: float
    cr: float
    hb: float


def _physiology(rng: random.Random, course: Course, age: int) -> _Physiology:
    hyper = course.has("hypercapnic_rf")
    beta = any(m.key == "metoprolol" for m in course.meds)
    male = course.person.sex == "male"
    return _Physiology(
        hr=rng.gauss(72 if beta else 80, 7),
        rr=rng.gauss(18 if course.has("copd") else 15, 1.2),
        spo2=rng.gauss(90, 1) if hyper else rng.gauss(97 if age < 70 else 96, 0.8),
        target=88 if hyper else 94,
        temp=rng.gauss(36.7, 0.2),
        sbp=rng.gauss(125 + 0.25 * (age - 50) + 8 * course.has("hypertension"), 10),
        dbp=rng.gauss(76, 6),
        cr=rng.gauss(2.0, 0.3) if course.has("ckd") else rng.gauss(0.95 if male else 0.75, 0.1),
        hb=rng.gauss(13.8 if male else 12.6, 0.8) - 1.4 * course.has("ckd"),
    )


def _vitals(rng: random.Random, ph: _Physiology, s: float, t: datetime, infection: bool, age: int) -> VitalRound:
    raw = ph.spo2 - 7.0 * s + rng.gauss(0, 0.8)
    flow = 0.0
    if raw < ph.target:  # oxygen titrated to the target range, up to 15 L/min
        flow = float(min(15, max(1, math.ceil((ph.target - raw) / 1.2))))
    spo2 = min(100, round(raw + 1.2 * flow))
    level = s + 0.15 * (age >= 80) + rng.gauss(0, 0.12)
    acvpu = "A" if level < 1.3 else "C" if level < 1.75 else "V" if level < 2.0 else "P" if level < 2.25 else "U"
    sbp = max(60, round(ph.sbp - 35 * s + rng.gauss(0, 6)))
    dbp = max(30, min(sbp - 15, round(ph.dbp - 18 * s + rng.gauss(0, 4))))
    return VitalRound(
        time=t,
        hr=max(35, round(ph.hr + 28 * s + rng.gauss(0, 4))),
        rr=max(6, round(ph.rr + 9 * s + rng.gauss(0, 1))),
        spo2=spo2,
        temp=round(ph.temp + (1.6 if infection else 0.2) * s + rng.gauss(0, 0.15), 1),
        sbp=sbp,
        dbp=dbp,
        o2_flow=flow,
        acvpu=acvpu,
    )


def _labs(rng: random.Random, ph: _Physiology, s: float, t: datetime, stay: Stay, course: Course) -> list[LabResult]:
    infection = stay.reason in INFECTIONS
    warfarin = any(m.key == "warfarin" for m in course.meds)
    aki = 0.9 * s if stay.reason in ("aki", "sepsis") else 0.0
    values = {
        "creatinine": round(max(0.4, ph.cr * (1 + 0.45 * s + aki) + rng.gauss(0, 0.05)), 2),
        "lactate": round(max(0.4, 0.9 + 2.2 * s * (1.3 if stay.reason == "sepsis" else 1.0) + rng.gauss(0, 0.2)), 1),
        "wbc": round(max(0.5, 7 + (9 if infection else 2) * s + rng.gauss(0, 1.2)), 1),
        "crp": round(max(0.5, (3 + (180 if infection else 20) * s) * rng.uniform(0.8, 1.2)), 1),
        "sodium": round(139 - 3 * s + rng.gauss(0, 2)),
        "potassium": round(4.2 + 0.5 * s + 0.3 * course.has("ckd") + rng.gauss(0, 0.25), 1),
        "hemoglobin": round(max(5.0, ph.hb - (3.5 if stay.reason == "gi_bleed" else 0.5) * s + rng.gauss(0, 0.4)), 1),
        "inr": round(max(0.8, (rng.gauss(2.5, 0.4) if warfarin else rng.gauss(1.0, 0.06)) + 0.3 * s), 2),
        "glucose": round((rng.gauss(160, 35) + 20 * s) if course.has("diabetes") else rng.gauss(100, 12)),
    }
    if stay.reason == "nstemi":
        values["troponin_i"] = round(max(0.05, 2.0 * s * rng.uniform(0.5, 2.0)), 2)
    return [LabResult(t, name, float(v)) for name, v in values.items()]


def _course_severity(
    stay: Stay, t: datetime, tau_h: float, peak: float, event: datetime | None, dies_after: bool
) -> float:
    hours = (t - stay.admit).total_seconds() / 3600.0
    base = stay.sev0 * math.exp(-hours / tau_h)
    if stay.onset is None or t < stay.onset:
        return base
    at_onset = stay.sev0 * math.exp(-(stay.onset - stay.admit).total_seconds() / 3600.0 / tau_h)
    if event is None:
        return base
    if t <= event:
        frac = (t - stay.onset).total_seconds() / max(1.0, (event - stay.onset).total_seconds())
        return at_onset + (peak - at_onset) * frac**1.5
    since = (t - event).total_seconds() / 3600.0
    if dies_after:  # dying in ICU: severity keeps rising
        return peak + 0.4 * min(1.0, since / 48.0)
    return peak * math.exp(-since / 30.0)  # recovering after escalation


def simulate_stay(
    rng: random.Random,
    ids: Ids,
    course: Course,
    admit: datetime,
    now: datetime,
    hospital: Hospital,
    *,
    elective_reason: str | None = None,
    in_bed_at_now: bool = False,
) -> Stay:
    """One inpatient stay: ward path, vital-sign series, labs, deterioration and outcome.

    ``in_bed_at_now``: an emergency stay sampled as a point-prevalence case — a patient in a bed at
    "now". Its admission time is moved to ``now`` minus a uniform fraction of its own length of stay
    (length-biased sampling: the elapsed share of a stay that covers a random instant is uniform), but
    not before ``admit``, the earliest time the patient is free.
    """
    person = course.person
    age = person.age_at(admit)
    ncm = course.comorbidities
    reason = elective_reason or _admission_reason(rng, course, age)
    entry = next((c for c in course.conditions if c.key == reason and c.abatement is None), None)
    stay = Stay(ids.next(), reason, "", admit, None, elective_reason is not None, None)
    if entry is None or not stay.elective:
        entry = CondEntry(ids.next(), reason, admit, None, stay.id)
        course.conditions.append(entry)
    stay.reason_entry = entry.id
    if not stay.elective:
        ed_start = admit - timedelta(minutes=rng.randint(120, 480))
        d = CONDITIONS[reason]
        stay.ed = Visit(ids.next(), "EMER", ed_start, admit, d.snomed, d.display, "acute medicine", True)

    # latent severity and risks
    bump = {"sepsis": 0.25, "pneumonia": 0.1}.get(reason, 0.0)
    stay.sev0 = min(1.0, rng.betavariate(2, 4) * (0.4 if stay.elective else 1.0) + bump)
    stay.p_deteriorate = sigmoid(-4.0 + 0.035 * (age - 65) + 0.3 * ncm + 2.8 * stay.sev0 + 0.4 * (reason == "sepsis"))
    stay.deteriorated = rng.random() < stay.p_deteriorate
    los_h = 24 * _BASE_LOS_DAYS.get(reason, 4) * math.exp(rng.gauss(0, 0.45)) * (1 + 0.01 * max(0, age - 65))
    los_h = max(12.0, los_h)
    if in_bed_at_now:
        admit = max(admit, now - timedelta(hours=max(3.0, rng.random() * los_h)))
        stay.admit = admit
        if entry.encounter == stay.id:
            entry.onset = admit
        if stay.ed is not None:
            stay.ed.start, stay.ed.end = stay.ed.start + (admit - stay.ed.end), admit
    icu_at: datetime | None = None
    death_at: datetime | None = None
    event_at: datetime | None = None
    dies_after = False
    peak = 0.0
    if stay.deteriorated:
        stay.onset = admit + timedelta(hours=max(8.0, rng.uniform(0.15, 0.7) * los_h))
        event = event_at = stay.onset + timedelta(hours=rng.uniform(6, 30))
        stay.escalation = event_at
        peak = rng.uniform(1.6, 2.2)
        stay.p_death = sigmoid(-1.2 + 0.05 * (age - 70) + 0.25 * ncm + 1.0 * stay.sev0)
        dies = rng.random() < stay.p_death
        ceiling = age >= 85 or (age >= 78 and ncm >= 4)  # ward-based ceiling of care
        if dies and ceiling:
            death_at = event
        else:
            icu_at = event
            stay.icu = True
            if dies:
                death_at = event + timedelta(hours=rng.uniform(12, 96))
                dies_after = True
            else:
                los_h = (event - admit).total_seconds() / 3600 + rng.uniform(24, 120) + rng.uniform(48, 168)
    else:
        stay.p_death = sigmoid(-6.5 + 0.06 * (age - 70) + 0.3 * ncm)
        if rng.random() < stay.p_death:
            death_at = admit + timedelta(hours=rng.uniform(12, los_h))
    end = death_at or admit + timedelta(hours=los_h)
    stay.died = death_at is not None
    if end >= now:
        end, stay.died, death_at = now, False, None
        stay.discharge = None
        if stay.onset is not None and stay.onset >= end:  # deterioration not yet begun at "now"
            stay.onset, stay.deteriorated, stay.escalation = None, False, None
        stay.icu = icu_at is not None and icu_at < end
    else:
        stay.discharge = end
    stay.disposition = "exp" if stay.died else ("snf" if age >= 85 and rng.random() < 0.3 else "home")

    # ward path: AMU (emergency) -> specialty ward, ICU on escalation, back to the ward on recovery
    first = _specialty_ward(reason, age, course)
    if stay.elective:
        proc = PROCEDURES[reason]
        first = proc[3]
        day = admit.replace(hour=8, minute=30) if admit.hour < 12 else admit.replace(hour=13, minute=30)
        minutes = max(30, round(proc[2] * math.exp(rng.gauss(0, 0.2))))
        stay.surgery = Surgery(
            ids.next(),
            proc[0],
            proc[1],
            proc[2],
            day + timedelta(minutes=rng.randint(0, 60)),
            day + timedelta(minutes=60 + minutes),
            proc[4],
        )
    points: list[tuple[datetime, str]] = [(admit, "AMU" if not stay.elective else first)]
    if not stay.elective and first != "AMU":
        move = admit + timedelta(hours=rng.uniform(6, 36))
        if move < end:
            points.append((move, first))
    if icu_at is not None and icu_at < end:
        points = [p for p in points if p[0] < icu_at] + [(icu_at, "ICU")]
        if not stay.died:
            back = icu_at + timedelta(hours=rng.uniform(24, 120))
            if back < end:
                points.append((back, first))
    for i, (t, ward) in enumerate(points):
        t_end = points[i + 1][0] if i + 1 < len(points) else (end if stay.discharge or stay.died else None)
        stay.wards.append(WardStay(ward, t, t_end))

    # vital signs every 1-4 h (hourly when unwell or in ICU), labs daily at 06:00 and on escalation
    ph = _physiology(rng, course, age)
    infection = reason in INFECTIONS
    tau_h = max(12.0, los_h / 3.0)
    t = admit + timedelta(minutes=rng.randint(5, 40))
    while t < end:
        s = _course_severity(stay, t, tau_h, peak, event_at, dies_after)
        stay.vitals.append(_vitals(rng, ph, s, t, infection, age))
        in_icu = icu_at is not None and t >= icu_at
        step = 1.0 if s >= 1.0 or in_icu else 2.0 if s >= 0.5 else 4.0
        t += timedelta(hours=step, minutes=rng.randint(-10, 10))
    lab_times = [admit + timedelta(minutes=30)]
    day = (admit + timedelta(days=1)).replace(hour=6, minute=0)
    while day < end:
        lab_times.append(day)
        day += timedelta(days=1)
    for extra in (stay.onset, icu_at):
        if extra is not None and extra < end:
            lab_times.append(extra + timedelta(minutes=20))
    for lt in sorted(set(lab_times)):
        if lt < end:
            stay.labs.extend(
                _labs(rng, ph, _course_severity(stay, lt, tau_h, peak, event_at, dies_after), lt, stay, course)
            )

    # readmission risk from what the record shows at discharge
    last = {lab.name: lab.value for lab in stay.labs}
    long_stay = (end - admit) > timedelta(days=7)
    stay.p_readmit = (
        0.0
        if stay.died or stay.discharge is None
        else sigmoid(
            -2.9
            + 0.02 * (age - 65)
            + 0.25 * ncm
            + 0.5 * course.has("heart_failure")
            + 0.4 * course.has("copd")
            + 0.5 * long_stay
            + 0.6 * stay.icu
            + 0.5 * (last.get("creatinine", 1.0) > 1.5)
            + 0.4 * (last.get("hemoglobin", 13.0) < 10.0)
        )
    )

    _inpatient_meds(rng, ids, course, stay, entry.id)
    if entry.encounter == stay.id and stay.discharge is not None:
        entry.abatement = stay.discharge
    if stay.died:
        course.death = end
    return stay


def _inpatient_meds(rng: random.Random, ids: Ids, course: Course, stay: Stay, reason_id: str) -> None:
    start = stay.admit + timedelta(minutes=rng.randint(30, 180))
    end = stay.discharge
    spec = SPECIALTY_OF_WARD[stay.wards[-1].ward if stay.wards else "AMU"]

    def give(drug: str, reason: str | None = reason_id) -> None:
        course.meds.append(MedEntry(ids.next(), drug, start, end, reason, stay.id, spec))

    pen_allergy = any(a.code == "91936005" for a in course.allergies)
    if stay.reason in INFECTIONS:
        give("doxycycline" if pen_allergy else ("amoxicillin" if stay.reason == "pneumonia" else "ceftriaxone"))
    if stay.reason == "copd_exacerbation":
        give("prednisolone")
        give("salbutamol")
    if stay.reason == "acute_hf":
        give("furosemide")
    if stay.reason == "nstemi":
        give("aspirin")
        if not any(m.key == "clopidogrel" and m.end is None for m in course.meds):
            give("clopidogrel")
    if stay.reason not in ("gi_bleed", "stroke") and not any(m.key in ("warfarin", "apixaban") for m in course.meds):
        give("enoxaparin", None)  # VTE prophylaxis
    give("acetaminophen", None)
    if stay.surgery is not None:
        give("morphine", None)
        give("codeine" if rng.random() < 0.4 else "acetaminophen", None)
        give("ondansetron", None)  # post-operative nausea and vomiting
    elif rng.random() < 0.2:
        give("ondansetron", None)
    if course.has("all_leukaemia") and stay.reason in INFECTIONS and rng.random() < 0.5:
        asp = CondEntry(ids.next(), "aspergillosis", start + timedelta(days=1), stay.discharge, stay.id)
        course.conditions.append(asp)
        give("voriconazole", asp.id)


# -- a whole patient ------------------------------------------------------------------------------


def simulate_patient(
    rng: random.Random, ids: Ids, index: int, seed: int, start: datetime, now: datetime, hospital: Hospital
) -> Course:
    """Demographics, history, visits and stays of one patient inside the window [start, now)."""
    person = draw_person(rng, ids, index, seed, now)
    conds = _chronic(rng, ids, person, start)
    course = Course(person, conds, _chronic_meds(rng, ids, conds, start), [], [], [])
    for code, display, category, crit, share in ALLERGIES:
        if rng.random() < share:
            recorded = start - timedelta(days=rng.randint(100, 3000))
            course.allergies.append(AllergyEntry(ids.next(), code, display, category, crit, recorded))
    window_days = (now - start).days
    age = person.age_at(start)

    # outpatient clinic and ED-only visits
    events: list[tuple[datetime, str]] = []
    chronic = [c for c in conds if CONDITIONS[c.key].chronic]
    for _ in range(1 + (rng.randint(0, 3) if chronic else rng.randint(0, 1))):
        events.append((_day_time(rng, start, window_days, 9, 16), "AMB"))
    if rng.random() < 0.2 + 0.02 * len(chronic):
        events.append((_day_time(rng, start, window_days, 0, 23), "EMER"))
    # inpatient admissions (adults only): emergency, or elective surgery
    if age >= 18:
        p_admit = min(0.85, max(0.05, 0.12 + 0.006 * (age - 40) + 0.07 * len(chronic)))
        n = int(rng.random() < p_admit) + int(rng.random() < 0.15 * p_admit)
        for _ in range(n):
            events.append((_day_time(rng, start, window_days, 0, 23), "IMP"))
        # the census at "now": a point-prevalence share of the patients likely to be admitted is in a bed
        if rng.random() < IN_BED_AT_NOW * p_admit:
            events.append((now - timedelta(microseconds=1), "IN_BED_AT_NOW"))
        surgical = [
            k
            for k in ("hip_oa_surgery", "colorectal_cancer", "gallstones")
            if course.has(k if k != "hip_oa_surgery" else "osteoarthritis")
        ]
        if surgical and rng.random() < 0.25:
            events.append((_day_time(rng, start, window_days, 7, 7), "ELECTIVE:" + rng.choice(surgical)))
    events.sort(key=lambda e: (e[0], e[1]))

    busy_until = start
    for when, kind in events:
        if course.death is not None or when < busy_until or when >= now:
            continue
        if kind in ("AMB", "EMER"):
            spec = "acute medicine"
            if kind == "AMB" and chronic and rng.random() < 0.7:
                c = rng.choice(chronic)
                code, display = CONDITIONS[c.key].snomed, CONDITIONS[c.key].display
                spec = _clinic_specialty(c.key)
            else:
                code, display = rng.choice(MINOR_REASONS)
            length = timedelta(minutes=rng.randint(15, 45)) if kind == "AMB" else timedelta(hours=rng.uniform(1.5, 6))
            course.visits.append(Visit(ids.next(), kind, when, min(now, when + length), code, display, spec))
            busy_until = when + length
            continue
        if kind == "IN_BED_AT_NOW":
            if busy_until > now - timedelta(hours=6):
                continue  # already in hospital (or only just discharged)
            stay = simulate_stay(rng, ids, course, busy_until + timedelta(hours=6), now, hospital, in_bed_at_now=True)
            course.visits = [v for v in course.visits if v.end <= stay.admit - timedelta(hours=1)]
            course.stays.append(stay)
            continue
        elective = kind.split(":", 1)[1] if kind.startswith("ELECTIVE:") else None
        if elective is not None and when.weekday() >= 5:
            when += timedelta(days=7 - when.weekday())
        stay = simulate_stay(rng, ids, course, when, now, hospital, elective_reason=elective)
        course.stays.append(stay)
        busy_until = stay.discharge or now
        # 30-day readmission drawn from the latent risk at discharge
        if stay.discharge is not None and not stay.died and rng.random() < stay.p_readmit:
            re_at = stay.discharge + timedelta(days=rng.uniform(1, 29), hours=rng.uniform(0, 12))
            if re_at < now:
                again = simulate_stay(rng, ids, course, re_at, now, hospital)
                again.is_readmission = True
                course.stays.append(again)
                busy_until = again.discharge or now
    if course.death is not None:
        for med in course.meds:
            if med.end is None or med.end > course.death:
                med.end = course.death
    return course


def _clinic_specialty(key: str) -> str:
    return {
        "heart_failure": "cardiology",
        "af": "cardiology",
        "cad": "cardiology",
        "copd": "respiratory medicine",
        "asthma": "respiratory medicine",
        "hypercapnic_rf": "respiratory medicine",
        "colorectal_cancer": "oncology",
        "breast_cancer": "oncology",
        "all_leukaemia": "oncology",
        "osteoarthritis": "trauma and orthopaedics",
        "gallstones": "general surgery",
    }.get(key, "acute medicine")


def _day_time(rng: random.Random, start: datetime, days: int, h0: int, h1: int) -> datetime:
    return start + timedelta(days=rng.randrange(days), hours=rng.randint(h0, h1), minutes=rng.randrange(0, 60, 5))
