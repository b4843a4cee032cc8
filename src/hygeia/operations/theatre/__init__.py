"""IHTC-2024 integrated surgical case planning, patient admission and nurse-to-room assignment."""

from hygeia.operations.theatre.evaluate import COST_NAMES, VIOLATION_NAMES, Evaluation, evaluate, format_report
from hygeia.operations.theatre.model import (
    Admission,
    IhtcFormatError,
    Instance,
    Solution,
    parse_instance,
    parse_solution,
    solution_to_json,
)

__all__ = [
    "COST_NAMES",
    "VIOLATION_NAMES",
    "Admission",
    "Evaluation",
    "IhtcFormatError",
    "Instance",
    "Solution",
    "evaluate",
    "format_report",
    "parse_instance",
    "parse_solution",
    "solution_to_json",
]
