"""The spine: a FHIR R4 store, ingestion, PatientRecord and the code systems."""

from hygeia.records.ingest import IngestError, IngestReport, ingest_bundle, ingest_paths
from hygeia.records.record import PatientRecord
from hygeia.records.store import NotFound, Store, StoreError

__all__ = ["IngestError", "IngestReport", "NotFound", "PatientRecord", "Store", "StoreError",
           "ingest_bundle", "ingest_paths"]
