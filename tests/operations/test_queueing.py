"""Erlang B/C against closed forms on small cases, and their structural properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hygeia.operations.queueing import beds_for_blocking, erlang_b, erlang_c, loss_system


def _erlang_b_closed(e: float, m: int) -> float:
    terms = [e**k / math.factorial(k) for k in range(m + 1)]
    return terms[-1] / sum(terms)


@pytest.mark.parametrize(("e", "m"), [(0.5, 1), (1.0, 1), (2.0, 3), (7.5, 10), (12.0, 12)])
def test_erlang_b_matches_closed_form(e: float, m: int) -> None:
    assert erlang_b(e, m) == pytest.approx(_erlang_b_closed(e, m), rel=1e-12)


def test_erlang_c_single_server_is_utilisation() -> None:
    # M/M/1: the probability of waiting equals rho
    assert erlang_c(0.3, 1) == pytest.approx(0.3)
    assert erlang_c(1.0, 1) is None


def test_stable_for_large_systems() -> None:
    # factorials overflow here; the recursion does not
    b = erlang_b(1000.0, 1100)
    assert 0.0 < b < 1e-3
    c = erlang_c(1000.0, 1100)
    assert c is not None and b < c < 1.0


@given(st.floats(min_value=0.01, max_value=200.0), st.integers(min_value=1, max_value=250))
def test_properties(e: float, m: int) -> None:
    b = erlang_b(e, m)
    assert 0.0 <= b <= 1.0
    assert erlang_b(e, m + 1) <= b  # more beds never block more
    c = erlang_c(e, m)
    if e < m:
        assert c is not None and b <= c <= 1.0
    else:
        assert c is None
    summary = loss_system(e, m)
    assert summary.mean_occupancy == pytest.approx(e * (1 - b))
    assert 0.0 <= summary.occupancy_fraction <= 1.0


def test_beds_for_blocking() -> None:
    m = beds_for_blocking(10.0, 0.05)
    assert erlang_b(10.0, m) <= 0.05 < erlang_b(10.0, m - 1)


@pytest.mark.parametrize(("e", "m"), [(-1.0, 3), (math.nan, 3), (math.inf, 3), (1.0, -1)])
def test_bad_input_is_rejected(e: float, m: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        erlang_b(e, m)


def test_non_integer_servers_rejected() -> None:
    with pytest.raises(ValueError, match="integer"):
        erlang_b(1.0, 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="strictly between"):
        beds_for_blocking(1.0, 1.5)
