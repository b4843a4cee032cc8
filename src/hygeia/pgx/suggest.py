"""What a CPIC/DPWG recommendation asks the prescriber to do, read from its own text.

The guideline text in the KB (PharmCAT's reporter guideline files: CPIC and DPWG recommendations as
annotated by ClinPGx/PharmGKB) says "avoid", names alternative agents, or gives a dose change
("reduce starting dose by 50%", "30%-80% of normal dose", "reduce daily dose by 10-fold",
"increase starting dose 1.5 to 2 times"). :func:`derive_action` turns that into a structured
:class:`OrderAction`; :func:`order_suggestions` renders it as CDS Hooks suggestions on the
MedicationRequest being ordered. Nothing is invented: an action carries the sentence it came from.
Pure functions, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hygeia.findings import Suggestion

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@dataclass(frozen=True)
class DoseChange:
    """A starting dose as a fraction of the normal dose: ``low``–``high`` (equal for a single value)."""

    low: float
    high: float
    sentence: str

    def describe(self) -> str:
        if self.low == self.high:
            return f"{_pct(self.low)} of the normal dose"
        return f"{_pct(self.low)}–{_pct(self.high)} of the normal dose"


@dataclass(frozen=True)
class OrderAction:
    """What a recommendation asks for: avoid the drug, switch to named agents, and/or change the dose."""

    avoid: bool
    alternatives: tuple[str, ...]
    dose: DoseChange | None
    sentences: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.avoid or self.alternatives or self.dose)


def _pct(x: float) -> str:
    return f"{x * 100:.3g}%"


_NUM = r"(\d+(?:\.\d+)?)"
_DASH = r"\s?(?:-|–|to)\s?"
_NORMAL = r"(?:the )?(?:normal|standard|usual)(?: starting| initial| daily)? dose"
# (pattern, how to turn the match into (low, high) fractions of the normal dose)
_DOSE_PATTERNS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(rf"{_NUM}\s?%{_DASH}{_NUM}\s?% of {_NORMAL}", re.I),
     lambda m: (float(m[1]) / 100, float(m[2]) / 100)),
    (re.compile(rf"{_NUM}{_DASH}{_NUM}\s?% of {_NORMAL}", re.I),
     lambda m: (float(m[1]) / 100, float(m[2]) / 100)),
    (re.compile(rf"{_NUM}\s?% of {_NORMAL}", re.I), lambda m: (float(m[1]) / 100,) * 2),
    (re.compile(rf"reduce (?:the )?(?:starting |daily |initial )?doses? by {_NUM}\s?%", re.I),
     lambda m: (1 - float(m[1]) / 100,) * 2),
    (re.compile(rf"{_NUM}\s?% reduction (?:of|in) {_NORMAL.replace('dose', '(?:maintenance )?dose')}", re.I),
     lambda m: (1 - float(m[1]) / 100,) * 2),
    (re.compile(rf"reduce (?:the )?(?:starting |daily |initial )?doses? by {_NUM}-fold", re.I),
     lambda m: (1 / float(m[1]),) * 2),
    (re.compile(rf"increase (?:the )?(?:starting )?dose {_NUM}{_DASH}{_NUM} times", re.I),
     lambda m: (float(m[1]), float(m[2]))),
    (re.compile(rf"increase (?:the )?dose[^.]*?by a factor of {_NUM}{_DASH}{_NUM}", re.I),
     lambda m: (float(m[1]), float(m[2]))),
    (re.compile(rf"dose that is {_NUM}\s?x higher", re.I), lambda m: (float(m[1]),) * 2),
]
# A dose only counts in an instruction ("start with 50% of…"), not in a report ("a patient tolerated 0.8% of…").
_IMPERATIVE = re.compile(r"\b(?:start|reduce|use|initiate|increase|begin|administer|give|consider)\b", re.I)
# Conditional fallbacks ("If it is not possible to avoid X: use 10%…") are secondary to the main advice.
_CONDITIONAL = re.compile(r"^(?:if|in the event|in case|when|should)\b", re.I)
_AVOID = re.compile(r"\bavoid\b|contra-?indicated|\bdo not use\b", re.I)
_SWITCH = re.compile(r"(?:choose|select|prescribe|consider|use|recommend) (?:an? )?(?:clinically appropriate )?"
                     r"alternative|alternative (?:agent|drug|therapy|statin|antidepressant|P2Y12)",
                     re.I)
# Named agents: "Such agents include a, b, and c." / "(i.e., granisetron)" / "Use prasugrel or ticagrelor at
# standard dose" / "Prasugrel, ticagrelor and X are not metabolised by" /
# "Aromatase inhibitors are a possible alternative"
_NAMED = [
    re.compile(r"such agents include ([^.;]+)", re.I),
    re.compile(r"alternative[^.()]*\((?:i\.e\.|e\.g\.),? ([^)\d]+)\)", re.I),
    re.compile(r"\buse ([a-z]+(?: or [a-z]+)+) at standard dose", re.I),
    re.compile(r"([A-Z][a-z]+(?:, [a-z/ ]+)*(?:,? and [a-z/ ]+)?) (?:is|are) not metaboli[sz]ed by", re.M),
    re.compile(r"([A-Z][a-z]+ inhibitors?) (?:is|are) (?:a )?possible alternatives?"),
]
_SPLIT = re.compile(r",\s*(?:and |or )?|\s+(?:and|or)\s+")


def _sentences(text: str) -> list[str]:
    main = re.split(r"\bOther Considerations\b", text, maxsplit=1)[0]
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", main) if s.strip()]


def _names(found: str) -> list[str]:
    out = []
    for part in _SPLIT.split(found.strip().rstrip(".")):
        name = part.strip().lower()
        if name and len(name) <= 40 and not any(ch.isdigit() for ch in name):
            out.append(name)
    return out


def _dose(sentence: str) -> DoseChange | None:
    for pattern, convert in _DOSE_PATTERNS:
        m = pattern.search(sentence)
        if m and _IMPERATIVE.search(sentence[: m.end()]):
            low, high = convert(m)
            return DoseChange(min(low, high), max(low, high), sentence)
    return None


def derive_action(text: str, drug: str) -> OrderAction:
    """Read avoid / alternatives / dose change from a recommendation's text (see the module docstring).

    Conditional sentences ("If it is not possible to avoid…") never make the advice "avoid", and give a
    dose change only when the main advice has none.
    """
    avoid = False
    alternatives: list[str] = []
    dose: DoseChange | None = None
    fallback: DoseChange | None = None
    used: list[str] = []
    for sentence in _sentences(text):
        conditional = bool(_CONDITIONAL.match(sentence))
        hit = False
        if not conditional and (_AVOID.search(sentence) or _SWITCH.search(sentence)):
            avoid = hit = True
        for pattern in _NAMED:
            for m in pattern.finditer(sentence):
                for name in _names(m[1]):
                    if name != drug.lower() and name not in alternatives:
                        alternatives.append(name)
                        hit = True
        found = _dose(sentence) if (dose is None and not conditional) or (fallback is None and conditional) else None
        if found is not None:
            if conditional:
                fallback = found
            else:
                dose = found
            hit = True
        if hit:
            used.append(sentence)
    return OrderAction(avoid, tuple(alternatives), dose or fallback, tuple(used))


# ---------------------------------------------------------------- CDS Hooks suggestions
def _order_ref(order: dict[str, Any]) -> str | None:
    return f"MedicationRequest/{order['id']}" if order.get("id") else None


def replace_suggestion(order: dict[str, Any], drug: str, rxnorm: str | None, why: str,
                       recommended: bool = True) -> Suggestion:
    """Delete the order (when it has an id) and create the same order for ``drug``."""
    new = {k: v for k, v in order.items() if k not in ("id", "medicationCodeableConcept", "dosageInstruction")}
    new["resourceType"] = "MedicationRequest"
    new["status"] = order.get("status", "draft")
    new["medicationCodeableConcept"] = {
        "text": drug, "coding": [{"system": RXNORM, "code": rxnorm, "display": drug}] if rxnorm else []}
    actions: list[dict[str, Any]] = []
    ref = _order_ref(order)
    if ref:
        actions.append({"type": "delete", "description": "Remove the original order", "resourceId": ref})
    actions.append({"type": "create", "description": f"Order {drug} instead (dose to be set by the prescriber)",
                    "resource": new})
    return Suggestion(label=f"Replace with {drug} ({why})"[:200], is_recommended=recommended, actions=actions)


def cancel_suggestion(order: dict[str, Any], drug: str, why: str, recommended: bool) -> Suggestion | None:
    ref = _order_ref(order)
    if ref is None:
        return None
    return Suggestion(label=f"Cancel the {drug} order ({why})"[:200], is_recommended=recommended,
                      actions=[{"type": "delete", "description": f"Remove the {drug} order", "resourceId": ref}])


def dose_suggestion(order: dict[str, Any], drug: str, change: DoseChange, why: str,
                    recommended: bool) -> Suggestion:
    """Update the order's dose: scale ``doseQuantity`` (a ``doseRange`` for a range), and say why in the text."""
    new = dict(order)
    new["resourceType"] = "MedicationRequest"
    dosages = [dict(d) for d in order.get("dosageInstruction") or [{}]]
    note = f"Starting dose {change.describe()} ({why}): {change.sentence}"
    first = dosages[0]
    rates = [dict(r) for r in first.get("doseAndRate") or []]
    qty = rates[0].get("doseQuantity") if rates else None
    if isinstance(qty, dict) and isinstance(qty.get("value"), int | float):
        value = float(qty["value"])
        if change.low == change.high:
            rates[0]["doseQuantity"] = {**qty, "value": float(f"{value * change.low:.3g}")}
        else:
            rates[0].pop("doseQuantity")
            rates[0]["doseRange"] = {"low": {**qty, "value": float(f"{value * change.low:.3g}")},
                                     "high": {**qty, "value": float(f"{value * change.high:.3g}")}}
        first["doseAndRate"] = rates
    first["text"] = (f"{first['text']} — " if first.get("text") else "") + note
    dosages[0] = first
    new["dosageInstruction"] = dosages
    kind = "update" if order.get("id") else "create"
    return Suggestion(label=f"Adjust {drug} to {change.describe()} ({why})"[:200], is_recommended=recommended,
                      actions=[{"type": kind, "description": note[:500], "resource": new}])
