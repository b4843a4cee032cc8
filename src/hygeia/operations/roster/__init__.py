"""Staff rostering: Curtois & Qu (parse; solve by CP-SAT, branch and price and LNS; evaluate) and INRC-II costs."""

from hygeia.operations.roster.curtois import (
    CurtoisInstance,
    RosterEvaluation,
    RosterFormatError,
    evaluate_curtois,
    format_roster,
    parse_curtois,
    parse_roster,
)
from hygeia.operations.roster.solve import build_model, solve_curtois

__all__ = [
    "CurtoisInstance",
    "RosterEvaluation",
    "RosterFormatError",
    "build_model",
    "evaluate_curtois",
    "format_roster",
    "parse_curtois",
    "parse_roster",
    "solve_curtois",
]
