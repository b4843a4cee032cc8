"""Notes/s of Hygeia's text de-identifier beside Presidio's analyzer on the same notes.

Presidio: ``AnalyzerEngine`` with its predefined pattern recognizers over a blank spaCy 'en'
pipeline (no statistical model: none can be downloaded here), as the issue prescribes.
Notes: 400 synthetic nursing-style notes (about 600-900 characters, some in capitals) built
here from templates, so the run needs no reference data. Medians of repeats; one process, one core.
Both wall-clock and CPU time (``time.process_time``) are reported: on a shared, loaded machine the
wall figure measures the load, the CPU figure the code.

    python benchmarks/bench_deid_text.py [--repeats 3] [--notes 400] [--nursing]

``--nursing`` uses the ICU nursing-note generator of the unit tests instead (longer notes, 40 % in
capitals, more names), run from the repository root.

``--accuracy`` (run from the repository root) measures instead of timing: span recall, precision and
F2 (overlap matching, label-agnostic) on presidio-research's ``synth_dataset_v2.json`` under
``$HYGEIA_REFERENCE_DIR/privacy/text`` (both profiles; TITLE and NRP left out of the gold, as in
``acceptance/test_deid_text.py``), on the hand-written nursing-note lines of
``tests/governance/deid/nursing_cases.py`` (also all typed in lower case) and on the nursing-note generator
(seeds 2008, 1, 11; seed 5 in lower case).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hygeia.governance.deid.text import find_phi

_FIRST = ["Margaret", "John", "Ingrid", "Samuel", "Rosa", "Wei", "Olga", "Dmitri", "Fatima", "Patrick"]
_LAST = ["Hargreaves", "Kowalczyk", "Nguyen", "O'Brien", "Okafor", "Lindqvist", "Moreau", "Delgado"]
_SENTENCES = [
    "Neuro: alert and oriented x3, MAE, follows commands. Pain 3/10, medicated with tylenol.",
    "CV: NSR 70-80s, no ectopy. BP 110-130/60s. K 3.6 repleted with 20 meq KCL.",
    "Resp: lungs clear bilaterally, diminished at bases. O2 2L NC, sats 95-98%.",
    "GI: abd soft, nontender, +BS. Tolerating clears. No BM this shift.",
    "GU: foley draining clear yellow urine 40-60 cc/hr. Lasix 20 mg IV given with good response.",
    "Skin: intact, coccyx reddened, turned q2h. Heparin SQ for DVT prophylaxis.",
    "Seen by Dr. {last} this am, plan to transfer to floor {date}.",
    "Wife {first} called for update at {phone}, questions answered.",
    "Son {first} {last} at bedside, aware of plan of care.",
    "Admitted {date} from {last} Rehab Center. Pt is a {age} yo woman.",
    "Discussed with {first} {last}, RN, and case management.",
    "MRN {mrn}. Family meeting planned {date} with Dr. {last}.",
]


def make_notes(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    notes = []
    for _ in range(count):
        parts = []
        for template in rng.sample(_SENTENCES, 8):
            parts.append(
                template.format(
                    first=rng.choice(_FIRST),
                    last=rng.choice(_LAST),
                    date=f"{rng.randint(1, 12)}/{rng.randint(1, 28)}",
                    phone=f"617-555-{rng.randint(0, 9999):04d}",
                    age=rng.choice([67, 78, 91, 94]),
                    mrn=rng.randint(10_000_000, 99_999_999),
                )
            )
        note = " ".join(parts)
        notes.append(note.upper() if rng.random() < 0.3 else note)
    return notes


def rate(run: Callable[[str], object], notes: list[str], repeats: int) -> tuple[float, float]:
    """(notes/s by wall clock, notes/s by this process's CPU time), medians of ``repeats``."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        for note in notes:
            run(note)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return len(notes) / statistics.median(wall), len(notes) / statistics.median(cpu)


def presidio_analyzer() -> Callable[[str], object]:
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankEngine(SpacyNlpEngine):  # a blank 'en' pipeline: tokens only, no model download
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}  # type: ignore[assignment]

    engine = BlankEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    return lambda text: analyzer.analyze(text=text, language="en")


