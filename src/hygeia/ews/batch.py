"""Batch NEWS2 scoring of table rows (the core of ``hygeia ews score``; no I/O here).

Input columns: ``rr, spo2, scale, on_oxygen, sbp, pulse, acvpu, temp_c`` (scale 1 or 2, empty means
1; on_oxygen true/false; acvpu one of A, C, V, P, U); any other column passes through. Output adds
``news2_total, any_red_3, news2_risk, response, error``. A row that cannot be scored keeps its
columns, has the score columns empty and says in ``error`` which field is wrong and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from hygeia.ews.news2 import (
    ACVPU,
    PULSE,
    RCP_2017,
    RISK_BY_LEVEL,
    RR,
    SBP,
    SPO2,
    TEMPERATURE,
    News2Table,
    parse_acvpu,
    parse_number,
    parse_on_oxygen,
    parse_scale,
    score_news2_arrays,
)

INPUT_COLUMNS = ("rr", "spo2", "scale", "on_oxygen", "sbp", "pulse", "acvpu", "temp_c")
OUTPUT_COLUMNS = ("news2_total", "any_red_3", "news2_risk", "response", "error")
_NUMERIC = {"rr": RR, "spo2": SPO2, "sbp": SBP, "pulse": PULSE, "temp_c": TEMPERATURE}
_NUMERIC_COLUMNS = ("rr", "spo2", "sbp", "pulse", "temp_c")
_EXTRA = None  # the key csv.DictReader uses for surplus fields


def missing_columns(fieldnames: Sequence[str] | None) -> list[str]:
    """Required input columns absent from a header."""
    have = {f.strip() for f in fieldnames or ()}
    return [c for c in INPUT_COLUMNS if c not in have]


def output_columns(fieldnames: Sequence[str]) -> list[str]:
    """The input's columns (pass-through) followed by the added ones (replacing any of the same name)."""
    return [f for f in fieldnames if f not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS)


def _clean(row: Mapping[str | None, object]) -> dict[str, str | None]:
    return {str(k).strip(): (v if isinstance(v, str) or v is None else str(v)) for k, v in row.items() if k is not None}


def score_rows(
    rows: Sequence[Mapping[str | None, object]],
    n_header_fields: int | None = None,
    table: News2Table = RCP_2017,
) -> list[dict[str, object]]:
    """Score rows as ``csv.DictReader`` yields them; returns each row with the output columns added."""
    n = len(rows)
    cols = {c: np.full(n, math.nan) for c in (*_NUMERIC_COLUMNS, "on_oxygen")}
    acvpu = np.full(n, -1, dtype=np.int8)
    scale = np.ones(n, dtype=np.int8)
    errors: list[list[str]] = [[] for _ in range(n)]
    for i, raw in enumerate(rows):
        row = _clean(raw)
        errs = errors[i]
        if raw.get(_EXTRA):
            extra = raw.get(_EXTRA)
            count = len(extra) if isinstance(extra, list) else 1
            errs.append(f"row: {count} more field(s) than the header ({n_header_fields or '?'} columns)")
            continue
        if any(v is None for v in row.values()):
            errs.append(f"row: fewer fields than the header ({n_header_fields or '?'} columns)")
            continue
        for col, param in _NUMERIC.items():
            text = (row.get(col) or "").strip()
            if not text:
                errs.append(f"{col}: missing (NEWS2 needs all seven parameters; not scored as normal)")
                continue
            try:
                cols[col][i] = parse_number(param, text)
            except ValueError as exc:
                errs.append(f"{col}: {str(exc).split(': ', 1)[1]}")
        o2 = (row.get("on_oxygen") or "").strip()
        if not o2:
            errs.append("on_oxygen: missing (true for supplemental oxygen, false for air)")
        else:
            try:
                cols["on_oxygen"][i] = 1.0 if parse_on_oxygen(o2) else 0.0
            except ValueError:
                errs.append(f"on_oxygen: {o2!r} is not true/false")
        letter = (row.get("acvpu") or "").strip()
        if not letter:
            errs.append(f"acvpu: missing (one of {', '.join(ACVPU)})")
        else:
            try:
                acvpu[i] = ACVPU.index(parse_acvpu(letter))
            except ValueError:
                errs.append(f"acvpu: {letter!r} is not one of {', '.join(ACVPU)}")
        sc = (row.get("scale") or "").strip()
        if sc:
            try:
                scale[i] = parse_scale(sc)
            except ValueError:
                errs.append(f"scale: {sc!r} is not 1 or 2")
    batch = score_news2_arrays(
        cols["rr"],
        cols["spo2"],
        cols["on_oxygen"],
        cols["sbp"],
        cols["pulse"],
        acvpu,
        cols["temp_c"],
        scale,
        table,
    )
    responses = [r.text() for r in table.responses]
    out: list[dict[str, object]] = []
    for i, raw in enumerate(rows):
        row_out: dict[str, object] = {k: v for k, v in raw.items() if k is not None}
        if errors[i]:
            row_out.update(news2_total="", any_red_3="", news2_risk="", response="", error="; ".join(errors[i]))
        else:
            level = int(batch.level[i])
            row_out.update(
                news2_total=int(batch.total[i]),
                any_red_3="true" if batch.any_red_3[i] else "false",
                news2_risk=RISK_BY_LEVEL[level],
                response=responses[level],
                error="",
            )
        out.append(row_out)
    return out
