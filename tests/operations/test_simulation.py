"""The SimPy stroke-pathway model on small synthetic parameter sets."""

from __future__ import annotations

from typing import Any

import pytest

from hygeia.operations.queueing import erlang_b
from hygeia.operations.simulation import (
    ParameterError,
    SimulationConfig,
    parse_stroke_parameters,
    simulate_stroke_pathway,
)


def _doc(mean_iat: float = 0.5, los_mean: float = 3.0, to_rehab: float = 0.0) -> dict[str, Any]:
    return {
        "simulation_parameters": {
            "asu_arrival_x": {"class_name": "Exponential", "params": {"mean": mean_iat}},
            "asu_los_x": {"class_name": "Lognormal", "params": {"mean": los_mean, "stdev": 2.0}},
            "asu_routing_x": {
                "class_name": "DiscreteEmpirical",
                "params": {"values": ["rehab", "other"], "freq": [to_rehab, 1 - to_rehab]},
            },
            "rehab_los_x": {"class_name": "Lognormal", "params": {"mean": 10.0, "stdev": 5.0}},
        }
    }


def test_occupancy_is_poisson_with_mean_load() -> None:
    # M/G/inf: occupancy is Poisson(lambda * E[LOS]) = Poisson(6); then P(delay | n beds) is Erlang B.
    params = parse_stroke_parameters(_doc())
    config = SimulationConfig(warm_up=30, collection=2000, replications=4, seed=1)
    result = simulate_stroke_pathway(params, config)["asu"]
    assert result.mean() == pytest.approx(6.0, rel=0.05)
    for beds in (4, 6, 8, 10):
        assert result.prob_delay(beds) == pytest.approx(erlang_b(6.0, beds), abs=0.03)
    assert sum(result.probability(n) for n in result.counts) == pytest.approx(1.0)


def test_routing_feeds_rehab_and_seed_is_reproducible() -> None:
    params = parse_stroke_parameters(_doc(to_rehab=0.5))
    config = SimulationConfig(warm_up=60, collection=1000, replications=2, seed=7)
    first = simulate_stroke_pathway(params, config)
    second = simulate_stroke_pathway(params, config)
    assert first["rehab"].counts == second["rehab"].counts
    # rehab load = 2/day * 0.5 * 10 days = 10 beds
    assert first["rehab"].mean() == pytest.approx(10.0, rel=0.1)


def test_arrival_scale_raises_demand() -> None:
    params = parse_stroke_parameters(_doc())
    base = simulate_stroke_pathway(params, SimulationConfig(warm_up=30, collection=1000, replications=2))
    more = simulate_stroke_pathway(
        params, SimulationConfig(warm_up=30, collection=1000, replications=2, arrival_scale=1.5)
    )
    assert more["asu"].mean() > base["asu"].mean() * 1.3


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("simulation_parameters"), "simulation_parameters"),
        (lambda d: d["simulation_parameters"].pop("asu_los_x"), "asu_los_x"),
        (lambda d: d["simulation_parameters"].pop("asu_routing_x"), "asu_routing_x"),
        (lambda d: d["simulation_parameters"]["asu_arrival_x"]["params"].update(mean=-1), "positive"),
        (lambda d: d["simulation_parameters"]["asu_arrival_x"].update(class_name="Gamma"), "unknown class_name"),
        (lambda d: d["simulation_parameters"].update(ward_arrival_x={}), "ward_arrival_x"),
        (lambda d: d["simulation_parameters"]["asu_los_x"].update(class_name="Exponential"), "lognormal"),
        (
            lambda d: d["simulation_parameters"]["asu_routing_x"]["params"].update(freq=[1.0]),
            "equal",
        ),
    ],
)
def test_malformed_parameters(mutate: Any, message: str) -> None:
    doc = _doc()
    mutate(doc)
    with pytest.raises(ParameterError, match=message):
        parse_stroke_parameters(doc)


def test_bad_config() -> None:
    with pytest.raises(ValueError, match="replications"):
        SimulationConfig(replications=0)