def accuracy() -> None:
    import json

    from hygeia.governance.deid.metrics import Scores, score_spans
    from hygeia.governance.deid.text import DeidConfig

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.governance.deid import nursing_cases
    from tests.governance.deid.nursing_notes import make_notes as nursing_notes

    def line(name: str, s: Scores) -> None:
        print(f"{name:56} {s.recall:7.3f} {s.precision:7.3f} {s.f(2):7.3f} {s.gold:6d} {s.pred:6d}")

    print(f"{'overlap matching':56} {'recall':>7} {'prec.':>7} {'F2':>7} {'gold':>6} {'found':>6}")
    ref = Path(os.environ.get("HYGEIA_REFERENCE_DIR", "/nonexistent")) / "privacy" / "text" / "synth_dataset_v2.json"
    if ref.exists():
        rows = json.loads(ref.read_text(encoding="utf-8"))
        for profile, config in (
            ("synth_dataset_v2, clinical (default)", DeidConfig()),
            ("synth_dataset_v2, general (--general)", DeidConfig(countries=True, drug_context=False)),
        ):
            total = Scores(0, 0, 0, 0)
            for row in rows:
                text = row["full_text"]
                gold = [
                    (g["start_position"], g["end_position"])
                    for g in row["spans"]
                    if g["entity_type"] not in ("TITLE", "NRP")
                ]
                total += score_spans(text, gold, [(p.start, p.end) for p in find_phi(text, config=config)])
            line(profile, total)
    else:
        print(f"{ref} not found: set HYGEIA_REFERENCE_DIR")
    for name, lines in (
        ("nursing cases DEV", nursing_cases.DEV),
        ("nursing cases HELD_OUT", nursing_cases.HELD_OUT),
        ("nursing cases HELD_OUT_2", nursing_cases.HELD_OUT_2),
        ("nursing cases HELD_OUT_3 (issue 9, held out)", nursing_cases.HELD_OUT_3),
        ("nursing cases NEGATIVE (found = false alarms)", nursing_cases.NEGATIVE),
        ("nursing cases NEGATIVE_2 (found = false alarms)", nursing_cases.NEGATIVE_2),
        ("nursing cases HELD_OUT_4 (mixed/lower case, held out)", nursing_cases.HELD_OUT_4),
        ("nursing cases NEGATIVE_3 (found = false alarms)", nursing_cases.NEGATIVE_3),
        ("nursing cases NEGATIVE_4 (found = false alarms)", nursing_cases.NEGATIVE_4),
        ("nursing cases NEGATIVE_4 in lower case (false alarms)", [x.lower() for x in nursing_cases.NEGATIVE_4]),
        ("nursing cases NEGATIVE_4 in capitals (false alarms)", [x.upper() for x in nursing_cases.NEGATIVE_4]),
    ):
        total = Scores(0, 0, 0, 0)
        for marked in lines:
            text, gold = nursing_cases.parse(marked)
            total += score_spans(text, gold, [(p.start, p.end) for p in find_phi(text)])
        line(name, total)
    every_case = [
        *nursing_cases.DEV,
        *nursing_cases.HELD_OUT,
        *nursing_cases.HELD_OUT_2,
        *nursing_cases.HELD_OUT_3,
        *nursing_cases.HELD_OUT_4,
        *nursing_cases.NEGATIVE,
        *nursing_cases.NEGATIVE_2,
        *nursing_cases.NEGATIVE_3,
    ]
    total = Scores(0, 0, 0, 0)
    for marked in every_case:  # notes typed all in lower case: same text, same offsets
        text, gold = nursing_cases.parse(marked)
        total += score_spans(text.lower(), gold, [(p.start, p.end) for p in find_phi(text.lower())])
    line("nursing cases, all sets, in lower case", total)
    for seed, count, lower in ((2008, 400, False), (1, 400, False), (11, 200, False), (5, 400, True)):
        total = Scores(0, 0, 0, 0)
        for note in nursing_notes(count, seed=seed):
            text = note.text.lower() if lower else note.text
            pred = [(p.start, p.end) for p in find_phi(text)]
            total += score_spans(text, [(a, b) for a, b, _ in note.spans], pred)
        line(f"nursing generator, seed {seed}, {count} notes" + (", in lower case" if lower else ""), total)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--notes", type=int, default=400)
    parser.add_argument("--nursing", action="store_true", help="notes from tests/governance/deid/nursing_notes.py")
    parser.add_argument("--accuracy", action="store_true", help="recall and precision instead of speed")
    args = parser.parse_args()
    if args.accuracy:
        accuracy()
        return
    if args.nursing:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.governance.deid.nursing_notes import make_notes as nursing_notes

        notes = [n.text for n in nursing_notes(args.notes, seed=2008)]
    else:
        notes = make_notes(args.notes)
    chars = statistics.mean(len(n) for n in notes)
    find_phi("warm up")  # loads the lexicon once
    ours = rate(find_phi, notes, args.repeats)
    try:
        theirs_run = presidio_analyzer()
        theirs_run("warm up")
        theirs: tuple[float, float] | None = rate(theirs_run, notes, args.repeats)
    except ImportError:
        theirs = None
    kind = "nursing-generator" if args.nursing else "template"
    print(f"{args.notes} {kind} notes, mean {chars:.0f} characters, median of {args.repeats} repeats, 1 process")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':40} {'wall notes/s':>13} {'CPU notes/s':>13}")
    print(f"{'hygeia find_phi (goal >= 500)':40} {ours[0]:13.1f} {ours[1]:13.1f}")
    if theirs is None:
        print("presidio-analyzer not installed: pip install presidio-analyzer (benchmark only)")
        return
    print(f"{'presidio analyzer (patterns, blank en)':40} {theirs[0]:13.1f} {theirs[1]:13.1f}")
    print(f"{'ratio (goal >= 5x)':40} {ours[0] / theirs[0]:12.1f}x {ours[1] / theirs[1]:12.1f}x")


if __name__ == "__main__":
    main()
