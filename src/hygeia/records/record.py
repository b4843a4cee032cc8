"""PatientRecord: a read-only view of one patient's resources with typed accessors.

Accessors return tidy pandas tables (one row per fact, canonical units) so that every
capability reads a patient the same way, whether it came from Synthea, MIMIC, HL7 or a device.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property
from types import SimpleNamespace
from typing import Any, Protocol

import pandas as pd

from hygeia.records import codes
from hygeia.records.fhirpath import observation_rows, parse_fhir_datetime, patient_of
from hygeia.records.store import OBSERVATION_COLUMNS, NotFound, Store, observation_frame_finish

VITAL_COLUMNS = ["time", "name", "value", "value_str", "unit", "code", "resource_id"]
LAB_COLUMNS = ["time", "name", "code", "display", "value", "value_str", "unit", "resource_id"]
_VITAL_CODES = tuple(codes.VITAL_BY_CODE)
_VITAL_NAME = {code: v.name for code, v in codes.VITAL_BY_CODE.items()}
_VITAL_UNIT = {code: v.unit for code, v in codes.VITAL_BY_CODE.items()}
_VITAL_SYSTEMS = ("", codes.LOINC, codes.SNOMED)
_LAB_NAME = {lab.loinc: lab.name for lab in codes.LABS}
_LAB_DISPLAY = {lab.loinc: lab.display for lab in codes.LABS}


@dataclass(frozen=True)
class Demographics:
    id: str
    name: str
    gender: str | None
    birth_date: date | None
    deceased: datetime | bool | None
    race: str | None
    ethnicity: str | None
    identifiers: tuple[str, ...]

    def age(self, at: date | None = None) -> int | None:
        if self.birth_date is None:
            return None
        at = at or datetime.now(UTC).date()
        years = at.year - self.birth_date.year
        return years - ((at.month, at.day) < (self.birth_date.month, self.birth_date.day))


def _text(cc: Any) -> tuple[str | None, str | None, str | None]:
    """(system, code, display) of the first coding of a CodeableConcept."""
    if not isinstance(cc, dict):
        return None, None, None
    for c in cc.get("coding") or []:
        return c.get("system"), c.get("code"), c.get("display") or cc.get("text")
    return None, None, cc.get("text")


def _time(value: Any) -> datetime | None:
    return parse_fhir_datetime(value) if isinstance(value, str) else None


def _status(cc: Any) -> str | None:
    return _text(cc)[1]


def _ext_text(patient: dict[str, Any], url: str) -> str | None:
    for ext in patient.get("extension") or []:
        if ext.get("url") == url:
            for sub in ext.get("extension") or []:
                if sub.get("url") == "text":
                    return str(sub.get("valueString"))
            for sub in ext.get("extension") or []:
                if sub.get("url") == "ombCategory":
                    return str(sub.get("valueCoding", {}).get("display"))
    return None


class RecordSource(Protocol):
    """Where a PatientRecord reads from: the Store, or resources held in memory."""

    def patient_resources(self, patient_id: str, types: Sequence[str] | None = None) -> Iterator[dict[str, Any]]: ...

    def observations(self, patient_id: str, codes: Sequence[str] | None = None, *, latest: bool = False
                     ) -> list[Any]: ...

    def observation_frame(
        self, patient_id: str, codes: Sequence[str] | None = None, *, latest: bool = False
    ) -> pd.DataFrame: ...

    def read_many(self, resource_type: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]: ...


class MemorySource:
    """Resources in memory (e.g. a converted bundle) behind the same interface as the Store."""

    def __init__(self, resources: Iterable[dict[str, Any]]) -> None:
        self._resources = list(resources)
        rows = [r for res in self._resources if res.get("resourceType") == "Observation"
                for r in observation_rows(res)]
        far_past = datetime.min.replace(tzinfo=UTC)
        rows.sort(key=lambda r: r["effective"] or far_past)
        self._rows = [SimpleNamespace(**r) for r in rows]

    def patient_resources(self, patient_id: str, types: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        for res in self._resources:
            if patient_of(res) == patient_id and (not types or res.get("resourceType") in types):
                yield res

    def observations(self, patient_id: str, codes: Sequence[str] | None = None, *, latest: bool = False
                     ) -> list[Any]:
        wanted = set(codes) if codes is not None else None
        rows = [r for r in self._rows if r.patient_id == patient_id and (wanted is None or r.code in wanted)]
        if latest:
            newest: dict[str, Any] = {}
            for r in rows:
                if r.effective is not None and (r.code not in newest or r.effective > newest[r.code]):
                    newest[r.code] = r.effective
            rows = [r for r in rows if r.effective is not None and r.effective == newest.get(r.code)]
        return rows

    def read_many(self, resource_type: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = set(ids)
        return {r["id"]: r for r in self._resources if r.get("resourceType") == resource_type and r.get("id") in wanted}

    def observation_frame(
        self, patient_id: str, codes: Sequence[str] | None = None, *, latest: bool = False
    ) -> pd.DataFrame:
        rows = [vars(r) for r in self.observations(patient_id, codes, latest=latest)]
        frame = pd.DataFrame(rows, columns=OBSERVATION_COLUMNS) if rows else pd.DataFrame(columns=OBSERVATION_COLUMNS)
        frame["effective"] = [r["effective"].isoformat() if r["effective"] else None for r in rows]
        return observation_frame_finish(frame)


class PatientRecord:
    """One patient's record. Build with :meth:`load` (store) or :meth:`from_resources`; nothing here writes."""

    def __init__(self, store: RecordSource, patient: dict[str, Any]) -> None:
        self._store = store
        self.patient = patient
        self.id: str = patient["id"]

    @classmethod
    def load(cls, store: Store, patient_id: str) -> PatientRecord:
        """The record of ``patient_id``; raises NotFound when there is no such patient."""
        return cls(store, store.read("Patient", patient_id))

    @classmethod
    def from_resources(
        cls, resources: Iterable[dict[str, Any]] | dict[str, Any], patient_id: str | None = None
    ) -> PatientRecord:
        """A record over resources in memory (a bundle's resources), e.g. to build training sets
        with exactly the code that scores a live patient. ``patient_id`` picks one when there are several."""
        items = [resources] if isinstance(resources, dict) else list(resources)
        if items and items[0].get("resourceType") == "Bundle":
            items = [e["resource"] for e in items[0].get("entry") or []]
        patients = [r for r in items if r.get("resourceType") == "Patient"
                    and (patient_id is None or r.get("id") == patient_id)]
        if not patients:
            raise NotFound(f"no Patient {patient_id or ''} among the resources".replace("  ", " "))
        return cls(MemorySource(items), patients[0])

    @cached_property
    def _by_type(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = {}
        wanted = ("Encounter", "Condition", "MedicationRequest", "MedicationStatement", "AllergyIntolerance",
                  "Procedure", "DiagnosticReport", "ImagingStudy", "RiskAssessment", "DetectedIssue", "Consent")
        for res in self._store.patient_resources(self.id, wanted):
            grouped.setdefault(res["resourceType"], []).append(res)
        return grouped

    def resources(self, resource_type: str) -> list[dict[str, Any]]:
        """The patient's current resources of one type (Observations: use vitals()/labs())."""
        if resource_type == "Observation":
            return list(self._store.patient_resources(self.id, ["Observation"]))
        if resource_type not in self._by_type:
            return list(self._store.patient_resources(self.id, [resource_type]))
        return self._by_type.get(resource_type, [])

    # -- accessors ---------------------------------------------------------------------------------
    def demographics(self) -> Demographics:
        p = self.patient
        names = p.get("name") or []
        display = ""
        if names:
            n = names[0]
            display = n.get("text") or " ".join([*(n.get("given") or []), n.get("family") or ""]).strip()
        birth = p.get("birthDate")
        deceased: datetime | bool | None = p.get("deceasedBoolean")
        if isinstance(p.get("deceasedDateTime"), str):
            deceased = parse_fhir_datetime(p["deceasedDateTime"])
        return Demographics(
            id=self.id, name=display, gender=p.get("gender"),
            birth_date=date.fromisoformat(birth[:10]) if isinstance(birth, str) and len(birth) >= 10 else None,
            deceased=deceased, race=_ext_text(p, codes.US_CORE_RACE), ethnicity=_ext_text(p, codes.US_CORE_ETHNICITY),
            identifiers=tuple(str(i.get("value")) for i in p.get("identifier") or [] if i.get("value")),
        )

    def encounters(self) -> pd.DataFrame:
        rows = []
        for e in self.resources("Encounter"):
            period = e.get("period") or {}
            cls = e.get("class") or {}
            hosp = e.get("hospitalization") or {}
            locations = [
                {"location": (loc.get("location") or {}).get("display") or (loc.get("location") or {}).get("reference"),
                 "start": _time((loc.get("period") or {}).get("start")),
                 "end": _time((loc.get("period") or {}).get("end"))}
                for loc in e.get("location") or []
            ]
            rows.append({
                "id": e["id"], "class": cls.get("code"), "type": _text((e.get("type") or [None])[0])[2],
                "status": e.get("status"), "start": _time(period.get("start")), "end": _time(period.get("end")),
                "discharge_disposition": _text(hosp.get("dischargeDisposition"))[1],
                "locations": locations,
            })
        df = pd.DataFrame(rows, columns=["id", "class", "type", "status", "start", "end",
                                         "discharge_disposition", "locations"])
        return df.sort_values("start", kind="stable").reset_index(drop=True)

    def vitals(self) -> pd.DataFrame:
        """Vital signs, one row per value, in canonical units (codes.VITALS), ordered by time.

        ``consciousness`` carries the ACVPU letter in ``value_str``; ``supplemental_oxygen``
        carries FiO2 (%) or flow (L/min) in ``value`` with the unit saying which.
        """
        return _vitals_table(self._store.observation_frame(self.id, _VITAL_CODES))

    def latest_vitals(self) -> pd.DataFrame:
        """The most recent value of each vital sign (same columns as :meth:`vitals`), cheaply:
        only the newest index rows are read — what scoring the current state needs."""
        table = _vitals_table(self._store.observation_frame(self.id, _VITAL_CODES, latest=True))
        return table.groupby("name", sort=False).tail(1).reset_index(drop=True)

    def latest_vital_readings(self) -> list[dict[str, Any]]:
        """:meth:`latest_vitals` as plain dicts (same keys as its columns), without pandas: for
        per-request paths such as CDS Hooks, where building DataFrames costs more than the query."""
        out: dict[str, dict[str, Any]] = {}
        for r in self._store.observations(self.id, _VITAL_CODES, latest=True):  # by time: newest wins below
            if r.system not in _VITAL_SYSTEMS or r.effective is None:
                continue
            name, canonical = _VITAL_NAME[r.code], _VITAL_UNIT[r.code]
            value, unit = (float(r.value_num) if r.value_num is not None else float("nan")), r.unit
            if canonical and name != "supplemental_oxygen" and value == value:
                value, unit = codes.to_canonical(value, unit, canonical), canonical
            out[name] = {"time": _aware(r.effective), "name": name, "value": value, "value_str": r.value_str,
                         "unit": unit, "code": r.code, "resource_id": r.resource_id}
        return list(out.values())

    def observations_by_id(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Observation resources by id (e.g. the ones a row of :meth:`genotypes` points at)."""
        return self._store.read_many("Observation", ids)
    def labs(self) -> pd.DataFrame:
        """Laboratory results (category laboratory, or a known lab LOINC code), by time."""
        obs = self._store.observation_frame(self.id)
        known = (obs["system"] == codes.LOINC) & obs["code"].isin(_LAB_NAME.keys())
        keep = ~obs["code"].isin(_VITAL_CODES) & (known | (obs["category"] == "laboratory"))
        obs = obs[keep]
        known = known[keep]
        out = obs.rename(columns={"effective": "time", "value_num": "value"})
        out = out.assign(name=out["code"].where(~known, out["code"].map(_LAB_NAME)),
                         display=out["code"].map(_LAB_DISPLAY).where(known, None))
        return out[LAB_COLUMNS].reset_index(drop=True)

    def conditions(self) -> pd.DataFrame:
        rows = []
        for c in self.resources("Condition"):
            system, code, display = _text(c.get("code"))
            rows.append({"id": c["id"], "system": system, "code": code, "display": display,
                         "clinical_status": _status(c.get("clinicalStatus")),
                         "onset": _time(c.get("onsetDateTime") or c.get("recordedDate")),
                         "abatement": _time(c.get("abatementDateTime"))})
        return pd.DataFrame(rows, columns=["id", "system", "code", "display", "clinical_status", "onset", "abatement"])

    def medications(self) -> pd.DataFrame:
        rows = []
        for m in self.resources("MedicationRequest"):
            system, code, display = _text(m.get("medicationCodeableConcept"))
            dosage = m.get("dosageInstruction") or [{}]
            rows.append({"id": m["id"], "system": system, "code": code, "display": display,
                         "status": m.get("status"), "intent": m.get("intent"),
                         "authored": _time(m.get("authoredOn")), "dosage": dosage[0].get("text")})
        return pd.DataFrame(rows, columns=["id", "system", "code", "display", "status", "intent", "authored", "dosage"])

    def allergies(self) -> pd.DataFrame:
        rows = []
        for a in self.resources("AllergyIntolerance"):
            system, code, display = _text(a.get("code"))
            rows.append({"id": a["id"], "system": system, "code": code, "display": display,
                         "criticality": a.get("criticality"), "clinical_status": _status(a.get("clinicalStatus"))})
        return pd.DataFrame(rows, columns=["id", "system", "code", "display", "criticality", "clinical_status"])

    def genotypes(self) -> pd.DataFrame:
        """Pharmacogenomic genotype/phenotype Observations (HL7 Genomics Reporting IG)."""
        columns = ["time", "kind", "value", "resource_id", "gene"]
        return pd.DataFrame([[r[c] for c in columns] for r in self.genotype_rows()], columns=columns)

    def genotype_rows(self) -> list[dict[str, Any]]:
        """:meth:`genotypes` as plain dicts (by time), each with its Observation under ``resource``
        (None when it is gone): no pandas, one read of the resources."""
        rows = self._store.observations(self.id, (codes.GENOTYPE_LOINC, codes.PHENOTYPE_LOINC))
        found = self.observations_by_id({r.resource_id for r in rows}) if rows else {}
        out = []
        for r in rows:
            res = found.get(r.resource_id)
            out.append({"time": _aware(r.effective), "kind": "genotype" if r.code == codes.GENOTYPE_LOINC
                        else "phenotype", "value": r.value_str, "resource_id": r.resource_id,
                        "gene": _gene_of(res) if res is not None else None, "resource": res})
        return out



def _vitals_table(obs: pd.DataFrame) -> pd.DataFrame:
    """Index rows of vital-sign codes → the vitals table (names, canonical units)."""
    obs = obs[obs["system"].isin(_VITAL_SYSTEMS)]
    names = obs["code"].map(_VITAL_NAME)
    value = obs["value_num"].to_numpy(dtype=float, copy=True)
    unit = obs["unit"].astype(object).to_numpy(copy=True)
    canonical = obs["code"].map(_VITAL_UNIT).to_numpy()
    convert = (canonical != "") & (names.to_numpy() != "supplemental_oxygen")
    for source_unit in set(unit[convert & (unit != canonical)]) - {None}:
        for target in set(canonical[convert & (unit == source_unit)]):
            mask = convert & (unit == source_unit) & (canonical == target)
            value[mask] = [codes.to_canonical(v, source_unit, target) for v in value[mask]]
    unit[convert & ~pd.isna(value)] = canonical[convert & ~pd.isna(value)]
    out = obs[["effective", "value_str", "code", "resource_id"]].rename(columns={"effective": "time"})
    out = out.assign(name=names, value=value, unit=unit)
    return out[VITAL_COLUMNS].reset_index(drop=True)


def _gene_of(observation: dict[str, Any]) -> str | None:
    for comp in observation.get("component") or []:
        code = _text(comp.get("code"))[1]
        if code == codes.GENE_STUDIED_LOINC:
            _, gene_code, gene_display = _text(comp.get("valueCodeableConcept"))
            return gene_display or gene_code
    return None


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


__all__ = ["Demographics", "NotFound", "PatientRecord"]
