"""FHIR R4 resources and transaction bundles for the synthetic hospital. Pure: dicts in, dicts out.

Every resource carries the ``hygeia-synthetic`` meta tag; the Patient also carries HL7's HTEST
("test health data") tag and a synthetic MRN under the ``hygeia-synthetic`` identifier system.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from hygeia.records import codes
from hygeia.synth.course import Course, Stay, Visit, VitalRound, WardStay
from hygeia.synth.hospital import HOSPITAL_NAME, Hospital, StaffMember
from hygeia.synth.vocab import (
    CONDITIONS,
    DRUGS,
    HTEST_TAG,
    LOCATION_ID_SYSTEM,
    RACES,
    STAFF_ID_SYSTEM,
    SYNTH_ID_SYSTEM,
    SYNTH_TAG,
)

Resource = dict[str, Any]
ORG_ID = "org-hygeia-synth"
BASE_URL = "https://hygeia.example.org/fhir"
THEATRES = ("T1", "T2", "T3", "T4")
_META = {"tag": [{"system": SYNTH_TAG["system"], "code": SYNTH_TAG["code"]}]}  # short form on every resource
_TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
ACVPU_DISPLAY = {
    "A": "Alert",
    "C": "New confusion",
    "V": "Responds to voice",
    "P": "Responds to pain",
    "U": "Unresponsive",
}


def ts(dt: datetime) -> str:
    """A FHIR dateTime in UTC (the simulation runs in UTC)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _ref(rid: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{rid}"}


def _cc(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"coding": [codes.coding(system, code, display)]}


def bundle(resources: list[Resource], *, local_ids: bool) -> Resource:
    """A transaction Bundle: PUT Type/id for every resource, ``urn:uuid:`` full URLs for uuid ids."""
    entries = []
    for r in resources:
        full = f"urn:uuid:{r['id']}" if local_ids else f"{BASE_URL}/{r['resourceType']}/{r['id']}"
        entries.append(
            {"fullUrl": full, "resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
        )
    return {"resourceType": "Bundle", "meta": {"tag": [SYNTH_TAG]}, "type": "transaction", "entry": entries}


# -- the hospital ----------------------------------------------------------------------------------


def hospital_resources(hospital: Hospital) -> list[Resource]:
    org: Resource = {
        "resourceType": "Organization",
        "id": ORG_ID,
        "meta": _META,
        "active": True,
        "identifier": [{"system": SYNTH_ID_SYSTEM, "value": "HYGEIA-SYNTH-HOSP"}],
        "type": [_cc(_TERMINOLOGY + "organization-type", "prov", "Healthcare Provider")],
        "name": HOSPITAL_NAME,
    }
    out = [org]
    physical = _TERMINOLOGY + "location-physical-type"
    for ward in hospital.wards:
        out.append(
            {
                "resourceType": "Location",
                "id": ward.location_id,
                "meta": _META,
                "status": "active",
                "mode": "instance",
                "identifier": [{"system": LOCATION_ID_SYSTEM, "value": ward.code}],
                "name": ward.name,
                "description": f"{ward.specialty}; {len(ward.beds)} beds (synthetic)",
                "physicalType": _cc(physical, "wa", "Ward"),
                "managingOrganization": {"reference": f"Organization/{ORG_ID}"},
            }
        )
        for bed in ward.beds:
            bay = {"M": "male bay", "F": "female bay", "X": "side room"}[bed.sex]
            out.append(
                {
                    "resourceType": "Location",
                    "id": bed.id,
                    "meta": _META,
                    "status": "active",
                    "mode": "instance",
                    "identifier": [{"system": LOCATION_ID_SYSTEM, "value": bed.hl7}],
                    "name": f"{ward.code} {bed.bay} bed {bed.number}",
                    "description": f"{bay}{', isolation' if bed.isolation else ''}",
                    "physicalType": _cc(physical, "bd", "Bed"),
                    "partOf": {"reference": f"Location/{ward.location_id}"},
                    "managingOrganization": {"reference": f"Organization/{ORG_ID}"},
                }
            )
    for theatre in THEATRES:
        out.append(
            {
                "resourceType": "Location",
                "id": f"theatre-{theatre.lower()}",
                "meta": _META,
                "status": "active",
                "mode": "instance",
                "identifier": [{"system": LOCATION_ID_SYSTEM, "value": theatre}],
                "name": f"Operating theatre {theatre}",
                "physicalType": _cc(physical, "ro", "Room"),
                "managingOrganization": {"reference": f"Organization/{ORG_ID}"},
            }
        )
    out.extend(practitioner(s) for s in hospital.staff)
    return out


def practitioner(s: StaffMember) -> Resource:
    name: dict[str, Any] = {"family": s.family, "given": [s.given]}
    if s.role == "doctor":
        name["prefix"] = ["Dr"]
    return {
        "resourceType": "Practitioner",
        "id": s.id,
        "meta": _META,
        "active": True,
        "identifier": [{"system": STAFF_ID_SYSTEM, "value": s.id}],
        "name": [name],
        "gender": "female" if s.sex == "F" else "male",
        "qualification": [{"code": {"text": f"{s.role}: {s.grade} ({s.specialty})"}}],
    }


# -- one patient -----------------------------------------------------------------------------------


def patient_resources(course: Course, hospital: Hospital, readmissions: dict[str, bool]) -> list[Resource]:
    """All resources of one patient; ``readmissions`` marks stays that are 30-day readmissions."""
    p = course.person
    pid = p.id
    race = next(r for r in RACES if r[0] == p.race)
    eth = ("2135-2", "Hispanic or Latino") if p.hispanic else ("2186-5", "Not Hispanic or Latino")
    omb = codes.OMB_RACE_ETHNICITY
    patient: Resource = {
        "resourceType": "Patient",
        "id": pid,
        "meta": {"tag": [SYNTH_TAG, HTEST_TAG]},
        "extension": [
            {
                "url": codes.US_CORE_RACE,
                "extension": [
                    {"url": "ombCategory", "valueCoding": codes.coding(omb, race[1], race[2])},
                    {"url": "text", "valueString": race[2]},
                ],
            },
            {
                "url": codes.US_CORE_ETHNICITY,
                "extension": [
                    {"url": "ombCategory", "valueCoding": codes.coding(omb, eth[0], eth[1])},
                    {"url": "text", "valueString": eth[1]},
                ],
            },
            {"url": codes.US_CORE_BIRTHSEX, "valueCode": "F" if p.sex == "female" else "M"},
        ],
        "identifier": [
            {
                "system": SYNTH_ID_SYSTEM,
                "value": p.mrn,
                "type": {"text": "Synthetic medical record number (hygeia-synthetic, not a real person)"},
            }
        ],
        "name": [{"use": "official", "family": p.family, "given": [p.given], "text": f"{p.given} {p.family}"}],
        "gender": p.sex,
        "birthDate": p.birth_date.isoformat(),
        "managingOrganization": {"reference": f"Organization/{ORG_ID}"},
    }
    if course.death is not None:
        patient["deceasedDateTime"] = ts(course.death)
    out: list[Resource] = [patient]
    subject = _ref(pid)

    for c in course.conditions:
        d = CONDITIONS[c.key]
        cond: Resource = {
            "resourceType": "Condition",
            "id": c.id,
            "meta": _META,
            "clinicalStatus": _cc(_TERMINOLOGY + "condition-clinical", "resolved" if c.abatement else "active"),
            "verificationStatus": _cc(_TERMINOLOGY + "condition-ver-status", "confirmed"),
            "category": [
                _cc(_TERMINOLOGY + "condition-category", "encounter-diagnosis" if c.encounter else "problem-list-item")
            ],
            "code": {
                "coding": [codes.coding(codes.SNOMED, d.snomed, d.display), codes.coding(codes.ICD10CM, d.icd10)],
                "text": d.display,
            },
            "subject": subject,
            "onsetDateTime": ts(c.onset),
            "recordedDate": ts(c.onset),
        }
        if c.encounter:
            cond["encounter"] = _ref(c.encounter)
        if c.abatement:
            cond["abatementDateTime"] = ts(c.abatement)
        out.append(cond)

    for a in course.allergies:
        out.append(
            {
                "resourceType": "AllergyIntolerance",
                "id": a.id,
                "meta": _META,
                "clinicalStatus": _cc(_TERMINOLOGY + "allergyintolerance-clinical", "active"),
                "verificationStatus": _cc(_TERMINOLOGY + "allergyintolerance-verification", "confirmed"),
                "type": "allergy",
                "category": [a.category],
                "criticality": a.criticality,
                "code": codes.concept(codes.SNOMED, a.code, a.display),
                "patient": subject,
                "recordedDate": ts(a.recorded),
            }
        )

    for v in course.visits:
        cls = {"AMB": "ambulatory", "EMER": "emergency"}[v.cls]
        enc: Resource = {
            "resourceType": "Encounter",
            "id": v.id,
            "meta": _META,
            "status": "finished",
            "class": codes.coding(codes.ACT_CODE, v.cls, cls),
            "subject": subject,
            "period": {"start": ts(v.start), "end": ts(v.end)},
            "reasonCode": [codes.concept(codes.SNOMED, v.reason_code, v.reason_display)],
            "serviceProvider": {"reference": f"Organization/{ORG_ID}"},
        }
        doctors = hospital.doctors(v.specialty)
        if doctors:
            enc["participant"] = [{"individual": {"reference": f"Practitioner/{doctors[p.index % len(doctors)].id}"}}]
        out.append(enc)
        out.extend(_triage_obs(v, subject))

    for stay in course.stays:
        out.extend(_stay_resources(course, stay, hospital, readmissions.get(stay.id, False)))

    for m in course.meds:
        drug = DRUGS[m.key]
        prescribers = hospital.doctors(m.prescriber_specialty) or hospital.doctors("acute medicine")
        status = "active" if m.end is None else ("stopped" if course.death and m.end == course.death else "completed")
        mr: Resource = {
            "resourceType": "MedicationRequest",
            "id": m.id,
            "meta": _META,
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": codes.concept(codes.RXNORM, drug.rxcui, drug.display),
            "subject": subject,
            "authoredOn": ts(m.start),
            "requester": {"reference": f"Practitioner/{prescribers[p.index % len(prescribers)].id}"},
            "dosageInstruction": [
                {
                    "text": f"{drug.dose_mg:g} mg {_per_day(drug.per_day)}",
                    "timing": {"repeat": {"frequency": drug.per_day, "period": 1, "periodUnit": "d"}},
                    "doseAndRate": [
                        {"doseQuantity": {"value": drug.dose_mg, "unit": "mg", "system": codes.UCUM, "code": "mg"}}
                    ],
                }
            ],
            "dispenseRequest": {"validityPeriod": {"start": ts(m.start), **({"end": ts(m.end)} if m.end else {})}},
        }
        if m.encounter:
            mr["encounter"] = _ref(m.encounter)
        if m.reason:
            mr["reasonReference"] = [_ref(m.reason)]
        out.append(mr)
    return out


def _per_day(n: int) -> str:
    return {1: "once daily", 2: "twice daily", 3: "three times daily", 4: "four times daily"}.get(n, f"{n} times daily")


_DISPOSITION = {"home": "Home", "exp": "Expired", "snf": "Skilled nursing facility"}


def _stay_resources(course: Course, stay: Stay, hospital: Hospital, readmission: bool) -> list[Resource]:
    subject = _ref(course.person.id)
    out: list[Resource] = []
    reason = CONDITIONS[stay.reason]
    if stay.ed is not None:
        ed = stay.ed
        out.append(
            {
                "resourceType": "Encounter",
                "id": ed.id,
                "meta": _META,
                "status": "finished",
                "class": codes.coding(codes.ACT_CODE, "EMER", "emergency"),
                "subject": subject,
                "period": {"start": ts(ed.start), "end": ts(ed.end)},
                "reasonCode": [codes.concept(codes.SNOMED, ed.reason_code, ed.reason_display)],
                "hospitalization": {
                    "dischargeDisposition": _cc(_TERMINOLOGY + "discharge-disposition", "hosp", "Hospital admission")
                },
                "serviceProvider": {"reference": f"Organization/{ORG_ID}"},
            }
        )
        out.extend(_triage_obs(ed, subject))
    first_ward = stay.wards[0].ward if stay.wards else "AMU"
    doctors = hospital.doctors(hospital.ward(first_ward).specialty)
    hosp: dict[str, Any] = {
        "admitSource": _cc(
            _TERMINOLOGY + "admit-source",
            "outp" if stay.elective else "emd",
            "From outpatient department" if stay.elective else "From accident/emergency department",
        ),
    }
    period = {"start": ts(stay.admit)}
    if stay.discharge is not None:
        period["end"] = ts(stay.discharge)
        hosp["dischargeDisposition"] = _cc(
            _TERMINOLOGY + "discharge-disposition", stay.disposition, _DISPOSITION[stay.disposition]
        )
    if readmission:
        hosp["reAdmission"] = _cc(_TERMINOLOGY + "v2-0092", "R", "Re-admission")
    enc: Resource = {
        "resourceType": "Encounter",
        "id": stay.id,
        "meta": _META,
        "status": "finished" if stay.discharge is not None else "in-progress",
        "class": codes.coding(codes.ACT_CODE, "IMP", "inpatient encounter"),
        "subject": subject,
        "period": period,
        "reasonCode": [codes.concept(codes.SNOMED, reason.snomed, reason.display)],
        "reasonReference": [_ref(stay.reason_entry)],
        "hospitalization": hosp,
        "location": [loc for ws in stay.wards for loc in _locations(ws, hospital)],
        "serviceProvider": {"reference": f"Organization/{ORG_ID}"},
    }
    if doctors:
        enc["participant"] = [{"individual": {"reference": f"Practitioner/{doctors[0].id}"}}]
    out.append(enc)
    encounter = _ref(stay.id)
    ids = iter(_obs_ids(stay.id, len(stay.vitals) * 8 + len(stay.labs)))
    for v in stay.vitals:
        out.extend(_vital_obs(v, subject, encounter, ids))
    for lab in stay.labs:
        d = codes.LAB_BY_NAME[lab.name]
        out.append(
            _obs(
                next(ids),
                "laboratory",
                codes.concept(codes.LOINC, d.loinc, d.display),
                subject,
                encounter,
                lab.time,
                {"valueQuantity": _qty(lab.value, d.unit)},
            )
        )
    if stay.surgery is not None:
        s = stay.surgery
        surgeons = [d for d in hospital.doctors(s.specialty) if d.grade == "consultant"]
        out.append(
            {
                "resourceType": "Procedure",
                "id": s.id,
                "meta": _META,
                "status": "completed",
                "code": codes.concept(codes.SNOMED, s.code, s.display),
                "subject": subject,
                "encounter": encounter,
                "performedPeriod": {"start": ts(s.start), "end": ts(s.end)},
                "performer": [{"actor": {"reference": f"Practitioner/{surgeons[0].id}"}}] if surgeons else [],
                "location": {"reference": f"Location/theatre-{theatre_for(s.specialty).lower()}"},
                "reasonReference": [_ref(stay.reason_entry)],
            }
        )
        if not surgeons:
            del out[-1]["performer"]
    return out


def _triage_obs(visit: Visit, subject: dict[str, str]) -> list[Resource]:
    """The ED visit's triage vital signs (hygeia.synth.ed), linked to the ED Encounter."""
    if visit.triage is None:
        return []
    return _vital_obs(visit.triage, subject, _ref(visit.id), iter(_obs_ids(visit.id, 8)))


def theatre_for(specialty: str) -> str:
    return "T1" if specialty == "trauma and orthopaedics" else "T2"


def _obs_ids(stay_id: str, n: int) -> list[str]:
    base = uuid.UUID(stay_id)
    return [str(uuid.uuid5(base, str(i))) for i in range(n)]


def _locations(ws: WardStay, hospital: Hospital) -> list[dict[str, Any]]:
    ward = hospital.ward(ws.ward)
    period = {"start": ts(ws.start)}
    if ws.end is not None:
        period["end"] = ts(ws.end)
    status = "completed" if ws.end is not None else "active"
    out = [
        {
            "location": {"reference": f"Location/{ward.location_id}", "display": ward.name},
            "status": status,
            "period": period,
        }
    ]
    if ws.bed is not None:
        out.append(
            {
                "location": {"reference": f"Location/{ws.bed.id}", "display": ws.bed.hl7.replace("^", " ")},
                "status": status,
                "period": dict(period),
            }
        )
    return out


def _qty(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": codes.UCUM, "code": unit}


def _obs(
    oid: str,
    category: str,
    code: dict[str, Any],
    subject: dict[str, str],
    encounter: dict[str, str],
    when: datetime,
    value: dict[str, Any],
) -> Resource:
    return {
        "resourceType": "Observation",
        "id": oid,
        "meta": _META,
        "status": "final",
        "category": [_cc(codes.OBSERVATION_CATEGORY, category)],
        "code": code,
        "subject": subject,
        "encounter": encounter,
        "effectiveDateTime": ts(when),
        **value,
    }


def _vital_obs(v: VitalRound, subject: dict[str, str], encounter: dict[str, str], ids: Any) -> list[Resource]:
    def vital(name: str, value: float, unit: str | None = None) -> Resource:
        sign = codes.VITAL_BY_NAME[name]
        codings = [codes.coding(codes.LOINC, sign.codes[0], sign.display)]
        if name == "spo2":  # US Core pulse oximetry carries both codes
            codings.append(codes.coding(codes.LOINC, "2708-6", "Oxygen saturation in Arterial blood"))
        code = {"coding": codings, "text": sign.display}
        return _obs(
            next(ids),
            "vital-signs",
            code,
            subject,
            encounter,
            v.time,
            {"valueQuantity": _qty(value, unit or sign.unit)},
        )

    o2 = codes.concept(codes.LOINC, codes.O2_FLOW, "Inhaled oxygen flow rate")
    acvpu = codes.concept(codes.SNOMED, codes.ACVPU_CODE, "ACVPU (Alert Confusion Voice Pain Unresponsive) scale score")
    return [
        vital("heart_rate", v.hr),
        vital("respiratory_rate", v.rr),
        vital("spo2", v.spo2),
        vital("temperature", v.temp),
        vital("systolic_bp", v.sbp),
        vital("diastolic_bp", v.dbp),
        _obs(next(ids), "vital-signs", o2, subject, encounter, v.time, {"valueQuantity": _qty(v.o2_flow, "L/min")}),
        _obs(
            next(ids),
            "vital-signs",
            acvpu,
            subject,
            encounter,
            v.time,
            {
                "valueCodeableConcept": {
                    "coding": [codes.coding(codes.HYGEIA_LOCAL, f"acvpu-{v.acvpu}", ACVPU_DISPLAY[v.acvpu])],
                    "text": v.acvpu,
                }
            },
        ),
    ]
