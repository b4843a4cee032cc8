"""`hygeia ops …`: hospital operations — Erlang queueing, stroke-unit simulation, staff rostering."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from hygeia import DECISION_SUPPORT_NOTICE

ops = typer.Typer(help=f"Hospital operations: beds, simulation, rostering. {DECISION_SUPPORT_NOTICE}",
                  no_args_is_help=True)
roster_app = typer.Typer(help="Staff rostering (Curtois & Qu format).", no_args_is_help=True)
ops.add_typer(roster_app, name="roster")
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}")
    raise AssertionError  # unreachable


@ops.command("erlang")
def erlang(
    load: float = typer.Argument(..., help="Offered load in Erlang (arrival rate × mean length of stay)."),
    beds: int = typer.Argument(..., help="Number of beds (servers)."),
) -> None:
    """Erlang B (blocking) and Erlang C (probability of waiting) for LOAD Erlang on BEDS beds."""
    from hygeia.operations.queueing import loss_system

    try:
        s = loss_system(load, beds)
    except ValueError as exc:
        _fail(str(exc))
        return
    typer.echo(json.dumps({
        "offered_load": s.offered_load, "beds": s.servers, "erlang_b": s.blocking, "erlang_c": s.prob_wait,
        "mean_occupancy": s.mean_occupancy, "occupancy_fraction": s.occupancy_fraction,
        "notice": DECISION_SUPPORT_NOTICE,
    }))


@ops.command("simulate")
def simulate(
    parameters: Path = typer.Argument(..., help="parameters.json (Monks et al. 2016 / pydesrap_stroke layout)."),
    replications: int = typer.Option(150, help="Seeded replications (each: warm-up + collection)."),
    warm_up: float = typer.Option(3 * 365.0, help="Warm-up days per replication."),
    collection: float = typer.Option(5 * 365.0, help="Days of daily occupancy audits per replication."),
    arrival_scale: float = typer.Option(1.0, help="Multiply admission rates (1.05 = 5 % more)."),
    seed: int = typer.Option(42, help="Random seed."),
    beds_from: int = typer.Option(5, help="Smallest bed count to report."),
    beds_to: int = typer.Option(20, help="Largest bed count to report."),
) -> None:
    """Simulate the stroke pathway and print P(delay) by number of beds for each unit, as JSON."""
    from hygeia.operations.simulation import (
        ParameterError,
        SimulationConfig,
        parse_stroke_parameters,
        simulate_stroke_pathway,
    )

    try:
        params = parse_stroke_parameters(json.loads(_read(parameters)))
        config = SimulationConfig(warm_up, collection, replications, 1.0, arrival_scale, seed)
    except json.JSONDecodeError as exc:
        _fail(f"{parameters}: not valid JSON ({exc})")
        return
    except (ParameterError, ValueError) as exc:
        _fail(f"{parameters}: {exc}")
        return
    with err.status(f"simulating {replications} replications…"):
        result = simulate_stroke_pathway(params, config)
    out = {
        unit: {str(b): round(r.prob_delay(b), 4) for b in range(beds_from, beds_to + 1)} | {"mean": r.mean()}
        for unit, r in result.items()
    }
    typer.echo(json.dumps({"prob_delay": out, "notice": DECISION_SUPPORT_NOTICE}))


@roster_app.command("solve")
def roster_solve(
    instance: Path = typer.Argument(..., help="Instance file in the Curtois & Qu text format."),
    time_limit: float = typer.Option(60.0, "--time-limit", help="Seconds to search.", min=0.1),
    workers: int = typer.Option(2, help="CP-SAT worker threads."),
    seed: int = typer.Option(0, help="Random seed."),
    out: Path | None = typer.Option(None, help="Where to write the roster CSV (default: INSTANCE.roster.csv)."),
    as_json: bool = typer.Option(False, "--json", help='Print {"objective","feasible","seconds"} as JSON.'),
) -> None:
    """Solve a shift-scheduling instance with CP-SAT + LNS and write the roster as CSV."""
    from hygeia.operations.roster import RosterFormatError, format_roster, parse_curtois, solve_curtois

    try:
        inst = parse_curtois(_read(instance), instance.stem)
    except RosterFormatError as exc:
        _fail(str(exc))
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err,
                  disable=as_json) as bar:
        task = bar.add_task("solving", total=time_limit)

        def tick(elapsed: float, objective: int) -> None:
            bar.update(task, completed=min(elapsed, time_limit), description=f"objective {objective}")

        plan = solve_curtois(inst, time_limit, workers=workers, seed=seed, progress=tick)
    target = out or instance.with_suffix(".roster.csv")
    if plan.feasible:
        try:
            target.write_text(format_roster(inst, plan.assignments))
        except OSError as exc:
            _fail(f"cannot write the roster to {target}: {exc}")
    summary = {"objective": plan.objective if plan.feasible else None, "feasible": plan.feasible,
               "seconds": plan.seconds}
    if as_json:
        typer.echo(orjson.dumps(summary).decode())
    else:
        typer.echo(f"objective {plan.objective} feasible {plan.feasible} in {plan.seconds:.1f}s; "
                   f"roster written to {target}" if plan.feasible else f"no feasible roster: {plan.notes}")
        typer.echo(f"breakdown {plan.cost_breakdown}; {'; '.join(plan.notes)}")
    if not plan.feasible:
        raise typer.Exit(1)


@roster_app.command("evaluate")
def roster_evaluate(
    instance: Path = typer.Argument(..., help="Instance file in the Curtois & Qu text format."),
    roster: Path = typer.Argument(..., help="Roster CSV as written by `hygeia ops roster solve`."),
) -> None:
    """Recompute a roster's objective independently and list any hard-constraint violations."""
    from hygeia.operations.roster import RosterFormatError, evaluate_curtois, parse_curtois, parse_roster

    try:
        inst = parse_curtois(_read(instance), instance.stem)
        result = evaluate_curtois(inst, parse_roster(_read(roster), inst, str(roster)))
    except RosterFormatError as exc:
        _fail(str(exc))
        return
    typer.echo(json.dumps({"objective": result.objective, "feasible": result.feasible,
                           "breakdown": result.breakdown, "violations": list(result.violations)}))
    if not result.feasible:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(ops, name="ops")
