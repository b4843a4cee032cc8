"""The synthetic hospital at "now": a point-prevalence census of inpatients in beds, no bed shared, outliers
when a ward is full, and a whole-hospital census history that is level and ends at the recorded census."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from statistics import mean

import pytest

from hygeia.synth import SynthError, generate
from hygeia.synth.course import Course, Ids, simulate_patient
from hygeia.synth.generate import allocate_beds, census_csv
from hygeia.synth.hospital import build_hospital

BEGIN = datetime(2024, 1, 1)
NOW = BEGIN + timedelta(days=365, hours=14)  # the demo's "now" is an hour of the day, not midnight


@pytest.fixture(scope="module")
def population() -> list[Course]:
    hospital = build_hospital(random.Random("census:hospital"))
    courses = [simulate_patient(random.Random(f"census:{i}"), Ids(9, i), i, 9, BEGIN, NOW, hospital)
               for i in range(400)]
    allocate_beds(courses, hospital)
    return courses


def test_several_wards_have_inpatients_now_each_in_their_own_bed(population: list[Course]) -> None:
    current = [s for c in population for s in c.stays if s.discharge is None]
    assert 25 <= len(current) <= 80  # ~9 % of 400 people: a few wards' worth, not a handful
    last = [s.wards[-1] for s in current]
    assert all(ws.end is None and ws.bed is not None for ws in last)
    beds = Counter(ws.bed.id for ws in last if ws.bed is not None)
    assert max(beds.values()) == 1  # nobody shares a bed at "now"
    assert all(ws.bed is not None and ws.bed.ward == ws.ward for ws in last)
    assert len({ws.ward for ws in last}) >= 3
    # length-biased: some admitted hours ago, some days ago; each has vital signs up to the last few hours
    elapsed = sorted((NOW - s.admit).total_seconds() / 3600 for s in current)
    assert elapsed[0] < 24 and elapsed[-1] > 72
    assert all(s.vitals and NOW - s.vitals[-1].time <= timedelta(hours=4.5) for s in current)
    # and some of them are deteriorating now (onset passed, still in hospital)
    assert any(s.onset is not None and s.onset < NOW for s in current)


def test_no_stay_overlaps_another_or_a_visit(population: list[Course]) -> None:
    for c in population:
        spans = sorted((s.admit, s.discharge or NOW) for s in c.stays)
        assert all(a[1] <= b[0] for a, b in pairwise(spans)), c.person.id
        for v in c.visits:
            assert not any(a < v.start < b for a, b in spans), (c.person.id, v.start)


def test_census_history_is_level_and_ends_at_the_recorded_census(population: list[Course]) -> None:
    rows = list(csv.DictReader(io.StringIO(census_csv(population, BEGIN, NOW, 9))))
    assert len(rows) == 365 and rows[-1]["date"] == (NOW - timedelta(days=1)).date().isoformat()
    census = [int(r["census"]) for r in rows]
    with_records = [int(r["census_with_records"]) for r in rows]
    assert all(w <= t for w, t in zip(with_records, census, strict=True))
    now_census = sum(1 for c in population for s in c.stays if s.discharge is None)
    quarters = [mean(census[i:i + 91]) for i in range(0, 364, 91)]
    # level: each quarter's mean within 30 % of the census at "now" (the recorded patients alone climb ~10-fold)
    assert all(abs(q - now_census) <= 0.3 * now_census for q in quarters), (quarters, now_census)
    assert mean(with_records[:300]) < 0.3 * now_census
    assert sum(int(r["emergency_admissions"]) for r in rows) > 300
    assert census_csv(population, BEGIN, NOW, 9) == census_csv(population, BEGIN, NOW, 9)


def test_the_period_can_end_at_an_hour(tmp_path: Path) -> None:
    end = datetime(2025, 3, 4, 15)
    summary = generate(tmp_path / "h", 40, 2, end=end, genomes=False)
    assert (summary.start, summary.end) == ("2024-03-04", "2025-03-04")
    rows = list(csv.DictReader((tmp_path / "h" / "truth" / "outcomes.csv").open()))
    ongoing = [r for r in rows if r["ongoing"] == "1"]
    assert ongoing and all(r["admit"] < "2025-03-04T15:00:00" for r in rows)
    census = list(csv.DictReader((tmp_path / "h" / "operations" / "census.csv").open()))
    assert census[-1]["date"] == "2025-03-03"
    with pytest.raises(SynthError, match="not both"):
        generate(tmp_path / "x", 2, 2, start=end.date(), end=end, genomes=False)
    with pytest.raises(SynthError, match="naive UTC"):
        generate(tmp_path / "y", 2, 2, end=end.replace(tzinfo=UTC), genomes=False)
