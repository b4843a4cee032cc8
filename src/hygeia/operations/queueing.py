"""Erlang loss (B) and delay (C) formulas for bed and staffing capacity.

Source: A. K. Erlang (1917); the numerically stable recursion
``B(E, 0) = 1, B(E, m) = E·B(E, m-1) / (m + E·B(E, m-1))`` avoids factorials and powers, and
``C(E, m) = m·B / (m − E·(1 − B))`` (stable only for ``E < m``). See e.g. Gross & Harris,
*Fundamentals of Queueing Theory*, §2.5–2.6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _check(offered_load: float, servers: int) -> None:
    if not math.isfinite(offered_load) or offered_load < 0:
        raise ValueError(f"offered load must be a finite number >= 0 Erlang, got {offered_load!r}")
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 0:
        raise ValueError(f"servers (beds) must be an integer >= 0, got {servers!r}")


def erlang_b(offered_load: float, servers: int) -> float:
    """Blocking probability of an M/G/c/c loss system (Erlang B)."""
    _check(offered_load, servers)
    b = 1.0
    for m in range(1, servers + 1):
        b = offered_load * b / (m + offered_load * b)
    return b


def erlang_c(offered_load: float, servers: int) -> float | None:
    """Probability that an arrival waits in an M/M/c queue (Erlang C); ``None`` when unstable (E >= c)."""
    _check(offered_load, servers)
    if offered_load >= servers:
        return None
    b = erlang_b(offered_load, servers)
    return servers * b / (servers - offered_load * (1.0 - b))


@dataclass(frozen=True)
class LossSystem:
    """Summary of an M/M/c/c (loss) system: blocking, waiting (if it queued) and occupancy."""

    offered_load: float
    servers: int
    blocking: float
    prob_wait: float | None
    mean_occupancy: float
    occupancy_fraction: float


def loss_system(offered_load: float, servers: int) -> LossSystem:
    """Erlang B and C together with the carried load ``E·(1 − B)`` and occupancy per bed."""
    if servers < 1:
        raise ValueError(f"a loss system needs at least one server (bed), got {servers!r}")
    b = erlang_b(offered_load, servers)
    carried = offered_load * (1.0 - b)
    return LossSystem(
        offered_load=offered_load,
        servers=servers,
        blocking=b,
        prob_wait=erlang_c(offered_load, servers),
        mean_occupancy=carried,
        occupancy_fraction=carried / servers,
    )


def beds_for_blocking(offered_load: float, target: float) -> int:
    """The fewest beds whose Erlang-B blocking is at most ``target`` (0 < target < 1)."""
    if not 0.0 < target < 1.0:
        raise ValueError(f"target blocking must be strictly between 0 and 1, got {target!r}")
    _check(offered_load, 0)
    b, m = 1.0, 0
    while b > target:
        m += 1
        b = offered_load * b / (m + offered_load * b)
    return m
