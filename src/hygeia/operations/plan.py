"""The one output type of every operations capability: a :class:`Plan`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hygeia import DECISION_SUPPORT_NOTICE


@dataclass(frozen=True)
class Plan:
    """A solved (or evaluated) operations problem.

    ``assignments`` is problem specific but always JSON-serialisable (for a roster:
    ``{employee: [shift or "" per day]}``); ``cost_breakdown`` names each penalty component.
    """

    problem: str
    objective: float
    feasible: bool
    seconds: float
    assignments: dict[str, Any] = field(default_factory=dict)
    cost_breakdown: dict[str, float] = field(default_factory=dict)
    solver_version: str = ""
    notes: tuple[str, ...] = ()
    notice: str = DECISION_SUPPORT_NOTICE

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "objective": self.objective,
            "feasible": self.feasible,
            "seconds": self.seconds,
            "assignments": self.assignments,
            "cost_breakdown": self.cost_breakdown,
            "solver_version": self.solver_version,
            "notes": list(self.notes),
            "notice": self.notice,
        }
