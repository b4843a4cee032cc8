"""De-identification at scale: clinical notes (JSON Lines) and a bulk FHIR export of the store.

Notes: ``{"id", "text"[, "patient"]}`` a line, partitioned in chunks of notes, each de-identified by
``hygeia.governance.deid`` (HIPAA Safe Harbor identifier classes, 45 CFR 164.514(b)(2)); output rows
``{id, text, spans}`` as ``hygeia deid text`` writes them. Export: every current resource of each
patient of the store, partitioned by patient, through the FHIR de-identification profile
(``hygeia.governance.deid.fhir``: keyed pseudonyms, shifted dates, Safe Harbor addresses and ages);
rows ``{resource_type, id, resource}`` (the de-identified resource as JSON). The secret key travels to
the workers inside the tasks: use TLS between Dask client, scheduler and workers on a real cluster.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import orjson

from hygeia.engine.core import Job, Partition, Row, chunks, fingerprint
from hygeia.engine.jobs.store import open_store, patient_partitions
from hygeia.governance.deid import DeidConfig, deidentify, find_phi
from hygeia.records.store import Store

JOB_VERSION = "deid-text/1"
EXPORT_VERSION = "deid-export/1"
Note = tuple[str, str, str | None]


class NotesError(ValueError):
    """A malformed notes file; the message names the file and line."""


def _text_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("id", pa.string()), ("text", pa.string()), ("spans", pa.string())])


def read_notes(path: Path | str) -> list[Note]:
    """(id, text, patient) per non-empty line; raises NotesError naming ``file:line`` for a bad one."""
    path = Path(path)
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise NotesError(f"{path}: cannot read ({exc.strerror or exc})") from None
    notes: list[Note] = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise NotesError(f"{path}:{n}: not valid JSON ({exc}); each line must be one JSON object") from None
        if not isinstance(obj, dict) or "id" not in obj:
            raise NotesError(f"{path}:{n}: expected a JSON object with fields 'id' and 'text'")
        if not isinstance(obj.get("text"), str):
            raise NotesError(f"{path}:{n}: field 'text' is missing or not a string")
        patient = obj.get("patient")
        notes.append((str(obj["id"]), obj["text"], None if patient is None else str(patient)))
    return notes


def deid_text_partition(payload: tuple[list[Note], bytes | None, bool]) -> list[Row]:
    notes, key, general = payload
    config = DeidConfig(countries=general, drug_context=not general)
    rows: list[Row] = []
    for ident, text, patient in notes:
        spans = find_phi(text, config=config)
        result = deidentify(text, mode="surrogate" if key else "tag", key=key, patient_key=patient, spans=spans)
        rows.append(
            {
                "id": ident,
                "text": result.text,
                "spans": orjson.dumps([{"start": s.start, "end": s.end, "label": s.label} for s in spans]).decode(),
            }
        )
    return rows


def _key_id(key: bytes | None) -> str | None:
    return hashlib.sha256(b"hygeia-engine-key\x00" + key).hexdigest() if key else None


def plan_deid_text(
    notes: list[Note], *, key: bytes | None = None, general: bool = False, partition_size: int = 500
) -> Job:
    """Tag mode without ``key``; keyed surrogates with it (dates shifted per ``patient``)."""
    params = (JOB_VERSION, _key_id(key), general)
    parts = tuple(
        Partition(f"{k:05d}", (group, key, general), len(group), fingerprint(params, group))
        for k, group in enumerate(chunks(notes, partition_size))
    )
    return Job("deid-text", deid_text_partition, parts, _text_schema())


def _export_schema() -> Any:
    import pyarrow as pa

    return pa.schema([("resource_type", pa.string()), ("id", pa.string()), ("resource", pa.string())])


def export_partition(payload: tuple[str, list[str], tuple[bytes, str]]) -> list[Row]:
    from hygeia.governance.deid.fhir import FhirDeidConfig, deidentify_resource

    url, ids, (key, as_of) = payload
    store = open_store(url)
    config = FhirDeidConfig(key=key, as_of=date.fromisoformat(as_of))
    rows: list[Row] = []
    for pid in ids:
        for resource in store.patient_resources(pid):
            out = deidentify_resource(resource, config, patient=pid)
            rows.append(
                {"resource_type": out["resourceType"], "id": out.get("id"), "resource": orjson.dumps(out).decode()}
            )
    return rows


def plan_export(
    store: Store,
    key: bytes,
    *,
    as_of: date | None = None,
    partition_size: int = 200,
    patient_ids: list[str] | None = None,
) -> Job:
    """De-identified bulk export of the patients' resources (``as_of``: the date ages are computed at)."""
    day = (as_of or date.today()).isoformat()
    params = (EXPORT_VERSION, _key_id(key), day)
    return Job(
        "deid-export",
        export_partition,
        patient_partitions(store, partition_size, params, patient_ids, (key, day)),
        _export_schema(),
    )


__all__ = ["NotesError", "deid_text_partition", "export_partition", "plan_deid_text", "plan_export", "read_notes"]
