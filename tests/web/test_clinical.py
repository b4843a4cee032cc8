"""The ward's clinical computations: NEWS2 series and 'now', stale values, locations, ward rows (SQLite and
PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.records import Store
from hygeia.web import clinical
from tests.web import hospital

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def _rows(at: datetime, rr: float, spo2: float, pulse: float, sbp: float, temp: float,
          acvpu: str = "A") -> list[tuple[str, float | None, str | None, str | None, datetime]]:
    return [("respiratory_rate", rr, None, "/min", at), ("spo2", spo2, None, "%", at),
            ("heart_rate", pulse, None, "/min", at), ("systolic_bp", sbp, None, "mm[Hg]", at),
            ("temperature", temp, None, "Cel", at), ("consciousness", None, f"acvpu-{acvpu}", None, at),
            ("supplemental_oxygen", 0.0, None, "flag", at)]


def test_news2_series_carries_values_forward_and_scores_each_time() -> None:
    rows = _rows(NOW - timedelta(hours=4), 16, 97, 70, 125, 37.0) + _rows(NOW - timedelta(hours=1), 25, 91, 120,
                                                                            95, 38.5)
    points, last = clinical.news2_series(rows)
    assert [p.total for p in points] == [0, 3 + 3 + 2 + 2 + 1]  # RCP 2017 chart 1
    assert last is not None and last.complete and last.risk == "high"


def test_stale_values_are_missing_not_normal() -> None:
    rows = _rows(NOW - timedelta(hours=13), 25, 91, 120, 95, 38.5)
    assert clinical.news2_now(rows, NOW) is not None
    result = clinical.news2_now(rows, NOW)
    assert result is not None and not result.complete and result.total == 0
    assert clinical.news2_now([], NOW) is None


def test_unscorable_values_do_not_crash() -> None:
    rows = [("spo2", 140.0, None, "%", NOW), ("consciousness", None, "acvpu-Z", None, NOW),
            ("heart_rate", None, None, "/min", NOW)]
    points, last = clinical.news2_series(rows)
    assert points == [] and last is None


def test_ago() -> None:
    assert clinical.ago(None, NOW) == "never"
    assert clinical.ago(NOW - timedelta(minutes=5), NOW) == "5 min"
    assert clinical.ago(NOW - timedelta(minutes=185), NOW) == "3 h 5 min"
    assert clinical.ago(NOW - timedelta(days=3), NOW) == "3 d"
    assert clinical.ago(NOW + timedelta(minutes=5), NOW) == "in the future"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["respiratory_rate", "spo2", "heart_rate", "systolic_bp", "temperature",
                                            "consciousness", "supplemental_oxygen", "weight"]),
                          st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
                          st.one_of(st.none(), st.text(max_size=8)), st.integers(0, 48)), max_size=30))
def test_any_vitals_give_a_series_or_nothing(items: list[tuple[str, float | None, str | None, int]]) -> None:
    rows = sorted(((n, v, s, None, NOW - timedelta(hours=h)) for n, v, s, h in items), key=lambda r: r[4])
    points, _ = clinical.news2_series(rows)
    assert all(0 <= p.total <= 20 for p in points)


def test_places_and_ward_rows(store: Store) -> None:
    now = datetime.now(UTC)
    store.write([{"resourceType": "Location", "id": "ward-x", "name": "Ward X", "status": "active"},
                 {"resourceType": "Location", "id": "bed-x-1", "name": "X 1", "status": "active",
                  "partOf": {"reference": "Location/ward-x"}}])
    store.write([hospital._patient("w1", "Bedded", "male")])
    enc = hospital._encounter("w1", "Location/bed-x-1", "X 1", now - timedelta(hours=5))
    store.write([enc, hospital._phenotype("w1", "DPYD", "Intermediate Metabolizer")])
    store.write([o for at, v in ((3, 22), (1, 26)) for o in hospital._vitals(
        "w1", now - timedelta(hours=at), v, 95, 100, 120, 37.0)])
    places = clinical.load_places(store)
    assert places.ward("Location/bed-x-1", "X 1") == "Ward X" and places.is_ward("Location/ward-x")
    stays = clinical.current_stays(store, places)
    assert [(s.patient_id, s.ward, s.bed) for s in stays] == [("w1", "Ward X", "X 1")]
    (row,) = clinical.ward_rows(store, stays, now)
    assert row.news2 == 3 + 1 + 1 and row.news2_complete  # RR 26 -> 3, SpO2 95 -> 1, pulse 100 -> 1
    assert row.sparkline == [2 + 1 + 1, 3 + 1 + 1] and row.pgx_flags == ["DPYD IM"] and row.alerts == []
    assert row.last_obs_ago.startswith("60 min") or row.last_obs_ago.startswith("1 h")
