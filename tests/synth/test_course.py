"""The clinical simulation without I/O: deterioration physiology, outcome rates, positions parser."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.synth.course import Course, Ids, Stay, simulate_patient
from hygeia.synth.generate import readmissions
from hygeia.synth.hospital import build_hospital
from hygeia.synth.pgx import PositionsError, parse_positions

BEGIN = datetime(2024, 1, 1)
NOW = BEGIN + timedelta(days=365)


def _population(n: int, seed: int = 5) -> list[Course]:
    hospital = build_hospital(random.Random(f"h{seed}"))
    return [
        simulate_patient(random.Random(f"{seed}:{i}"), Ids(seed, i), i, seed, BEGIN, NOW, hospital) for i in range(n)
    ]


@pytest.fixture(scope="module")
def population() -> list[Course]:
    return _population(300)


def _stays(pop: list[Course]) -> list[tuple[Course, Stay]]:
    return [(c, s) for c in pop for s in c.stays]


def test_deterioration_is_physiologically_coherent(population: list[Course]) -> None:
    worse = [s for _, s in _stays(population) if s.deteriorated and s.onset is not None and s.discharge]
    assert len(worse) >= 5
    for s in worse:
        early = [v for v in s.vitals if v.time < s.onset]
        assert s.escalation is not None
        late = [v for v in s.vitals if s.onset <= v.time <= s.escalation]
        if len(early) < 2 or len(late) < 4:
            continue
        before, end = early[:2], late[-3:]

        def mean(xs: list[float]) -> float:
            return sum(xs) / len(xs)

        assert mean([v.rr for v in end]) > mean([v.rr for v in before])
        assert mean([v.hr for v in end]) > mean([v.hr for v in before])
        assert mean([v.sbp for v in end]) < mean([v.sbp for v in before])
        oxygen_need = [v.o2_flow - v.spo2 for v in end], [v.o2_flow - v.spo2 for v in before]
        assert mean(oxygen_need[0]) > mean(oxygen_need[1])
    # new confusion or worse appears in those who deteriorate, and ends in ICU or death
    assert any(v.acvpu != "A" for s in worse for v in s.vitals)
    assert all(s.icu or s.died or s.discharge is None for s in worse)


def test_vital_rounds_are_one_to_four_hours_apart(population: list[Course]) -> None:
    for _, s in _stays(population):
        gaps = [(b.time - a.time).total_seconds() / 3600 for a, b in zip(s.vitals, s.vitals[1:], strict=False)]
        assert all(0.7 <= g <= 4.2 for g in gaps)


def test_outcome_rates_are_plausible_and_follow_risk(population: list[Course]) -> None:
    done = [(c, s) for c, s in _stays(population) if s.discharge is not None]
    deaths = sum(s.died for _, s in done)
    assert 0.01 <= deaths / len(done) <= 0.15
    readmit = readmissions(population)
    live = [s for _, s in done if not s.died and s.discharge is not None and s.discharge + timedelta(days=30) <= NOW]
    later = {s.id for c, s in _stays(population) if readmit[s.id]}
    assert later and len(later) / len(live) <= 0.35
    # the latent risks are informative: deteriorated stays carried a higher predicted risk
    det = [s.p_deteriorate for _, s in done if s.deteriorated]
    non = [s.p_deteriorate for _, s in done if not s.deteriorated]
    assert sum(det) / len(det) > sum(non) / len(non)


def test_no_events_after_death(population: list[Course]) -> None:
    for c in population:
        if c.death is None:
            continue
        assert all(v.start <= c.death for v in c.visits)
        assert all(s.admit <= c.death for s in c.stays)
        assert all(m.end is not None and m.end <= c.death for m in c.meds)


def test_hypercapnic_patients_target_lower_saturations(population: list[Course]) -> None:
    hyper = [v.spo2 for c, s in _stays(population) if c.has("hypercapnic_rf") for v in s.vitals]
    other = [v.spo2 for c, s in _stays(population) if not c.has("copd") for v in s.vitals]
    assert hyper and sum(hyper) / len(hyper) < sum(other) / len(other) - 2


HEADER = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("chr1\t5\trs1\tA\tG\t.\tPASS\tPX=X\n", "before the '#CHROM'"),
        (HEADER + "chr1\tfive\trs1\tA\tG\t.\tPASS\tPX=X\n", ":3: POS must be a positive integer"),
        (HEADER + "chr1\t5\trs1\tA\n", ":3: expected at least 8"),
        (HEADER + "chr1\t5\trs1\tQ\tG\t.\tPASS\tPX=X\n", "REF must be bases"),
        (HEADER, "no positions found"),
        ("#CHRO\n", "expected the '#CHROM'"),
    ],
)
def test_malformed_positions_files_are_rejected_with_line(text: str, message: str) -> None:
    with pytest.raises(PositionsError, match=message):
        parse_positions(text, "pos.vcf")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from("#\tchr1ACGT.,=0123456789\n P"), max_size=200))
def test_positions_parser_never_crashes(text: str) -> None:
    try:
        parsed = parse_positions(text, "fuzz.vcf")
    except PositionsError as exc:
        assert str(exc).startswith("fuzz.vcf")
    else:
        assert parsed.rows
