"""NEWS2 scoring throughput: hygeia's vectorised scorer vs a plain per-row Python implementation.

The alternative is the obvious one: an if/elif chain per parameter over the same RCP 2017 table,
one row at a time. Both score the same random observation sets (checked equal on a sample).
The vectorised scorer runs over all N rows (default 10 million, in chunks of 262,144 rows); the
per-row scorer runs over a 200,000-row slice (a full 10 M run would take minutes) and its rate is
rows/s on that slice. Medians of repeats.

    python benchmarks/bench_ews_news2.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import numpy.typing as npt

from hygeia.ews import score_news2_arrays

CHUNK = 262_144


def plain_news2(
    rr: float, spo2: float, scale: int, o2: bool, sbp: float, pulse: float, acvpu: int, temp: float
) -> int:
    """Per-row NEWS2 (RCP 2017 Chart 1), values already at charted precision."""
    s = 0
    s += 3 if rr <= 8 else 1 if rr <= 11 else 0 if rr <= 20 else 2 if rr <= 24 else 3
    if scale == 2:
        if spo2 <= 83:
            s += 3
        elif spo2 <= 85:
            s += 2
        elif spo2 <= 87:
            s += 1
        elif spo2 <= 92 or not o2:
            s += 0
        else:
            s += 1 if spo2 <= 94 else 2 if spo2 <= 96 else 3
    else:
        s += 3 if spo2 <= 91 else 2 if spo2 <= 93 else 1 if spo2 <= 95 else 0
    s += 2 if o2 else 0
    s += 3 if sbp <= 90 else 2 if sbp <= 100 else 1 if sbp <= 110 else 0 if sbp <= 219 else 3
    s += (
        3
        if pulse <= 40
        else 1
        if pulse <= 50
        else 0
        if pulse <= 90
        else 1
        if pulse <= 110
        else (2 if pulse <= 130 else 3)
    )
    s += 0 if acvpu == 0 else 3
    s += 3 if temp <= 35.0 else 1 if temp <= 36.0 else 0 if temp <= 38.0 else 1 if temp <= 39.0 else 2
    return s


def make(n: int, seed: int) -> dict[str, npt.NDArray[np.float64]]:
    rng = np.random.default_rng(seed)
    return {
        "rr": rng.integers(5, 40, n).astype(np.float64),
        "spo2": rng.integers(75, 101, n).astype(np.float64),
        "o2": (rng.random(n) < 0.25).astype(np.float64),
        "sbp": rng.integers(70, 240, n).astype(np.float64),
        "pulse": rng.integers(30, 160, n).astype(np.float64),
        "acvpu": (rng.random(n) < 0.1).astype(np.int8) * rng.integers(1, 5, n).astype(np.int8),
        "temp": np.round(rng.uniform(34, 41, n), 1),
        "scale": np.where(rng.random(n) < 0.1, 2, 1).astype(np.int8),
    }


def vectorised(d: dict[str, npt.NDArray[np.float64]], lo: int, hi: int) -> npt.NDArray[np.int16]:
    return score_news2_arrays(
        d["rr"][lo:hi],
        d["spo2"][lo:hi],
        d["o2"][lo:hi],
        d["sbp"][lo:hi],
        d["pulse"][lo:hi],
        d["acvpu"][lo:hi],
        d["temp"][lo:hi],
        d["scale"][lo:hi],
    ).total


def per_row(d: dict[str, npt.NDArray[np.float64]], n: int) -> list[int]:
    cols = [d[k][:n].tolist() for k in ("rr", "spo2", "scale", "o2", "sbp", "pulse", "acvpu", "temp")]
    return [plain_news2(*row) for row in zip(*cols, strict=True)]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    n_plain = min(n, 200_000)
    repeats = 3
    data = make(n, 7)
    check = vectorised(data, 0, n_plain)
    assert check.tolist() == per_row(data, n_plain), "implementations disagree"

    t_vec, t_row = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for lo in range(0, n, CHUNK):
            vectorised(data, lo, min(lo + CHUNK, n))
        t_vec.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        per_row(data, n_plain)
        t_row.append(time.perf_counter() - t0)
    vec_rate = n / statistics.median(t_vec)
    row_rate = n_plain / statistics.median(t_row)
    print(f"NEWS2 scoring, medians of {repeats} repeats")
    print(f"{'implementation':<34}{'rows':>12}{'median s':>11}{'rows/s':>14}")
    print(f"{'hygeia vectorised (numpy)':<34}{n:>12,}{statistics.median(t_vec):>11.3f}{vec_rate:>14,.0f}")
    print(f"{'plain per-row Python':<34}{n_plain:>12,}{statistics.median(t_row):>11.3f}{row_rate:>14,.0f}")
    print(f"ratio vectorised / per-row: {vec_rate / row_rate:.1f}x")


if __name__ == "__main__":
    main()
