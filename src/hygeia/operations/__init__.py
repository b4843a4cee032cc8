"""Hospital operations: queueing (Erlang), capacity simulation (SimPy), staff rostering (CP-SAT).

Population-level capability: every solver returns a :class:`Plan`. Pure cores, no database.
"""

from hygeia.operations.plan import Plan
from hygeia.operations.queueing import LossSystem, beds_for_blocking, erlang_b, erlang_c, loss_system
from hygeia.operations.simulation import (
    OccupancyResult,
    ParameterError,
    SimulationConfig,
    StrokeParameters,
    parse_stroke_parameters,
    simulate_stroke_pathway,
)

__all__ = [
    "LossSystem",
    "OccupancyResult",
    "ParameterError",
    "Plan",
    "SimulationConfig",
    "StrokeParameters",
    "beds_for_blocking",
    "erlang_b",
    "erlang_c",
    "loss_system",
    "parse_stroke_parameters",
    "simulate_stroke_pathway",
]
