"""HL7 v2.5.1 ADT messages (A01 admit, A02 transfer, A03 discharge) for synthetic inpatient stays.

Segments MSH, EVN, PID, PV1 separated by carriage returns; MSH-11 processing ID ``T`` (training),
because none of this is real. Times are UTC without an offset (``YYYYMMDDHHMMSS``). PV1-3 is
``ward^bay^bed``; PV1-19 (visit number) is the FHIR Encounter id; PID-3 carries the FHIR Patient
id and the synthetic MRN. Pure: returns (file name, message) pairs.
"""

from __future__ import annotations

from datetime import datetime

from hygeia.synth.course import Course, Stay
from hygeia.synth.hospital import Hospital
from hygeia.synth.vocab import RACES

_SERVICE = {"RESP": "PUL", "CARD": "CAR", "SURG": "SUR", "ORTH": "SUR"}
_DISPOSITION = {"home": "01", "snf": "03", "exp": "20"}


def _hl7ts(dt: datetime) -> str:
    return dt.strftime("%Y%m%d%H%M%S")


def stay_messages(course: Course, stay: Stay, hospital: Hospital, seed: int, number: int) -> list[tuple[str, str]]:
    """The ADT messages of one stay as (file name, message text); names sort in time order."""
    p = course.person
    race = next(r for r in RACES if r[0] == p.race)
    eth = ("2135-2", "Hispanic or Latino") if p.hispanic else ("2186-5", "Not Hispanic or Latino")
    first = hospital.ward(stay.wards[0].ward) if stay.wards else hospital.ward("AMU")
    doctors = hospital.doctors(first.specialty)
    attending = f"{doctors[0].id}^{doctors[0].family}^{doctors[0].given}" if doctors else ""
    out: list[tuple[str, str]] = []

    def message(event: str, when: datetime, index: int, bed: str, prior: str, ward: str, final: bool) -> None:
        control = f"S{seed}P{p.index + 1:05d}V{number:02d}M{index:02d}"
        structure = {"A01": "ADT_A01", "A02": "ADT_A02", "A03": "ADT_A03"}[event]
        died = final and stay.died
        pid = (
            [
                "PID",
                "1",
                "",
                f"{p.id}^^^HYGEIA-SYNTH^MR~{p.mrn}^^^hygeia-synthetic^MR",
                "",
                f"{p.family}^{p.given}",
                "",
                p.birth_date.strftime("%Y%m%d"),
                "F" if p.sex == "female" else "M",
                "",
                f"{race[1]}^{race[2]}^CDCREC",
            ]
            + [""] * 11
            + [f"{eth[0]}^{eth[1]}^CDCREC"]
            + [""] * 6
        )
        pid += [_hl7ts(when) if died else "", "Y" if died else "N"]
        pv1 = [""] * 46
        pv1[0], pv1[1], pv1[2] = "PV1", "1", "I"
        pv1[3] = bed
        pv1[4] = "C" if stay.elective else "E"
        pv1[6] = prior
        pv1[7] = attending
        pv1[10] = _SERVICE.get(ward, "MED")
        pv1[14] = "1" if stay.elective else "7"
        pv1[19] = stay.id
        pv1[44] = _hl7ts(stay.admit)
        if event == "A03" and stay.discharge is not None:
            pv1[36] = _DISPOSITION.get(stay.disposition, "01")
            pv1[45] = _hl7ts(stay.discharge)
        segments = [
            f"MSH|^~\\&|HYGEIA-SYNTH|HYGEIA-SYNTH-HOSP|HYGEIA|HYGEIA|{_hl7ts(when)}||ADT^{event}^{structure}|"
            f"{control}|T|2.5.1",
            f"EVN|{event}|{_hl7ts(when)}",
            "|".join(pid),
            "|".join(pv1).rstrip("|"),
        ]
        out.append((f"{_hl7ts(when)}_{control}_{event}.hl7", "\r".join(segments) + "\r"))

    prior = ""
    for i, ws in enumerate(stay.wards):
        bed = ws.bed.hl7 if ws.bed is not None else f"{ws.ward}^^"
        message("A01" if i == 0 else "A02", ws.start, i + 1, bed, prior, ws.ward, False)
        prior = bed
    if stay.discharge is not None and stay.wards:
        message("A03", stay.discharge, len(stay.wards) + 1, prior, "", stay.wards[-1].ward, True)
    return out
