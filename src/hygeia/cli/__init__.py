"""The ``hygeia`` command. Each area has its own module here; this file only assembles them."""

from __future__ import annotations

import typer

from hygeia import DECISION_SUPPORT_NOTICE, __version__

app = typer.Typer(
    name="hygeia",
    help=(
        "Hygeia — open clinical AI platform for precision medicine.\n\n"
        "Start with `hygeia demo` (builds a synthetic hospital and serves it), or "
        "`hygeia init-db` then `hygeia ingest PATH…` to load your own FHIR data. "
        f"{DECISION_SUPPORT_NOTICE}"
    ),
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode="markdown",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hygeia {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Hygeia command line."""


def _register() -> None:
    # One line per area: the module defines `register(app)` that adds its commands or sub-app.
    from hygeia.cli import platform, records

    records.register(app)
    from hygeia.cli import pgx

    pgx.register(app)
    platform.register(app)
    from hygeia.cli import ews

    ews.register(app)
    from hygeia.cli import deid

    deid.register(app)
    from hygeia.cli import ops

    ops.register(app)
    from hygeia.cli import synth

    synth.register(app)
    from hygeia.cli import imaging

    imaging.register(app)
    from hygeia.cli import risk

    risk.register(app)
    from hygeia.cli import engine

    engine.register(app)


_register()


def main() -> None:
    app()
