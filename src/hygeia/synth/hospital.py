"""The synthetic hospital's fixed structure: wards, bays, beds, staff. Pure: no I/O."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hygeia.synth.vocab import FAMILY_NAMES, GIVEN_NAMES

HOSPITAL_NAME = "Hygeia Synthetic General Hospital (fictitious)"


@dataclass(frozen=True)
class Bed:
    id: str  # FHIR Location id
    ward: str
    bay: str  # bay or side-room label: "B1".."B4" or "SR1".."SRn"
    number: int
    sex: str  # "M", "F" or "X" (side room, either sex)
    isolation: bool

    @property
    def hl7(self) -> str:
        """HL7 v2 PV1-3 point of care^room^bed."""
        return f"{self.ward}^{self.bay}^{self.number}"


@dataclass(frozen=True)
class Ward:
    code: str
    name: str
    specialty: str
    bays: int
    beds_per_bay: int
    side_rooms: int
    negative_pressure_rooms: int
    equipment: tuple[str, ...]
    beds: tuple[Bed, ...] = field(default=())

    @property
    def location_id(self) -> str:
        return f"ward-{self.code.lower()}"


@dataclass(frozen=True)
class StaffMember:
    id: str
    given: str
    family: str
    sex: str
    role: str  # "doctor", "nurse", "hca"
    grade: str
    specialty: str
    home_ward: str
    skills: tuple[str, ...]
    contract: str  # "full-time", "part-time", "bank"
    hours_per_week: float


@dataclass(frozen=True)
class Hospital:
    wards: tuple[Ward, ...]
    staff: tuple[StaffMember, ...]

    def ward(self, code: str) -> Ward:
        for w in self.wards:
            if w.code == code:
                return w
        raise KeyError(code)

    def doctors(self, specialty: str) -> list[StaffMember]:
        return [s for s in self.staff if s.role == "doctor" and s.specialty == specialty]


# code, name, specialty, bays, beds per bay, side rooms, negative-pressure rooms, equipment
_WARDS: tuple[tuple[str, str, str, int, int, int, int, tuple[str, ...]], ...] = (
    (
        "AMU",
        "Acute Medical Unit",
        "acute medicine",
        4,
        6,
        4,
        1,
        ("cardiac monitor", "infusion pump", "NIV machine"),
    ),
    (
        "RESP",
        "Respiratory Ward",
        "respiratory medicine",
        3,
        6,
        4,
        2,
        ("NIV machine", "high-flow nasal oxygen", "infusion pump"),
    ),
    ("CARD", "Cardiology Ward", "cardiology", 3, 6, 2, 0, ("telemetry", "cardiac monitor", "defibrillator")),
    ("ELD", "Elderly Care Ward", "geriatric medicine", 4, 6, 4, 0, ("pressure-relieving mattress", "hoist")),
    ("SURG", "General Surgical Ward", "general surgery", 3, 6, 3, 0, ("PCA pump", "infusion pump")),
    ("ORTH", "Orthopaedic Ward", "trauma and orthopaedics", 3, 6, 2, 0, ("traction", "hoist")),
    (
        "ONC",
        "Oncology and Haematology Ward",
        "oncology",
        2,
        4,
        8,
        2,
        ("chemotherapy infusion pump", "laminar flow room"),
    ),
    (
        "ICU",
        "Intensive Care Unit",
        "critical care",
        1,
        8,
        4,
        2,
        ("ventilator", "renal replacement therapy", "arterial line monitor"),
    ),
)

SPECIALTY_SKILLS: dict[str, tuple[str, ...]] = {
    "acute medicine": ("IV cannulation", "sepsis screening"),
    "respiratory medicine": ("NIV", "tracheostomy care"),
    "cardiology": ("telemetry", "ECG interpretation"),
    "geriatric medicine": ("delirium assessment", "falls prevention"),
    "general surgery": ("wound care", "PCA management"),
    "trauma and orthopaedics": ("traction", "post-op mobilisation"),
    "oncology": ("chemotherapy administration", "central line care"),
    "critical care": ("ventilator management", "renal replacement therapy", "arterial line"),
}


def build_hospital(rng: random.Random) -> Hospital:
    """Wards with beds, and a staff list (doctors by grade, nurses by band, HCAs) per ward."""
    wards = []
    for code, name, spec, bays, per_bay, side, neg, equipment in _WARDS:
        beds: list[Bed] = []
        for b in range(1, bays + 1):
            sex = "X" if code == "ICU" else ("M" if b % 2 else "F")
            for n in range(1, per_bay + 1):
                beds.append(Bed(f"bed-{code.lower()}-b{b}-{n}", code, f"B{b}", n, sex, False))
        for s in range(1, side + 1):
            beds.append(Bed(f"bed-{code.lower()}-sr{s}-1", code, f"SR{s}", 1, "X", True))
        wards.append(Ward(code, name, spec, bays, per_bay, side, neg, equipment, tuple(beds)))

    staff: list[StaffMember] = []
    groups = list(GIVEN_NAMES)

    def person(role: str, grade: str, ward: Ward, skills: tuple[str, ...]) -> None:
        group = rng.choice(groups)
        sex = rng.choice("FM")
        given = rng.choice(GIVEN_NAMES[group][0 if sex == "F" else 1])
        family = rng.choice(FAMILY_NAMES[group])
        contract = rng.choices(("full-time", "part-time", "bank"), weights=(0.7, 0.22, 0.08))[0]
        hours = {"full-time": 37.5, "part-time": rng.choice((15.0, 22.5, 30.0)), "bank": 0.0}[contract]
        staff.append(
            StaffMember(
                f"staff-{len(staff) + 1:04d}",
                given,
                family,
                sex,
                role,
                grade,
                ward.specialty,
                ward.code,
                skills,
                contract,
                hours,
            )
        )

    for ward in wards:
        spec_skills = SPECIALTY_SKILLS[ward.specialty]
        doctor_grades = (("consultant", 2), ("registrar", 2), ("core trainee", 2), ("foundation year 1", 2))
        for grade, count in doctor_grades:
            for _ in range(count):
                extra = ("ALS",) if grade in ("consultant", "registrar") or ward.code == "ICU" else ()
                person("doctor", grade, ward, spec_skills[:1] + extra)
        n_beds = len(ward.beds)
        nurses = max(8, round(n_beds * (1.6 if ward.code == "ICU" else 0.7)))
        for i in range(nurses):
            band = "band 7" if i == 0 else ("band 6" if i < 3 else "band 5")
            skills = spec_skills if band != "band 5" or rng.random() < 0.5 else spec_skills[:1]
            if rng.random() < 0.3:
                skills = (*skills, "ILS")
            person("nurse", band, ward, skills)
        for _ in range(max(3, n_beds // 6)):
            person("hca", "band 3", ward, ("observations",))
    return Hospital(tuple(wards), tuple(staff))
