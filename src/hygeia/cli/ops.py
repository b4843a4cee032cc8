"""`hygeia ops …`: hospital operations — Erlang queueing, stroke-unit simulation, rostering, theatre (IHTC-2024),
forecasting, beds, quality surveillance and plots."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, track

from hygeia import DECISION_SUPPORT_NOTICE

ops = typer.Typer(help=f"Hospital operations: beds, simulation, rostering, theatres, forecasts, quality. "
                  f"{DECISION_SUPPORT_NOTICE}",
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
    workers: int = typer.Option(2, help="Search threads (CP-SAT workers and LNS)."),
    seed: int = typer.Option(0, help="Random seed."),
    out: Path | None = typer.Option(None, help="Where to write the roster CSV (default: INSTANCE.roster.csv)."),
    as_json: bool = typer.Option(False, "--json", help='Print {"objective","feasible","seconds"} as JSON.'),
) -> None:
    """Solve a shift-scheduling instance (CP-SAT, branch and price, LNS) and write the roster as CSV."""
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


theatre_app = typer.Typer(help="IHTC-2024 surgical case planning, admission and nurse-to-room assignment.",
                          no_args_is_help=True)
beds_app = typer.Typer(help="Bed board and bed assignment (CP-SAT).", no_args_is_help=True)
quality_app = typer.Typer(help="HAI surveillance and outcome control charts.", no_args_is_help=True)
plot_app = typer.Typer(help="Save plots (self-contained HTML) from files the other commands write.",
                       no_args_is_help=True)
ops.add_typer(theatre_app, name="theatre")
ops.add_typer(beds_app, name="beds")
ops.add_typer(quality_app, name="quality")
ops.add_typer(plot_app, name="plot")


def _json_file(path: Path) -> object:
    try:
        return json.loads(_read(path))
    except json.JSONDecodeError as exc:
        _fail(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})")
    raise AssertionError  # unreachable


def _emit(plan: object) -> None:
    from hygeia.operations.plan import Plan

    assert isinstance(plan, Plan)
    typer.echo(orjson.dumps(plan.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY, default=str).decode())


def _save_plot(fig: object, target: Path | None) -> None:
    if target is None:
        return
    from hygeia.operations.plots import save

    try:
        files = save(fig, target.with_suffix(""))
    except OSError as exc:
        _fail(f"cannot write the plot to {target}: {exc}")
        return
    err.print("plot written: " + ", ".join(str(f) for f in files))


def _ihtc(instance: Path) -> object:
    from hygeia.operations.theatre import IhtcFormatError, parse_instance

    try:
        return parse_instance(_json_file(instance), instance.name)
    except IhtcFormatError as exc:
        _fail(str(exc))
    raise AssertionError  # unreachable


@theatre_app.command("solve")
def theatre_solve(
    instance: Path = typer.Argument(..., help="IHTC-2024 instance JSON."),
    time_limit: float = typer.Option(600.0, "--time-limit", help="Seconds to search (competition: 600).", min=1),
    workers: int = typer.Option(2, help="Annealing chains (one process each)."),
    seed: int = typer.Option(0, help="Random seed."),
    out: Path | None = typer.Option(None, help="Solution JSON to write (default: INSTANCE.solution.json)."),
    plot: Path | None = typer.Option(None, help="Also save the theatre Gantt chart (HTML) here."),
) -> None:
    """Solve an IHTC-2024 instance; writes the competition solution JSON and prints the Plan."""
    from hygeia.operations.theatre import parse_solution
    from hygeia.operations.theatre.solve import solve_ihtc

    inst = _ihtc(instance)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("solving", total=time_limit)
        plan = solve_ihtc(inst, time_limit, workers=workers, seed=seed,  # type: ignore[arg-type]
                          progress=lambda t, c: bar.update(task, completed=min(t, time_limit), description=f"cost {c}"))
    if plan.feasible:
        target = out or instance.with_suffix(".solution.json")
        try:
            target.write_text(json.dumps(plan.assignments, indent=1))
        except OSError as exc:
            _fail(f"cannot write the solution to {target}: {exc}")
        if plot is not None:
            from hygeia.operations.plots import theatre_gantt

            _save_plot(theatre_gantt(inst, parse_solution(plan.assignments, inst)), plot)  # type: ignore[arg-type]
    _emit(plan)
    if not plan.feasible:
        raise typer.Exit(1)


@theatre_app.command("evaluate")
def theatre_evaluate(
    instance: Path = typer.Argument(..., help="IHTC-2024 instance JSON."),
    solution: Path = typer.Argument(..., help="Solution JSON (competition format)."),
    text: bool = typer.Option(False, "--text", help="Print the official validator's text layout instead of JSON."),
) -> None:
    """Violations and cost components of a solution, counted as the official validator does."""
    from hygeia.operations.theatre import IhtcFormatError, evaluate, format_report, parse_solution

    inst = _ihtc(instance)
    try:
        ev = evaluate(inst, parse_solution(_json_file(solution), inst, solution.name))  # type: ignore[arg-type]
    except IhtcFormatError as exc:
        _fail(str(exc))
        return
    if text:
        typer.echo(format_report(ev, inst))  # type: ignore[arg-type]
    else:
        typer.echo(json.dumps({"violations": ev.violations, "costs": ev.costs, "weighted": ev.weighted,
                               "total_violations": ev.total_violations, "total_cost": ev.total_cost,
                               "feasible": ev.feasible, "notice": DECISION_SUPPORT_NOTICE}))
    if not ev.feasible:
        raise typer.Exit(1)


def _encounters(source: Path | None) -> object:
    """Encounters as a DataFrame: a CSV (start,end,ward,specialty), NDJSON of FHIR Encounters, or the store."""
    import pandas as pd

    from hygeia.operations.forecast import encounters_frame, encounters_from_store

    if source is None:
        from hygeia.cli.common import open_store

        return encounters_from_store(open_store(init=False))
    if source.suffix in (".ndjson", ".jsonl"):
        rows = []
        for i, line in enumerate(_read(source).splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    _fail(f"{source}: line {i}: not valid JSON ({exc.msg})")
        return encounters_frame(rows)
    try:
        return pd.read_csv(source)
    except (OSError, ValueError) as exc:
        _fail(f"cannot read {source} as CSV: {exc}")
    raise AssertionError  # unreachable


@ops.command("forecast")
def forecast(
    encounters: Path | None = typer.Argument(None, help="CSV (start,end,ward,specialty) or FHIR Encounter NDJSON; "
                                                       "omit to read Encounters from the store."),
    by: str = typer.Option("ward", help="Group by 'ward', 'specialty' or 'none' (whole hospital)."),
    measure: str = typer.Option("admissions", help="'admissions' per day or midnight 'census'."),
    horizon: int = typer.Option(14, help="Days to forecast.", min=1),
    windows: int = typer.Option(3, help="Rolling-origin backtest windows.", min=1),
    holidays: Path | None = typer.Option(None, help="File with one holiday date (YYYY-MM-DD) per line."),
    plot_dir: Path | None = typer.Option(None, help="Folder for one fan chart (HTML) per series."),
) -> None:
    """Forecast daily admissions or midnight census per ward/specialty; prints a Plan with backtest reports."""
    import time
    from datetime import date

    import pandas as pd

    from hygeia.operations.forecast import ForecastInputError, daily_series, forecast_series
    from hygeia.operations.plan import Plan

    start = time.monotonic()
    hol: list[date] = []
    if holidays is not None:
        for i, line in enumerate(_read(holidays).splitlines(), start=1):
            if line.strip():
                try:
                    hol.append(date.fromisoformat(line.strip()))
                except ValueError:
                    _fail(f"{holidays}: line {i}: {line.strip()!r} is not a YYYY-MM-DD date")
    try:
        series = daily_series(_encounters(encounters), None if by == "none" else by, measure)  # type: ignore[arg-type]
    except ForecastInputError as exc:
        _fail(str(exc))
        return
    if not series:
        _fail("no encounters with a start date found", )
    out, reports, notes = {}, {}, []
    for key, y in track(series.items(), description="forecasting", console=err):
        try:
            fc = forecast_series(y, horizon, windows, hol)
        except ForecastInputError as exc:
            notes.append(str(exc))
            continue
        bands = {"mean": fc.mean, "lo80": fc.lower[80], "hi80": fc.upper[80], "lo95": fc.lower[95],
                 "hi95": fc.upper[95]}
        out[key] = {str(pd.Timestamp(d).date()): {k: round(float(v.iloc[i]), 2) for k, v in bands.items()}
                    for i, d in enumerate(fc.mean.index)}
        reports[key] = fc.report()
        if plot_dir is not None:
            from hygeia.operations.plots import forecast_fan

            plot_dir.mkdir(parents=True, exist_ok=True)
            _save_plot(forecast_fan(fc), plot_dir / f"forecast_{key}.html")
    chosen = [next(m["mase"] for m in r["models"] if m["model"] == r["chosen"]) for r in reports.values()]
    _emit(Plan(f"forecast-{measure}", float(sum(chosen) / len(chosen)) if chosen else float("nan"), bool(out),
               time.monotonic() - start, assignments={"forecast": out, "backtest": reports},
               solver_version="statsforecast", notes=tuple(notes)))


@beds_app.command("board")
def beds_board(
    encounters: Path = typer.Argument(..., help="NDJSON of FHIR Encounters with location history."),
    now: str = typer.Option(..., help="Board time, ISO 8601 (e.g. 2024-03-10T12:00)."),
    capacity: list[str] = typer.Option([], help="WARD=BEDS (repeatable)."),
    plot: Path | None = typer.Option(None, help="Also save the bed board chart (HTML) here."),
) -> None:
    """Occupancy by ward, pending admissions and expected discharges (next 24 h)."""
    import time

    import pandas as pd

    from hygeia.operations.beds import bed_board, location_stays
    from hygeia.operations.plan import Plan

    start = time.monotonic()
    caps = {}
    for item in capacity:
        ward, _, beds = item.rpartition("=")
        if not ward or not beds.isdigit():
            _fail(f"--capacity {item!r}: expected WARD=BEDS, e.g. 'Ward 1=24'")
        caps[ward] = int(beds)
    try:
        when = pd.Timestamp(now)
    except ValueError:
        _fail(f"--now {now!r} is not an ISO 8601 date-time")
        return
    rows = []
    for i, line in enumerate(_read(encounters).splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                _fail(f"{encounters}: line {i}: not valid JSON ({exc.msg})")
    board = bed_board(location_stays(rows), when, caps)
    if plot is not None:
        from hygeia.operations.plots import bed_board as board_fig

        _save_plot(board_fig(board), plot)
    _emit(Plan("bed-board", float(sum(w.occupied for w in board)), True, time.monotonic() - start,
               assignments={w.ward: {"capacity": w.capacity, "occupied": w.occupied, "free": w.free,
                                     "pending_admissions": w.pending_admissions,
                                     "expected_discharges": w.expected_discharges} for w in board}))


@beds_app.command("assign")
def beds_assign(
    problem: Path = typer.Argument(..., help='JSON {"beds": [{id, ward, bay, isolation, specialties, equipment, '
                                            'occupant_sex}], "requests": [{id, sex, specialty, home_ward, '
                                            'isolation, equipment, current_bed}]}.'),
    time_limit: float = typer.Option(10.0, "--time-limit", help="Seconds for CP-SAT.", min=0.1),
) -> None:
    """Assign waiting patients to beds under sex/isolation/specialty/equipment rules (CP-SAT)."""
    from hygeia.operations.beds import Bed, BedRequest, assign_beds

    data = _json_file(problem)
    try:
        assert isinstance(data, dict)
        beds = [Bed(b["id"], b["ward"], b.get("bay", b["ward"]), bool(b.get("isolation", False)),
                    frozenset(b.get("specialties", [])), frozenset(b.get("equipment", [])), b.get("occupant_sex"),
                    bool(b.get("mixed_sex_allowed", False))) for b in data["beds"]]
        reqs = [BedRequest(r["id"], r["sex"], r["specialty"], r.get("home_ward"), bool(r.get("isolation", False)),
                           frozenset(r.get("equipment", [])), r.get("current_bed")) for r in data["requests"]]
    except (AssertionError, KeyError, TypeError) as exc:
        _fail(f"{problem}: expected beds[] and requests[] objects with the documented fields (problem: {exc!r})")
        return
    plan = assign_beds(beds, reqs, time_limit)
    _emit(plan)
    if not plan.feasible:
        raise typer.Exit(1)


def _mimic(hosp: Path) -> tuple[object, object, object]:
    from hygeia.operations.quality import QualityInputError, load_mimic

    try:
        return load_mimic(hosp)
    except (QualityInputError, OSError, ValueError) as exc:
        _fail(str(exc))
    raise AssertionError  # unreachable


@quality_app.command("hai")
def quality_hai(
    hosp: Path = typer.Argument(..., help="MIMIC-IV hosp/ folder (microbiologyevents, admissions, transfers)."),
    window_days: int = typer.Option(28, help="Scan window (days).", min=1),
    alpha: float = typer.Option(0.01, help="Poisson tail probability to flag a cluster."),
) -> None:
    """Hospital-onset positive cultures (> 48 h) by organism/ward/month, and Poisson-scan clusters."""
    import time

    from hygeia.operations.plan import Plan
    from hygeia.operations.quality import (
        QualityInputError,
        detect_clusters,
        hospital_onset_cultures,
        surveillance_table,
    )

    start = time.monotonic()
    micro, adm, tr = _mimic(hosp)
    try:
        events = hospital_onset_cultures(micro, adm, tr)  # type: ignore[arg-type]
    except QualityInputError as exc:
        _fail(str(exc))
        return
    clusters = detect_clusters(events, window_days, alpha)
    table = surveillance_table(events)
    _emit(Plan("hai-surveillance", float(len(clusters)), True, time.monotonic() - start,
               assignments={"events": len(events),
                            "by_organism_ward_month": table.astype({"period": str}).to_dict("records"),
                            "clusters": [{"organism": c.organism, "ward": c.ward, "start": str(c.start),
                                          "end": str(c.end), "cases": c.cases, "expected": c.expected,
                                          "p_value": c.p_value} for c in clusters]},
               notes=("hospital-onset: culture > 48 h after admission (CDC/NHSN)",
                      "Poisson scan per organism and ward (Kulldorff 2001)")))


@quality_app.command("outcomes")
def quality_outcomes(
    hosp: Path = typer.Argument(..., help="MIMIC-IV hosp/ folder (admissions, transfers)."),
) -> None:
    """LOS, 30-day readmission and mortality by ward and month with 3-sigma control limits."""
    import time

    from hygeia.operations.plan import Plan
    from hygeia.operations.quality import QualityInputError, admission_outcomes, control_chart

    start = time.monotonic()
    _, adm, tr = _mimic(hosp)
    try:
        chart = control_chart(admission_outcomes(adm, tr))  # type: ignore[arg-type]
    except QualityInputError as exc:
        _fail(str(exc))
        return
    flagged = chart[chart["out_of_control"] != ""]
    _emit(Plan("outcomes", float(len(flagged)), True, time.monotonic() - start,
               assignments={"chart": chart.astype({"month": str}).round(4).to_dict("records")},
               notes=("p-chart / x-bar chart 3-sigma limits (Montgomery)",)))


@plot_app.command("roster")
def plot_roster(
    roster: Path = typer.Argument(..., help="Roster CSV written by `hygeia ops roster solve`."),
    out: Path = typer.Option(..., help="HTML file to write."),
) -> None:
    """Employees × days grid of the roster."""
    from hygeia.operations.plots import PlotInputError, roster_grid

    try:
        fig = roster_grid(_read(roster), roster.name)
    except PlotInputError as exc:
        _fail(str(exc))
        return
    _save_plot(fig, out)


@plot_app.command("delay")
def plot_delay(
    simulation: Path = typer.Argument(..., help="JSON printed by `hygeia ops simulate`."),
    out: Path = typer.Option(..., help="HTML file to write."),
    unit: str = typer.Option("asu", help="Unit key in the simulation output."),
    published: list[str] = typer.Option([], help="BEDS=P published values to overlay (repeatable)."),
) -> None:
    """Probability of delay versus beds, reproduced (and published, if given)."""
    from hygeia.operations.plots import delay_curve

    data = _json_file(simulation)
    try:
        curve = {int(k): float(v) for k, v in data["prob_delay"][unit].items() if k.isdigit()}  # type: ignore[index]
        pub = {int(b): float(p) for b, _, p in (x.partition("=") for x in published)}
    except (KeyError, TypeError, ValueError) as exc:
        _fail(f"{simulation}: expected prob_delay.{unit} from `hygeia ops simulate`, and --published BEDS=P "
              f"({exc!r})")
        return
    _save_plot(delay_curve(curve, pub, unit), out)


def register(app: typer.Typer) -> None:
    app.add_typer(ops, name="ops")
