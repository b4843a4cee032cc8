"""De-identification of clinical data: free text (``text``), FHIR (``fhir``), DICOM (``dicom``), tables (``kanon``)."""

from hygeia.governance.deid.metrics import Scores, score_spans
from hygeia.governance.deid.text import (
    LABELS,
    DeidConfig,
    DeidResult,
    PhiSpan,
    date_shift_days,
    deidentify,
    find_phi,
    shift_date_text,
)

__all__ = [
    "LABELS",
    "DeidConfig",
    "DeidResult",
    "PhiSpan",
    "Scores",
    "date_shift_days",
    "deidentify",
    "find_phi",
    "score_spans",
    "shift_date_text",
]
