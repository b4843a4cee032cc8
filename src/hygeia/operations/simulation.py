"""Capacity planning by discrete-event simulation (SimPy): the Monks et al. (2016) stroke pathway.

Source: Monks T, Worthington D, Allen M, Pitt M, Stein K, James MA. "A modelling tool for capacity
planning in acute and community stroke services." BMC Health Serv Res 2016;16:530
(doi:10.1186/s12913-016-1789-4); parameters as published by the open re-implementation
pydesrap_stroke (Heather & Monks 2025, MIT licence; parameters only, no code reused).

Model: patients of several types arrive at the acute stroke unit (ASU) and the rehabilitation unit
as Poisson streams; each unit has unlimited beds, so the simulation measures the *demand* for beds.
After an ASU stay a patient is routed to rehab, early supported discharge (ESD) or elsewhere.
Occupancy is audited once a day after a warm-up. As in the paper, the probability that a patient
is delayed with ``n`` beds is ``P(occupancy = n) / P(occupancy <= n)`` (the Erlang loss
relation applied to the simulated occupancy distribution).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

UNITS = ("asu", "rehab")


class ParameterError(ValueError):
    """The simulation parameters are malformed (the message names the parameter)."""


@dataclass(frozen=True)
class Distribution:
    """One sampling distribution: ``exponential`` (mean), ``lognormal`` (mean, stdev) or ``discrete``."""

    kind: str
    mean: float = 0.0
    stdev: float = 0.0
    values: tuple[str, ...] = ()
    probs: tuple[float, ...] = ()

    def mean_value(self) -> float:
        return self.mean


@dataclass(frozen=True)
class StrokeParameters:
    """Arrival, length-of-stay and routing distributions keyed ``(unit, patient type[, route])``."""

    arrivals: dict[tuple[str, str], Distribution]
    los: dict[tuple[str, str], Distribution]
    routing: dict[tuple[str, str], Distribution]
    source: str = "Monks et al. 2016"


def _number(spec: Mapping[str, Any], key: str, name: str) -> float:
    value = spec.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ParameterError(f"parameter {name!r}: params.{key} must be a positive number, got {value!r}")
    return float(value)


def _distribution(name: str, entry: Any) -> Distribution:
    if not isinstance(entry, Mapping):
        raise ParameterError(f"parameter {name!r}: expected an object with class_name and params")
    kind = entry.get("class_name")
    params = entry.get("params")
    if not isinstance(params, Mapping):
        raise ParameterError(f"parameter {name!r}: missing 'params' object")
    if kind == "Exponential":
        return Distribution("exponential", mean=_number(params, "mean", name))
    if kind == "Lognormal":
        return Distribution("lognormal", mean=_number(params, "mean", name), stdev=_number(params, "stdev", name))
    if kind in ("DiscreteEmpirical", "DiscreteEmpricial"):
        values, freq = params.get("values"), params.get("freq")
        if not isinstance(values, list) or not isinstance(freq, list) or len(values) != len(freq) or not values:
            raise ParameterError(f"parameter {name!r}: 'values' and 'freq' must be lists of equal, non-zero length")
        if not all(isinstance(v, str) for v in values):
            raise ParameterError(f"parameter {name!r}: routing values must be strings")
        if not all(isinstance(f, int | float) and not isinstance(f, bool) and f >= 0 for f in freq):
            raise ParameterError(f"parameter {name!r}: frequencies must be numbers >= 0")
        total = float(sum(freq))
        if total <= 0:
            raise ParameterError(f"parameter {name!r}: frequencies sum to zero")
        return Distribution("discrete", values=tuple(values), probs=tuple(float(f) / total for f in freq))
    raise ParameterError(f"parameter {name!r}: unknown class_name {kind!r} (Exponential, Lognormal, DiscreteEmpirical)")


def parse_stroke_parameters(document: Any) -> StrokeParameters:
    """Parse the ``{"simulation_parameters": {...}}`` document (pydesrap_stroke data dictionary)."""
    if not isinstance(document, Mapping) or not isinstance(document.get("simulation_parameters"), Mapping):
        raise ParameterError("expected a JSON object with a 'simulation_parameters' object")
    arrivals: dict[tuple[str, str], Distribution] = {}
    los: dict[tuple[str, str], Distribution] = {}
    routing: dict[tuple[str, str], Distribution] = {}
    for name, entry in document["simulation_parameters"].items():
        parts = str(name).split("_", 2)
        if len(parts) != 3 or parts[0] not in UNITS or parts[1] not in ("arrival", "los", "routing"):
            raise ParameterError(f"parameter {name!r}: expected <asu|rehab>_<arrival|los|routing>_<type>")
        unit, metric, kind = parts
        dist = _distribution(str(name), entry)
        expected = {"arrival": "exponential", "los": "lognormal", "routing": "discrete"}[metric]
        if dist.kind != expected:
            raise ParameterError(f"parameter {name!r}: {metric} needs a {expected} distribution, got {dist.kind}")
        {"arrival": arrivals, "los": los, "routing": routing}[metric][(unit, kind)] = dist
    if not any(unit == "asu" for unit, _ in arrivals):
        raise ParameterError("no asu_arrival_* parameter: the model needs at least one arrival stream")
    for unit, kind in arrivals:
        _los_for(los, unit, kind, "other")  # raises if missing
        if unit == "asu" and (unit, kind) not in routing:
            raise ParameterError(f"missing routing parameter 'asu_routing_{kind}'")
    return StrokeParameters(arrivals=arrivals, los=los, routing=routing)


# Route-specific length-of-stay keys (Monks et al. 2016, Table 1): a stroke patient's stay depends on
# where they go next — ESD (``stroke_esd``), rehabilitation (``stroke_noesd``), or "other" discharge,
# which holds the in-hospital deaths (``stroke_mortality``); without a mortality key, "other" uses noesd.
_ROUTE_LOS_KEYS = {"esd": ("esd",), "rehab": ("noesd",), "other": ("mortality", "noesd")}


def _los_for(los: Mapping[tuple[str, str], Distribution], unit: str, kind: str, route: str) -> Distribution:
    """The length-of-stay distribution of a ``kind`` patient in ``unit`` who leaves along ``route``."""
    suffixes = _ROUTE_LOS_KEYS.get(route, (route,))
    for key in (*(f"{kind}_{s}" for s in suffixes), f"{kind}_noesd", kind):
        if key and (unit, key) in los:
            return los[(unit, key)]
    raise ParameterError(f"missing length-of-stay parameter '{unit}_los_{kind}'")


@dataclass(frozen=True)
class SimulationConfig:
    """Run length: ``warm_up`` and ``collection`` days per replication, audited every ``audit_interval`` days."""

    warm_up: float = 3 * 365.0
    collection: float = 5 * 365.0
    replications: int = 150
    audit_interval: float = 1.0
    arrival_scale: float = 1.0  # 1.05 = 5 % more admissions
    seed: int = 42

    def __post_init__(self) -> None:
        if self.warm_up < 0 or self.collection <= 0 or self.audit_interval <= 0:
            raise ValueError("warm_up must be >= 0 and collection, audit_interval > 0 (days)")
        if self.replications < 1 or self.arrival_scale <= 0:
            raise ValueError("replications must be >= 1 and arrival_scale > 0")


@dataclass(frozen=True)
class OccupancyResult:
    """Daily bed occupancy counts per unit, pooled over replications, and the derived delay curve."""

    unit: str
    counts: dict[int, int]
    config: SimulationConfig = field(repr=False)

    def probability(self, beds: int) -> float:
        total = sum(self.counts.values())
        return self.counts.get(beds, 0) / total if total else 0.0

    def prob_delay(self, beds: int) -> float:
        """``P(N = beds) / P(N <= beds)`` — the probability an arrival finds all ``beds`` full."""
        cumulative = sum(c for n, c in self.counts.items() if n <= beds)
        return self.counts.get(beds, 0) / cumulative if cumulative else 1.0

    def mean(self) -> float:
        total = sum(self.counts.values())
        return sum(n * c for n, c in self.counts.items()) / total if total else 0.0


def _sampler(rng: np.random.Generator, dist: Distribution, scale: float = 1.0) -> float:
    if dist.kind == "exponential":
        return float(rng.exponential(dist.mean / scale))
    # lognormal given the mean and stdev of the distribution itself (not of its logarithm)
    sigma2 = math.log(1.0 + (dist.stdev / dist.mean) ** 2)
    return float(rng.lognormal(math.log(dist.mean) - sigma2 / 2.0, math.sqrt(sigma2)))


def _route(rng: np.random.Generator, dist: Distribution | None) -> str:
    if dist is None:
        return "other"
    return dist.values[int(rng.choice(len(dist.values), p=dist.probs))]


def _replication(params: StrokeParameters, config: SimulationConfig, seed: np.random.SeedSequence) -> dict[
    str, np.ndarray
]:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    occupancy = dict.fromkeys(UNITS, 0)
    horizon = config.warm_up + config.collection
    n_audits = int(config.collection // config.audit_interval)
    audits = {unit: np.zeros(n_audits, dtype=np.int64) for unit in UNITS}

    def stay(unit: str, kind: str, external: bool) -> Any:
        route = _route(rng, params.routing.get((unit, kind)))
        occupancy[unit] += 1
        yield env.timeout(_sampler(rng, _los_for(params.los, unit, kind, route)))
        occupancy[unit] -= 1
        if unit == "asu" and route == "rehab":
            env.process(stay("rehab", kind, external=False))

    def arrivals(unit: str, kind: str, dist: Distribution) -> Any:
        while True:
            yield env.timeout(_sampler(rng, dist, config.arrival_scale))
            env.process(stay(unit, kind, external=True))

    def audit() -> Any:
        yield env.timeout(config.warm_up)
        for i in range(n_audits):
            for unit in UNITS:
                audits[unit][i] = occupancy[unit]
            yield env.timeout(config.audit_interval)

    for (unit, kind), dist in sorted(params.arrivals.items()):
        env.process(arrivals(unit, kind, dist))
    env.process(audit())
    env.run(until=horizon)
    return audits


def simulate_stroke_pathway(params: StrokeParameters, config: SimulationConfig) -> dict[str, OccupancyResult]:
    """Run ``config.replications`` seeded replications and pool the daily occupancy audits per unit."""
    pooled: dict[str, dict[int, int]] = {unit: {} for unit in UNITS}
    for child in np.random.SeedSequence(config.seed).spawn(config.replications):
        for unit, series in _replication(params, config, child).items():
            values, counts = np.unique(series, return_counts=True)
            for v, c in zip(values.tolist(), counts.tolist(), strict=True):
                pooled[unit][v] = pooled[unit].get(v, 0) + c
    return {unit: OccupancyResult(unit, dict(sorted(c.items())), config) for unit, c in pooled.items()}
