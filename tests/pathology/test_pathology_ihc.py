"""IHC quantification recovers the known positive fraction of synthetic haematoxylin-DAB images (±0.03)."""

from __future__ import annotations

import numpy as np
import pytest

from hygeia.findings import Indicator
from hygeia.pathology import ihc_finding, quantify_ihc
from hygeia.pathology.synthetic import synthetic_ihc


@pytest.mark.parametrize(("fraction", "seed", "n_nuclei"), [
    (0.0, 11, 50), (0.1, 12, 60), (0.25, 13, 70), (0.5, 14, 60), (0.8, 15, 80), (1.0, 16, 40),
])
def test_positive_fraction_within_three_points(fraction: float, seed: int, n_nuclei: int) -> None:
    truth = synthetic_ihc(fraction, n_nuclei=n_nuclei, seed=seed)
    result = quantify_ihc(truth.image)
    assert abs(result.positive_index - truth.positive_index) <= 0.03
    assert abs(result.dab_area_fraction - truth.dab_area_fraction) <= 0.03
    assert abs(result.n_nuclei - truth.labels.max()) <= 0.05 * truth.labels.max()


def test_dimmer_dab_and_noise_still_within_goal() -> None:
    truth = synthetic_ihc(0.4, seed=21, noise=5.0, radius=(5.0, 8.0), n_nuclei=90)
    result = quantify_ihc(truth.image)
    assert abs(result.positive_index - truth.positive_index) <= 0.03
    assert abs(result.dab_area_fraction - truth.dab_area_fraction) <= 0.03


def test_blank_slide_gives_zero_not_a_crash() -> None:
    result = quantify_ihc(np.full((64, 64, 3), 250, np.uint8))
    assert result.n_nuclei == 0 and result.positive_index == 0.0 and result.dab_area_fraction == 0.0


def test_ihc_finding_carries_a_diagnostic_report() -> None:
    truth = synthetic_ihc(0.3, seed=31)
    finding = ihc_finding(quantify_ihc(truth.image), patient_id="p1")
    assert finding.capability == "pathology" and finding.indicator == Indicator.WARNING
    report = finding.resources[0]
    assert report["resourceType"] == "DiagnosticReport"
    assert report["subject"] == {"reference": "Patient/p1"}
    values = {o["code"]["text"]: o.get("valueQuantity", {}).get("value") for o in report["contained"]}
    assert values["Ki-67 positive nuclei fraction"] == pytest.approx(0.3, abs=0.03)
    assert "Decision support" in report["conclusion"]
