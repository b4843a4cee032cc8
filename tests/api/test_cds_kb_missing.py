"""A missing pharmacogenomics knowledge base must show as an "unavailable" card, never as silence."""

from __future__ import annotations

from typing import Any

import pytest

from hygeia.api.routes import cds_hooks
from hygeia.pgx.kb import KbError
from hygeia.pgx.phenotype import GenePhenotype


class _Record:
    id = "p1"


def test_missing_kb_gives_an_unavailable_card(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_kb(*_args: Any, **_kwargs: Any) -> list[Any]:
        raise KbError("no knowledge base at /nowhere")

    monkeypatch.setattr(cds_hooks, "phenotypes_of",
                        lambda _r: {"CYP2C19": GenePhenotype("CYP2C19", "*2/*2", "Poor Metabolizer")})
    monkeypatch.setattr(cds_hooks, "assess_order", no_kb)
    order = {"resourceType": "MedicationRequest", "medicationCodeableConcept": {"text": "clopidogrel"}}
    cards = cds_hooks._order_cards(_Record(), [order])  # type: ignore[arg-type]
    assert len(cards) == 1
    assert cards[0]["summary"] == "Drug–gene check unavailable"
    assert "not installed" in cards[0]["detail"]
