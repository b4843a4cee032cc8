"""Ingestion: FHIR bundles, NDJSON (plain or gzip), HL7 v2 ADT, directories — all-or-nothing per unit.

A *unit* is one bundle file, one NDJSON file, or one HL7 file. A bad resource rejects its unit
with an error naming the file, entry index (or line), element path and reason; nothing of that
unit is written. Re-ingesting the same data creates no duplicates and no new versions.
"""

from __future__ import annotations

import gzip
import hashlib
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection

from hygeia.records.fhirpath import patient_of
from hygeia.records.store import NotFound, Store
from hygeia.records.validate import ID_PATTERN, InvalidResource, validate_resource

_NS = uuid.UUID("6f1b3c8e-8d9a-4a57-9a0e-5f6b1b2c9d10")
# Shared resources first, so that patients' references to them resolve (Synthea writes these too).
_FIRST = ("hospital", "practitioner", "organization", "location", "_")
_BATCH = 2000
_ADT_PATIENT_FIELDS = ("name", "gender", "birthDate", "address", "telecom")


class IngestError(Exception):
    """A unit was rejected. ``str()`` reads: ``FILE: entry N: PATH: REASON``."""

    def __init__(self, source: str, where: str, path: str, reason: str) -> None:
        self.source, self.where, self.path, self.reason = source, where, path, reason
        parts = [p for p in (source, where, path) if p]
        super().__init__(": ".join([*parts, reason]))


@dataclass
class IngestReport:
    units: int = 0
    rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    by_type: dict[str, int] = field(default_factory=dict)
    rejects: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scored: int = 0  # patients whose current vital signs were scored (NEWS2) after their unit committed
    alerts: int = 0  # early-warning alerts that scoring raised

    @property
    def resources(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, Any]:
        return {"units": self.units, "rejected": self.rejected, "resources": self.resources,
                "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "seconds": round(self.seconds, 3), "by_type": self.by_type, "rejects": self.rejects,
                "warnings": self.warnings[:100], "scored": self.scored, "alerts": self.alerts}


# -- references ---------------------------------------------------------------------------------

def _walk_references(obj: Any, fn: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(obj, dict):
        ref = obj.get("reference")
        if isinstance(ref, str):
            fn(obj)
        for value in obj.values():
            if isinstance(value, dict | list):
                _walk_references(value, fn)
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict | list):
                _walk_references(item, fn)


def _literal_target(ref: str) -> tuple[str, str] | None:
    """("Patient", "123") for a relative literal reference, else None."""
    if ref.startswith(("#", "urn:", "http://", "https://")) or "?" in ref:
        return None
    parts = ref.split("/")
    if len(parts) >= 2 and parts[0][:1].isupper() and ID_PATTERN.match(parts[1]):
        return parts[0], parts[1]
    return None


def _identifier_matches(resource: dict[str, Any], query: str) -> bool:
    if not query.startswith("identifier="):
        return False
    system, _, value = query.removeprefix("identifier=").rpartition("|")
    for ident in resource.get("identifier") or []:
        if ident.get("value") == value and (not system or ident.get("system") == system):
            return True
    return False


# -- one unit: a list of resources from a bundle, NDJSON file or HL7 file ------------------------

