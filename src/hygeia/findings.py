"""Finding: the one output of every patient-level capability.

A CDS Hooks card, a dashboard panel, an alert and a FHIR resource are renderings of a Finding;
none of them computes anything. (CDS Hooks 2.0: https://cds-hooks.hl7.org/2.0/)
"""

from __future__ import annotations

import uuid as uuid_mod
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hygeia import DECISION_SUPPORT_NOTICE


class Indicator(StrEnum):
    """Urgency, as CDS Hooks cards carry it."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Evidence(BaseModel):
    """One piece of data a Finding used, with the FHIR reference it came from when it has one."""

    model_config = ConfigDict(frozen=True)

    label: str
    value: str | float | int | bool | None = None
    unit: str | None = None
    reference: str | None = None  # e.g. "Observation/123"
    time: datetime | None = None


class Driver(BaseModel):
    """One contribution to a Finding's result, in plain words ("lactate 4.1 mmol/L: +0.12")."""

    model_config = ConfigDict(frozen=True)

    description: str
    contribution: float | None = None


class Suggestion(BaseModel):
    """A concrete action; ``actions`` follow CDS Hooks (type create/update/delete, resource)."""

    model_config = ConfigDict(frozen=True)

    label: str
    uuid: str = Field(default_factory=lambda: str(uuid_mod.uuid4()))
    is_recommended: bool = False
    actions: list[dict[str, Any]] = Field(default_factory=list)


class Source(BaseModel):
    """Where the knowledge or model came from (shown to the clinician)."""

    model_config = ConfigDict(frozen=True)

    label: str
    url: str | None = None


class Link(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    url: str
    type: Literal["absolute", "smart"] = "absolute"


class Finding(BaseModel):
    """A patient-level result of a capability, with what it used, why, and what to do."""

    model_config = ConfigDict(frozen=True)

    patient_id: str
    capability: str  # "ews", "pgx", "risk", ...
    kind: str  # e.g. "news2", "drug-gene", "readmission-30d"
    summary: str = Field(max_length=140)
    indicator: Indicator = Indicator.INFO
    detail: str = ""  # Markdown
    evidence: list[Evidence] = Field(default_factory=list)
    explanation: list[Driver] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)
    source: Source
    version: str  # model or knowledge version that produced it
    links: list[Link] = Field(default_factory=list)
    id: str = Field(default_factory=lambda: str(uuid_mod.uuid4()))
    issued: datetime = Field(default_factory=lambda: datetime.now(UTC))
    resources: list[dict[str, Any]] = Field(
        default_factory=list, description="FHIR resources that persist this finding."
    )

    @field_validator("summary")
    @classmethod
    def _summary_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("summary must not be blank")
        return value

    def detail_with_notice(self) -> str:
        """The Markdown detail followed by the decision-support notice and the source."""
        src = f"[{self.source.label}]({self.source.url})" if self.source.url else self.source.label
        return f"{self.detail}\n\n_Source: {src} (version {self.version}). {DECISION_SUPPORT_NOTICE}_".strip()


def to_cds_card(finding: Finding, override_reasons: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Render a Finding as a CDS Hooks 2.0 card (a dict ready for JSON)."""
    card: dict[str, Any] = {
        "uuid": finding.id,
        "summary": finding.summary,
        "indicator": finding.indicator.value,
        "detail": finding.detail_with_notice(),
        "source": {"label": finding.source.label},
    }
    if finding.source.url:
        card["source"]["url"] = finding.source.url
    if finding.suggestions:
        card["suggestions"] = [
            {"label": s.label, "uuid": s.uuid, "isRecommended": s.is_recommended, "actions": s.actions}
            for s in finding.suggestions
        ]
        card["selectionBehavior"] = "at-most-one"
    if override_reasons:
        card["overrideReasons"] = [
            {"code": r["code"], "system": r.get("system", "https://hygeia.example.org/override-reason"),
             "display": r.get("display", r["code"])}
            for r in override_reasons
        ]
    if finding.links:
        card["links"] = [link.model_dump() for link in finding.links]
    return card


_RISK_PROBABILITY_KINDS = ("risk",)


def to_fhir(finding: Finding) -> dict[str, Any]:
    """The FHIR resource that persists a Finding.

    Findings that bring their own resources (e.g. pgx Observations) return the first of them;
    risk findings become RiskAssessment, warnings about an order DetectedIssue, the rest Observation.
    """
    if finding.resources:
        return finding.resources[0]
    subject = {"reference": f"Patient/{finding.patient_id}"}
    note = [{"text": f"{finding.summary}. {DECISION_SUPPORT_NOTICE}"}]
    basis = [{"reference": e.reference} for e in finding.evidence if e.reference]
    if finding.capability in _RISK_PROBABILITY_KINDS:
        probability = next(
            (float(e.value) for e in finding.evidence
             if e.label == "probability" and isinstance(e.value, int | float)),
            None,
        )
        prediction: dict[str, Any] = {"outcome": {"text": finding.kind}}
        if probability is not None:
            prediction["probabilityDecimal"] = probability
        resource: dict[str, Any] = {
            "resourceType": "RiskAssessment",
            "id": finding.id,
            "status": "final",
            "subject": subject,
            "occurrenceDateTime": finding.issued.isoformat(),
            "method": {"text": f"{finding.source.label} {finding.version}"},
            "prediction": [prediction],
            "note": note,
        }
        if basis:
            resource["basis"] = basis
        return resource
    if finding.indicator != Indicator.INFO and finding.suggestions:
        return {
            "resourceType": "DetectedIssue",
            "id": finding.id,
            "status": "final",
            "patient": subject,
            "identifiedDateTime": finding.issued.isoformat(),
            "severity": "high" if finding.indicator == Indicator.CRITICAL else "moderate",
            "code": {"text": finding.kind},
            "detail": finding.summary,
            "implicated": basis or None,
            "mitigation": [{"action": {"text": s.label}} for s in finding.suggestions],
        }
    return {
        "resourceType": "Observation",
        "id": finding.id,
        "status": "final",
        "code": {"text": f"{finding.capability}:{finding.kind}"},
        "subject": subject,
        "effectiveDateTime": finding.issued.isoformat(),
        "valueString": finding.summary,
        "derivedFrom": basis or None,
        "note": note,
    }
