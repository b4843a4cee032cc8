"""Hand-written nursing-note lines (``nursing_cases``): names without titles in capitals, first names
that are words, bare hospital names, partial dates; and lines whose clinical words must survive."""

from __future__ import annotations

import pytest

from hygeia.governance.deid.metrics import Scores, score_spans
from hygeia.governance.deid.text import find_phi

from .nursing_cases import (
    DEV,
    HELD_OUT,
    HELD_OUT_2,
    HELD_OUT_3,
    HELD_OUT_4,
    NEGATIVE,
    NEGATIVE_2,
    NEGATIVE_3,
    NEGATIVE_4,
    parse,
)


def _score(lines: list[str]) -> Scores:
    total = Scores(0, 0, 0, 0)
    for line in lines:
        text, gold = parse(line)
        total += score_spans(text, gold, [(s.start, s.end) for s in find_phi(text)])
    return total


def test_parse_marks() -> None:
    assert parse("SON [BILL] CALLED [3-12].") == ("SON BILL CALLED 3-12.", [(4, 8), (16, 20)])


@pytest.mark.parametrize("line", DEV)
def test_dev_line_found(line: str) -> None:
    text, gold = parse(line)
    spans = find_phi(text)
    for a, b in gold:
        assert any(s.start < b and a < s.end for s in spans), text[a:b]
    for s in spans:
        assert any(s.start < b and a < s.end for a, b in gold), text[s.start : s.end]


@pytest.mark.parametrize("line", NEGATIVE + NEGATIVE_3)
def test_negative_line_untouched(line: str) -> None:
    assert [line[s.start : s.end] for s in find_phi(line)] == []


def test_negative_2_false_alarms() -> None:
    # NEGATIVE_2 was written with HELD_OUT_3, before the issue-9 rules; one false alarm on it before and
    # after them ("HOLLISTER BAG": a census surname that is a brand), none since the brand is on the allow-list.
    assert sum(len(find_phi(line)) for line in NEGATIVE_2) == 0


def test_dev_and_held_out_scores() -> None:
    dev, held, held_2 = _score(DEV), _score(HELD_OUT), _score(HELD_OUT_2)
    assert dev.gold > 140 and held.gold > 50 and held_2.gold > 30
    # Measured when written: DEV recall 0.958, precision 1.000; HELD_OUT 0.961 / 1.000; HELD_OUT_2
    # 0.938 / 1.000 when first measured, 0.969 / 1.000 after two more general rules (before this work:
    # DEV 0.775 / 0.973, HELD_OUT 0.922 / 0.979, HELD_OUT_2 0.938 / 1.000, 6 spans on the NEGATIVE lines).
    assert dev.recall >= 0.95 and dev.precision >= 0.99
    assert held.recall >= 0.95 and held.precision >= 0.97
    assert held_2.recall >= 0.93 and held_2.precision >= 0.97


def test_held_out_3_scores() -> None:
    # HELD_OUT_3 was written before the issue-9 rules and not tuned on: recall 0.936 / precision 0.973
    # before them, 0.987 / 0.987 after (78 gold spans).
    held_3 = _score(HELD_OUT_3)
    assert held_3.gold == 78
    assert held_3.recall >= 0.98 and held_3.precision >= 0.97


def test_held_out_4_scores() -> None:
    # HELD_OUT_4 (mostly mixed case, one note in lower case) was written before the rules of its session:
    # recall 0.971 / precision 0.986 when first measured (missed: a city on the allow-list as an eponym,
    # "from Denver"; a lower-case name before ", his wife"; false alarm: "AC 500x14" as an ID), 1.000 / 1.000
    # after them (70 gold spans). NEGATIVE_3 (eponyms, devices, brands) had five false alarms, now none.
    held_4 = _score(HELD_OUT_4)
    assert held_4.gold == 70
    assert held_4.recall >= 0.98 and held_4.precision >= 0.97


def test_every_set_in_lower_case() -> None:
    # All hand-written sets typed in lower case: recall 0.591 / precision 0.991 before lower-case lines were
    # read like capitals, 0.976 / 0.997 after (374 gold spans; misses are bare hospital and company names).
    lines = DEV + HELD_OUT + HELD_OUT_2 + HELD_OUT_3 + HELD_OUT_4 + NEGATIVE + NEGATIVE_2 + NEGATIVE_3
    total = Scores(0, 0, 0, 0)
    for line in lines:
        text, gold = parse(line)
        total += score_spans(text.lower(), gold, [(s.start, s.end) for s in find_phi(text.lower())])
    assert total.gold == 374
    assert total.recall >= 0.96 and total.precision >= 0.99


@pytest.mark.parametrize("line", NEGATIVE_4)
def test_negative_4_untouched_in_any_case(line: str) -> None:
    for text in (line, line.upper(), line.lower()):
        assert [text[s.start : s.end] for s in find_phi(text)] == []
