"""The speed-ups of ``find_phi`` must not change what it finds: each fast path against its rule."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.governance.deid import text as T

WORDS = ["on", "since", "d/c", "f/u", "BM", "appointment", "xon", "of", "Of", "bm1", "x", "planned", "é"]
PIECES = st.one_of(
    st.sampled_from(WORDS),
    st.from_regex(r"\d{1,3}-\d{1,3}", fullmatch=True),
    st.sampled_from([" ", "  ", "\n", "-", "/", "_", ".", ":", ",", "1", "12", "123", "a", "-3"]),
)
TEXTS = st.lists(PIECES, max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_dash_dates_fast_path_equals_the_rule(text: str) -> None:
    fast = [(m.span("v"), m.group(2), m.group(3)) for m in T._dash_dates(text)]
    rule = [(m.span("v"), m.group(2), m.group(3)) for m in T._PARTIAL_DATE_DASH.finditer(text)]
    assert fast == rule


def test_dash_dates_examples() -> None:
    text = "BM on 3-12, planned 4-1; ranges 70-80 and 110-130 stay; xon 3-4 is no word; d/c 5-6."
    assert [m.group("v") for m in T._dash_dates(text)] == ["3-12", "4-1", "5-6"]


GATE_TEXT = st.text(alphabet="0123456789.:-abcdefABCDEFxyz \n/", max_size=40)


@settings(max_examples=400, deadline=None)
@given(GATE_TEXT)
def test_pattern_gates_never_skip_a_match(text: str) -> None:
    for _, rule, pattern in T._PATTERNS:
        gate = T._GATE_RE.get(rule)
        if gate is not None and pattern.search(text):
            assert gate.search(text), (rule, text)


def test_pattern_gates_on_examples() -> None:
    text = "IP 10.0.0.12, SSN 123-45-6789, host fe80:0:0:1:2:3:4:5; BP 3.6, K 4.1, 70-80s at 10:00"
    found = {(text[s.start : s.end], s.rule) for s in T._patterns(text)}
    assert {("10.0.0.12", "ipv4"), ("123-45-6789", "ssn"), ("fe80:0:0:1:2:3:4:5", "ipv6")} <= found
    assert not T._GATE_RE["ipv4"].search("BP 3.6, K 4.1") and not T._GATE_RE["ssn"].search("617-555-0142")


MONTH_PIECES = st.one_of(
    st.sampled_from(["Jan", "january", "MARCH", "Sept", "may", "Dec.", "mid-", "of", "the", "3rd", "5", "2020"]),
    st.sampled_from([" ", "  ", ",", ".", "-", "'", "x", "a", "\n", "12", "1"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(MONTH_PIECES, max_size=12).map("".join))
def test_date_text_word_gate_never_skips_a_match(text: str) -> None:
    pattern = next(p for _, rule, p in T._PATTERNS if rule == "date-text")
    if pattern.search(text):
        lex = T.load_lexicon()
        assert not T._GATE_WORDS["date-text"].isdisjoint(T._gate_words(T._tokens(text, lex))), text