def _entry_id(entry: dict[str, Any], resource: dict[str, Any]) -> str:
    rid = resource.get("id")
    if isinstance(rid, str) and rid:
        return rid
    request = entry.get("request") or {}
    url = request.get("url") if isinstance(request, dict) else None
    if isinstance(url, str) and "/" in url and "?" not in url:
        return url.split("/")[1]
    full = entry.get("fullUrl")
    if isinstance(full, str) and full.startswith("urn:uuid:"):
        return full.removeprefix("urn:uuid:")
    digest = hashlib.sha256(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return str(uuid.uuid5(_NS, digest))


def bundle_resources(bundle: Any, source: str) -> list[dict[str, Any]]:
    """The resources of a Bundle with ids assigned and in-bundle references rewritten.

    ``urn:uuid:`` full URLs and conditional references (``Practitioner?identifier=s|v``) that
    match a resource in the bundle become ``Type/id``.
    """
    if not isinstance(bundle, dict):
        raise IngestError(source, "", "", "expected a JSON object (a FHIR Bundle or resource)")
    rtype = bundle.get("resourceType")
    if rtype != "Bundle":
        if not isinstance(rtype, str):
            raise IngestError(source, "", "resourceType", "missing resourceType")
        return [dict(bundle)]
    if bundle.get("type") not in ("transaction", "collection", "batch", "searchset", "document", "message"):
        raise IngestError(source, "", "Bundle.type", f"unsupported bundle type {bundle.get('type')!r}")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise IngestError(source, "", "Bundle.entry", "must be a list")
    out: list[dict[str, Any]] = []
    full_urls: dict[str, str] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise IngestError(source, f"entry {index}", "Bundle.entry.resource", "entry has no resource")
        request = entry.get("request")
        if isinstance(request, dict) and request.get("method") not in (None, "POST", "PUT"):
            raise IngestError(source, f"entry {index}", "Bundle.entry.request.method",
                              f"method {request.get('method')!r} is not supported in ingestion (POST/PUT only)")
        resource = dict(entry["resource"])
        if not isinstance(resource.get("resourceType"), str):
            raise IngestError(source, f"entry {index}", "resourceType", "missing resourceType")
        resource["id"] = _entry_id(entry, resource)
        full = entry.get("fullUrl")
        if isinstance(full, str):
            full_urls[full] = f"{resource['resourceType']}/{resource['id']}"
        out.append(resource)

    def rewrite(ref: dict[str, Any]) -> None:
        value = ref["reference"]
        if value in full_urls:
            ref["reference"] = full_urls[value]
        elif "?" in value and not value.startswith(("http://", "https://")):
            rtype_, _, query = value.partition("?")
            for cand in out:
                if cand["resourceType"] == rtype_ and _identifier_matches(cand, query):
                    ref["reference"] = f"{rtype_}/{cand['id']}"
                    break

    for resource in out:
        _walk_references(resource, rewrite)
    return out


def _feeds_news2(resource: dict[str, Any]) -> bool:
    from hygeia.ews.monitor import feeds_news2  # imported here: hygeia.ews builds on the record spine

    return feeds_news2(resource)


class _Unit:
    """Validates and writes one unit inside one transaction, in batches, with bounded memory.

    References are checked against the current batch, a bounded cache of targets known to exist,
    and the store (which, inside this transaction, already holds the unit's earlier batches);
    targets not found yet may be forward references and are checked again at the end.
    """

    def __init__(self, store: Store, conn: Connection, source: str) -> None:
        self.store, self.conn, self.source = store, conn, source
        self.pending: list[dict[str, Any]] = []
        self.pending_where: list[str] = []
        self.seen: set[tuple[str, str]] = set()  # keys of the pending batch
        self.known: set[tuple[str, str]] = set()  # bounded cache of targets known to exist
        self.wanted: dict[tuple[str, str], str] = {}  # unresolved target -> where it was referenced
        self.warnings: list[str] = []
        self.created = self.updated = self.unchanged = 0
        self.by_type: dict[str, int] = {}
        self.vitals_of: set[str] = set()  # patients with new or changed NEWS2 vital signs in this unit

    def add(self, resource: dict[str, Any], where: str) -> None:
        if not isinstance(resource.get("id"), str) or not isinstance(resource.get("resourceType"), str):
            try:
                validate_resource(resource)
            except InvalidResource as exc:
                raise IngestError(self.source, where, exc.path, exc.reason) from None
        key = (resource["resourceType"], resource["id"])
        self.seen.add(key)
        rtype = key[0]

        def check(ref: dict[str, Any]) -> None:
            value = ref["reference"]
            if value.startswith("urn:uuid:") or value.startswith("urn:oid:"):
                raise IngestError(self.source, where, f"{rtype}.reference",
                                  f"dangling reference {value!r}: no entry in the bundle has this fullUrl")
            target = _literal_target(value)
            if target is not None and target not in self.seen and target not in self.known:
                self.wanted.setdefault(target, where)
            elif "?" in value and len(self.warnings) < 1000:
                self.warnings.append(f"{self.source}: {where}: conditional reference {value!r} kept unresolved")

        _walk_references(resource, check)
        self.by_type[rtype] = self.by_type.get(rtype, 0) + 1
        self.pending.append(resource)
        self.pending_where.append(where)
        if len(self.pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            # Validate what is new or changed; content already stored was validated when written.
            same = self.store.unchanged(self.pending, self.conn)
            for resource, where in zip(self.pending, self.pending_where, strict=True):
                if (resource["resourceType"], resource["id"]) in same:
                    continue
                try:
                    validate_resource(resource)
                except InvalidResource as exc:
                    raise IngestError(self.source, where, exc.path, exc.reason) from None
                if resource["resourceType"] == "Observation" and _feeds_news2(resource):
                    patient = patient_of(resource)
                    if patient:
                        self.vitals_of.add(patient)
            summary = self.store.write(self.pending, self.conn)
            self.created += summary.created
            self.updated += summary.updated
            self.unchanged += summary.unchanged
            self.pending = []
            self.pending_where = []
            self.seen = set()
        if self.wanted:
            found = self.store.exists(self.wanted, self.conn)
            if len(self.known) + len(found) > 100_000:
                self.known = set()
            self.known |= found
            self.wanted = {k: w for k, w in self.wanted.items() if k not in found}

    def finish(self) -> None:
        self.flush()
        for key, where in self.wanted.items():
            raise IngestError(self.source, where, "reference",
                              f"dangling reference '{key[0]}/{key[1]}': not in this unit nor in the store")


# -- file readers -------------------------------------------------------------------------------

def _open_text(path: Path) -> Any:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open("r", encoding="utf-8")


def _load_json(path: Path) -> Any:
    try:
        with _open_text(path) as fh:
            text = fh.read()
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise IngestError(str(path), "", "", f"invalid JSON ({exc}); is the file truncated?") from None
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise IngestError(str(path), "", "", f"cannot read file: {exc}") from None


def _ndjson_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with _open_text(path) as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    value = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    raise IngestError(str(path), f"line {number}", "", f"invalid JSON ({exc})") from None
                if not isinstance(value, dict):
                    raise IngestError(str(path), f"line {number}", "", "expected one FHIR resource per line")
                yield number, value
    except (UnicodeDecodeError, OSError, EOFError) as exc:
        raise IngestError(str(path), "", "", f"cannot read file: {exc}") from None


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")):
        return "ndjson"
    if name.endswith((".json", ".json.gz")):
        return "json"
    if name.endswith((".hl7", ".adt", ".hl7.txt")):
        return "hl7"
    return ""


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files to ingest under ``paths`` (recursively), shared resources first, then by name."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(f for f in sorted(p.rglob("*")) if f.is_file() and _kind(f))
        elif p.exists():
            files.append(p)
        else:
            raise FileNotFoundError(f"{p}: no such file or directory")

    def priority(f: Path) -> tuple[int, str]:
        low = f.name.lower()
        first = any(low.startswith(prefix) for prefix in _FIRST)
        kind_rank = {"json": 0, "ndjson": 0, "hl7": 1}.get(_kind(f), 2)
        return (kind_rank * 2 + (0 if first else 1), str(f))

    return sorted(files, key=priority)


def _adt_resources(path: Path, store: Store) -> Iterator[tuple[str, dict[str, Any]]]:
    """Patients and Encounters from an HL7 v2 ADT file, each message applied in order."""
    from hygeia.records.hl7v2 import apply_adt, parse_message, split_messages

    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, OSError) as exc:
        raise IngestError(str(path), "", "", f"cannot read file: {exc}") from None
    latest: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    try:
        messages = split_messages(text)
    except ValueError as exc:
        raise IngestError(str(path), "", "", str(exc)) from None
    for number, raw in enumerate(messages, start=1):
        where = f"message {number}"
        try:
            message = parse_message(raw)
            # PID-3 / PV1-19 may carry ids this store already knows (senders fed from FHIR do):
            # then the message updates that Patient and Encounter instead of creating new ones.
            native_pid = message.patient_id if _known(store, latest, "Patient", message.patient_id) else None
            enc_id = message.visit_number if _known(store, latest, "Encounter", message.visit_number) \
                else apply_adt(message, None)[1]["id"]
            current = latest.get(("Encounter", enc_id), ("", None))[1]
            if current is None:
                try:
                    current = store.read("Encounter", enc_id)
                except NotFound:
                    current = None
            patient, encounter = apply_adt(message, current)
            if native_pid is not None:
                patient = {**patient, "id": native_pid}
                encounter["subject"] = {"reference": f"Patient/{native_pid}"}
        except ValueError as exc:
            raise IngestError(str(path), where, "", str(exc)) from None
        known = latest.get(("Patient", patient["id"]), ("", None))[1]
        if known is None:
            try:
                known = store.read("Patient", patient["id"])
            except NotFound:
                known = None
        if known is not None:  # ADT carries a few demographics: merge them, keep the rest
            patient = {**known, **{k: v for k, v in patient.items() if k in _ADT_PATIENT_FIELDS}}
        latest[("Patient", patient["id"])] = (where, patient)
        latest[("Encounter", encounter["id"])] = (where, encounter)
    ordered = sorted(latest.values(), key=lambda item: item[1]["resourceType"] != "Patient")
    yield from ordered


def _known(store: Store, latest: dict[tuple[str, str], Any], rtype: str, rid: str) -> bool:
    if not rid or not ID_PATTERN.match(rid):
        return False
    return (rtype, rid) in latest or bool(store.exists([(rtype, rid)]))


def _resources_of(path: Path, store: Store) -> Iterator[tuple[str, dict[str, Any]]]:
    kind = _kind(path)
    if kind == "json":
        data = _load_json(path)
        for index, resource in enumerate(bundle_resources(data, str(path))):
            yield f"entry {index}", resource
    elif kind == "ndjson":
        for number, resource in _ndjson_lines(path):
            if not isinstance(resource.get("id"), str):
                resource["id"] = _entry_id({}, resource)
            yield f"line {number}", resource
    elif kind == "hl7":
        yield from _adt_resources(path, store)
    else:
        raise IngestError(str(path), "", "", "unknown file type (expected .json, .ndjson[.gz], .hl7)")


def ingest_unit(store: Store, source: str, resources: Iterable[tuple[str, dict[str, Any]]]) -> _Unit:
    """Write one unit's resources (pairs of where, resource) all-or-nothing; raises IngestError."""
    with store.engine.begin() as conn:
        unit = _Unit(store, conn, source)
        for where, resource in resources:
            unit.add(resource, where)
        unit.finish()
    return unit


def ingest_bundle(store: Store, bundle: dict[str, Any], source: str = "bundle", *,
                  score_vitals: bool = True) -> IngestReport:
    """Ingest one in-memory bundle (or resource) all-or-nothing (``score_vitals``: see :func:`ingest_paths`)."""
    return _run_units(store, iter([(source, _entries(bundle, source))]), False, None, score_vitals)


def _add(report: IngestReport, unit: _Unit) -> None:
    report.units += 1
    report.created += unit.created
    report.updated += unit.updated
    report.unchanged += unit.unchanged
    for t, n in unit.by_type.items():
        report.by_type[t] = report.by_type.get(t, 0) + n
    report.warnings.extend(unit.warnings)


def _entries(bundle: Any, source: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for index, resource in enumerate(bundle_resources(bundle, source)):
        yield f"entry {index}", resource


class _Scorer:
    """After a unit commits: score its patients' current vital signs once each (the early-warning
    monitor's record path, :meth:`hygeia.ews.monitor.Monitor.rescore`). The monitor is built on first use."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.monitor: Any = None

    def __call__(self, report: IngestReport, patients: set[str]) -> None:
        if not patients:
            return
        if self.monitor is None:
            from hygeia.ews.monitor import Monitor

            self.monitor = Monitor(self.store)
        outcomes = self.monitor.rescore(sorted(patients))
        report.scored += len(outcomes)
        report.alerts += sum(len(o.alerts) for o in outcomes)


def _run_units(
    store: Store,
    units: Iterator[tuple[str, Iterable[tuple[str, dict[str, Any]]]]],
    continue_on_error: bool,
    progress: Callable[[str], None] | None,
    score_vitals: bool = True,
) -> IngestReport:
    """Ingest (source, resources) units one by one, each all-or-nothing, into one report."""
    report = IngestReport()
    started = time.perf_counter()
    scorer = _Scorer(store) if score_vitals else None
    while True:
        try:
            try:
                source, resources = next(units)
            except StopIteration:
                break
            except ValueError as exc:  # a converter's format error names the file, row and field
                raise IngestError("", "", "", str(exc)) from None
            unit = ingest_unit(store, source, resources)
            _add(report, unit)
            if scorer is not None:
                scorer(report, unit.vitals_of)
        except IngestError as exc:
            if not continue_on_error:
                raise
            report.units += 1
            report.rejected += 1
            report.rejects.append({"file": exc.source, "where": exc.where, "path": exc.path, "reason": exc.reason})
            source = exc.source
        if progress is not None:
            progress(source)
    report.seconds = time.perf_counter() - started
    return report


def ingest_paths(
    store: Store,
    paths: Iterable[Path],
    *,
    continue_on_error: bool = False,
    progress: Callable[[str], None] | None = None,
    score_vitals: bool = True,
) -> IngestReport:
    """Ingest files and directories. Stops at the first rejected unit unless ``continue_on_error``.

    Raises IngestError (nothing of the bad unit written; earlier units stay) without
    ``continue_on_error``; with it, rejects are listed in the report. With ``score_vitals``, after
    each unit commits, the patients with new or changed vital-sign Observations are scored once each
    on the early-warning path (NEWS2 from their latest vital signs within the monitor's staleness
    window, stored, alerts raised); historical data (nothing current) is left unscored.
    """
    units = ((str(path), _resources_of(path, store)) for path in discover(paths))
    return _run_units(store, units, continue_on_error, progress, score_vitals)


# -- clinical source formats (converted to FHIR bundles, then ingested the same way) --------------

SOURCE_FORMATS = ("fhir", "mimic-iv", "physionet2012")


def detect_format(path: Path) -> str:
    """``mimic-iv`` for a MIMIC-IV directory (hosp/admissions.csv[.gz]), ``physionet2012`` for a
    directory of challenge stay files, else ``fhir`` (bundles, NDJSON, HL7 v2)."""
    if path.is_dir():
        if any((path / "hosp" / f"admissions.csv{ext}").exists() for ext in ("", ".gz")):
            return "mimic-iv"
        first = next(iter(sorted(path.glob("*.txt"))), None)
        if first is not None and first.read_text(errors="replace").startswith("Time,Parameter,Value"):
            return "physionet2012"
    return "fhir"


def source_bundles(path: Path, fmt: str, limit: int | None = None) -> tuple[int, Iterator[tuple[str, dict[str, Any]]]]:
    """(number of units, iterator of (source label, FHIR bundle)) for a MIMIC-IV or PhysioNet 2012 source."""
    if fmt == "mimic-iv":
        from hygeia.records.mimic import mimic_bundles, mimic_counts

        total = mimic_counts(path).patients if limit is None else limit
        bundles = mimic_bundles(path)
        label = "MIMIC-IV patient"
    elif fmt == "physionet2012":
        from hygeia.records.physionet2012 import stay_bundles

        total = len(list(path.glob("*.txt")))
        total = total if limit is None else min(limit, total)
        bundles = stay_bundles(path, limit=limit)
        label = "PhysioNet 2012 stay"
    else:
        raise ValueError(f"unknown source format {fmt!r}; one of {', '.join(SOURCE_FORMATS)}")

    def named() -> Iterator[tuple[str, dict[str, Any]]]:
        for index, bundle in enumerate(bundles):
            if limit is not None and index >= limit:
                return
            patient = next((e["resource"]["id"] for e in bundle.get("entry", [])
                            if e["resource"].get("resourceType") == "Patient"), str(index))
            yield f"{path} ({label} {patient})", bundle

    return total, named()


def ingest_bundles(
    store: Store,
    bundles: Iterable[tuple[str, dict[str, Any]]],
    *,
    continue_on_error: bool = False,
    progress: Callable[[str], None] | None = None,
    score_vitals: bool = True,
) -> IngestReport:
    """Ingest (source label, bundle) pairs, each all-or-nothing; converter errors reject that unit
    (``score_vitals``: see :func:`ingest_paths`)."""
    units = ((source, _entries(bundle, source)) for source, bundle in bundles)
    return _run_units(store, units, continue_on_error, progress, score_vitals)
