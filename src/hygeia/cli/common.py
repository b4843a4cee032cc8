"""Helpers shared by the CLI modules: the store, errors that exit cleanly, progress bars."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from hygeia.config import Settings, get_settings
from hygeia.records.store import Store

console = Console()
err_console = Console(stderr=True, soft_wrap=True)  # errors stay on one line: greppable


def fail(message: str, hint: str = "", code: int = 1) -> NoReturn:
    """Print an error (and how to fix it) to stderr and exit non-zero, without a traceback."""
    err_console.print(f"[bold red]error:[/] {message}")
    if hint:
        err_console.print(f"[dim]hint:[/] {hint}")
    raise typer.Exit(code)


def open_store(settings: Settings | None = None, *, init: bool = True) -> Store:
    settings = settings or get_settings()
    store = Store(settings.resolved_database_url())
    if init:
        store.init()
    return store


def progress_bar() -> Progress:
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=err_console, transient=False)
