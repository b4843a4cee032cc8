"""FHIR validation with fhir.resources' R4B models.

Hygeia stores FHIR **R4** (4.0.1) JSON. fhir.resources ships R4B (4.3.0) models, the closest it
has to R4, and validates each resource with them. Policy (docs/architecture.md):

* the resource is kept exactly as received (R4 JSON), never re-serialised through the R4B model;
* it must pass R4B validation: R4B differs from R4 only in a handful of resources (e.g.
  MedicinalProduct* → MedicinalProductDefinition, new Citation/Evidence resources), so everything
  R4 and R4B share (all clinical resources Hygeia reads) is validated to the letter;
* R4 resource types that R4B dropped (``R4_ONLY_TYPES``) are checked for shape only (a
  ``resourceType`` and a valid ``id``), and the report says so.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
R4_ONLY_TYPES = frozenset({
    "EffectEvidenceSynthesis", "MedicinalProduct", "MedicinalProductAuthorization",
    "MedicinalProductContraindication", "MedicinalProductIndication", "MedicinalProductIngredient",
    "MedicinalProductInteraction", "MedicinalProductManufactured", "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect", "RiskEvidenceSynthesis",
    "SubstanceNucleicAcid", "SubstancePolymer", "SubstanceProtein", "SubstanceReferenceInformation",
    "SubstanceSourceMaterial", "SubstanceSpecification",
})


# Required bindings that fhir.resources does not enforce (FHIR R4 value sets, hl7.org/fhir/R4).
_OBS_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled", "entered-in-error",
               "unknown"}
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("Observation", "status"): frozenset(_OBS_STATUS),
    ("DiagnosticReport", "status"): frozenset(_OBS_STATUS | {"partial", "appended"}),
    ("Encounter", "status"): frozenset({"planned", "arrived", "triaged", "in-progress", "onleave", "finished",
                                        "cancelled", "entered-in-error", "unknown"}),
    ("MedicationRequest", "status"): frozenset({"active", "on-hold", "cancelled", "completed", "entered-in-error",
                                                "stopped", "draft", "unknown"}),
    ("MedicationRequest", "intent"): frozenset({"proposal", "plan", "order", "original-order", "reflex-order",
                                                "filler-order", "instance-order", "option"}),
    ("Procedure", "status"): frozenset({"preparation", "in-progress", "not-done", "on-hold", "stopped",
                                        "completed", "entered-in-error", "unknown"}),
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
}


class InvalidResource(ValueError):
    """A resource failed validation; ``path`` is the FHIR element path, ``reason`` why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@lru_cache(maxsize=256)
def _model(resource_type: str) -> Any:
    try:
        return get_fhir_model_class(resource_type)
    except (ValueError, AttributeError):
        return None


def _path(resource_type: str, loc: tuple[Any, ...]) -> str:
    out = resource_type
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in ("function-after", "function-before", "function-wrap"):
            out += f".{part}"
    return out


def _unstorable_path(value: Any, path: str) -> str:
    """Path of the first element that JSON cannot carry (an integer beyond 64 bits, a non-string key)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return path
            if (found := _unstorable_path(item, f"{path}.{key}")) != "":
                return found
        return ""
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _unstorable_path(item, f"{path}[{index}]")) != "":
                return found
        return ""
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return ""
    if isinstance(value, int) and -(2**63) <= value < 2**64:
        return ""
    return path


def validate_resource(resource: Any) -> None:
    """Raise InvalidResource naming the element path and reason, or return when valid."""
    if not isinstance(resource, dict):
        raise InvalidResource("(resource)", f"expected a JSON object, got {type(resource).__name__}")
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        raise InvalidResource("resourceType", "missing resourceType")
    try:
        orjson.dumps(resource)
    except TypeError as exc:  # e.g. an integer beyond 64 bits, which no FHIR store can keep
        raise InvalidResource(_unstorable_path(resource, rtype), str(exc)) from None
    rid = resource.get("id")
    if rid is not None and (not isinstance(rid, str) or not ID_PATTERN.match(rid)):
        raise InvalidResource(f"{rtype}.id", f"invalid id {rid!r} (1-64 of A-Z a-z 0-9 - .)")
    for (btype, element), allowed in REQUIRED_CODES.items():
        value = resource.get(element)
        if btype == rtype and element in resource and not (isinstance(value, str) and value in allowed):
            raise InvalidResource(f"{rtype}.{element}", f"{value!r} is not in the required value set "
                                  f"({', '.join(sorted(allowed))})")
    if rtype in R4_ONLY_TYPES:
        return
    model = _model(rtype)
    if model is None or rtype == "Bundle":
        raise InvalidResource("resourceType", f"unknown FHIR R4 resourceType {rtype!r}")
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InvalidResource(_path(rtype, tuple(err.get("loc", ()))), str(err.get("msg", exc))) from None
    except (ValueError, TypeError) as exc:  # fhir_core raises these for some element errors
        raise InvalidResource(rtype, str(exc).splitlines()[0]) from None
