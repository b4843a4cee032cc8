"""NEWS2 and qSOFA against the reference boundary vectors and the RCP table transcription."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hygeia.ews import (
    RCP_2017,
    acvpu_codes,
    load_news2_table,
    qsofa_arrays,
    score_news2,
    score_news2_arrays,
    score_qsofa,
)
from hygeia.ews.news2 import News2Table

PARAM = {
    "respiration_rate": "rr",
    "spo2": "spo2",
    "air_or_oxygen": "on_oxygen",
    "systolic_bp": "sbp",
    "pulse": "pulse",
    "consciousness": "acvpu",
    "temperature": "temp_c",
}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def news2_vectors(reference: Callable[..., Path]) -> list[dict[str, str]]:
    rows = _rows(reference("ews", "news2_parameter_boundary_vectors.csv"))
    assert rows, "no vectors"
    return rows


@pytest.fixture(scope="module")
def rcp_table(reference: Callable[..., Path]) -> News2Table:
    return load_news2_table(reference("ews", "news2_rcp_2017_table.json"))


def test_builtin_table_equals_rcp_transcription(rcp_table: News2Table) -> None:
    assert rcp_table == RCP_2017


def _reading(row: dict[str, str]) -> tuple[dict[str, object], int]:
    p = row["parameter"]
    value: object = row["value"]
    if p == "air_or_oxygen":
        value = row["on_oxygen"] or row["value"]
    readings: dict[str, object] = {PARAM[p]: value}
    if p == "spo2" and row["on_oxygen"]:
        readings["on_oxygen"] = row["on_oxygen"]
    return readings, int(row["scale"] or 1)


@pytest.mark.parametrize("which", ["builtin", "json"])
def test_news2_parameter_vectors_scalar(
    news2_vectors: list[dict[str, str]], rcp_table: News2Table, which: str
) -> None:
    table = RCP_2017 if which == "builtin" else rcp_table
    failures = []
    for row in news2_vectors:
        readings, scale = _reading(row)
        result = score_news2(readings, scale=scale, table=table)  # type: ignore[arg-type]
        got = result.scores[row["parameter"]].score
        if got != int(row["expected_score"]):
            failures.append((row, got))
    assert not failures


def test_news2_parameter_vectors_vectorised(news2_vectors: list[dict[str, str]]) -> None:
    n = len(news2_vectors)
    cols = {c: np.full(n, math.nan) for c in ("rr", "spo2", "on_oxygen", "sbp", "pulse", "temp_c")}
    acvpu: list[str | None] = [None] * n
    scale = np.ones(n, dtype=np.int8)
    for i, row in enumerate(news2_vectors):
        readings, scale[i] = _reading(row)
        for key, value in readings.items():
            if key == "acvpu":
                acvpu[i] = str(value)
            elif key == "on_oxygen":
                cols[key][i] = 1.0 if str(value).lower() in ("true", "oxygen") else 0.0
            else:
                cols[key][i] = float(str(value))
    out = score_news2_arrays(
        cols["rr"],
        cols["spo2"],
        cols["on_oxygen"],
        cols["sbp"],
        cols["pulse"],
        acvpu_codes(acvpu),
        cols["temp_c"],
        scale,
    )
    got = [int(out.parameter_scores[row["parameter"]][i]) for i, row in enumerate(news2_vectors)]
    assert got == [int(r["expected_score"]) for r in news2_vectors]


def test_qsofa_vectors(reference: Callable[..., Path]) -> None:
    rows = _rows(reference("ews", "qsofa_boundary_vectors.csv"))
    assert rows
    for row in rows:
        r = score_qsofa(
            rr=float(row["rr"]),
            sbp=float(row["sbp"]),
            altered_mentation=row["altered_mentation_gcs_lt_15"].strip().lower() == "true",
        )
        assert r.score == int(row["expected_score"]), row
        assert r.positive == (row["expected_positive"].strip().lower() == "true"), row
    score, missing = qsofa_arrays(
        [float(r["rr"]) for r in rows],
        [float(r["sbp"]) for r in rows],
        [1.0 if r["altered_mentation_gcs_lt_15"].strip().lower() == "true" else 0.0 for r in rows],
    )
    assert list(score) == [int(r["expected_score"]) for r in rows]
    assert not missing.any()
