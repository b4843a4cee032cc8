"""Notes/s of Hygeia's text de-identifier beside Presidio's analyzer on the same notes.

Presidio: ``AnalyzerEngine`` with its predefined pattern recognizers over a blank spaCy 'en'
pipeline (no statistical model: none can be downloaded here), as the issue prescribes.
Notes: 400 synthetic nursing-style notes (about 600-900 characters, some in capitals) built
here from templates, so the run needs no reference data. Medians of repeats; one process, one core.

    python benchmarks/bench_deid_text.py [--repeats 3] [--notes 400]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

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


def rate(run: Callable[[str], object], notes: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for note in notes:
            run(note)
        times.append(time.perf_counter() - start)
    return len(notes) / statistics.median(times)


def presidio_analyzer() -> Callable[[str], object]:
    import spacy
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankEngine(SpacyNlpEngine):  # a blank 'en' pipeline: tokens only, no model download
        def load(self) -> None:
            self.nlp = {"en": spacy.blank("en")}

    engine = BlankEngine(models=[{"lang_code": "en", "model_name": "blank"}])
    engine.load()
    analyzer = AnalyzerEngine(nlp_engine=engine, supported_languages=["en"])
    return lambda text: analyzer.analyze(text=text, language="en")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--notes", type=int, default=400)
    args = parser.parse_args()
    notes = make_notes(args.notes)
    chars = statistics.mean(len(n) for n in notes)
    find_phi("warm up")  # loads the lexicon once
    ours = rate(find_phi, notes, args.repeats)
    try:
        theirs_run = presidio_analyzer()
        theirs_run("warm up")
        theirs: float | None = rate(theirs_run, notes, args.repeats)
    except ImportError:
        theirs = None
    print(f"{args.notes} synthetic notes, mean {chars:.0f} characters, median of {args.repeats} repeats, 1 process")
    print(f"{'hygeia find_phi':40} {ours:10.1f} notes/s")
    if theirs is None:
        print("presidio-analyzer not installed: pip install presidio-analyzer (benchmark only)")
        return
    print(f"{'presidio analyzer (patterns, blank en)':40} {theirs:10.1f} notes/s")
    print(f"{'ratio (goal >= 5x)':40} {ours / theirs:10.1f} x")


if __name__ == "__main__":
    main()
