"""`hygeia serve`, `demo`, `users`, `audit`: running the platform and governing access."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import typer
from rich.table import Table

from hygeia.cli.common import console, fail, open_store, progress_bar
from hygeia.config import Settings, get_settings
from hygeia.governance import audit as audit_mod
from hygeia.governance.access import AccessError, Role, add_user, list_users

users_app = typer.Typer(help="Platform users and their roles (least privilege).", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail of access to patient data.", no_args_is_help=True)

DEMO_PATIENTS = 500
DEMO_SEED = 42
DEMO_USERS = [  # username, role; password is "<username>-demo-pw" (demo only, printed at start)
    ("clinician", Role.CLINICIAN), ("nurse", Role.NURSE), ("pharmacist", Role.PHARMACIST),
    ("ops", Role.OPERATIONS), ("researcher", Role.RESEARCHER), ("governance", Role.GOVERNANCE),
    ("admin", Role.ADMIN), ("patient", Role.PATIENT),
]


def serve(
    host: str = typer.Option(None, help="Interface to listen on (default HYGEIA_HOST or 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default HYGEIA_PORT or 8000)."),
    demo: bool = typer.Option(False, "--demo", help="Allow the default secret (demo only, never in production)."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (use about one per core)."),
) -> None:
    """Serve the API (FHIR, CDS Hooks, auth) on HOST:PORT."""
    import uvicorn

    from hygeia.api import create_app

    settings = get_settings()
    store = open_store(settings)
    try:
        app = create_app(store, settings, demo=demo, warm=True)
    except RuntimeError as exc:
        fail(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bind = {"host": host or settings.host, "port": port or settings.port, "access_log": False, "log_level": "info"}
    if workers == 1:
        uvicorn.run(app, **bind)  # type: ignore[arg-type]
        return
    if demo:
        os.environ["HYGEIA_DEMO_MODE"] = "1"  # the worker processes build their app from the settings
    # A worker imports the whole platform and may answer the supervisor's ping late on a busy machine:
    # uvicorn's default (5 s) kills and restarts such workers in a loop.
    uvicorn.run("hygeia.api.app:app_from_settings", factory=True, workers=workers,
                timeout_worker_healthcheck=60, **bind)  # type: ignore[arg-type]


def _demo_settings() -> Settings:
    settings = get_settings()
    if not settings.database_url:
        demo_db = settings.data_dir / "demo" / "hygeia-demo.db"
        settings = settings.model_copy(update={"database_url": f"sqlite:///{demo_db}"})
    return settings


def demo(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port."),
    patients: int = typer.Option(DEMO_PATIENTS, help="Synthetic patients to generate."),
    build_only: bool = typer.Option(False, "--build-only", help="Build the demo hospital, do not serve."),
    feed_seconds: float = typer.Option(15.0, help="Seconds between simulated bedside device readings."),
) -> None:
    """Build the synthetic demo hospital (once: each step is reused on the next run) with every capability
    that has landed, then serve the API, the monitor and the dashboard. All demo data is synthetic."""
    import os

    from hygeia.web.demo import Builder, DemoError, demo_password, start_services

    settings = _demo_settings()
    started = time.perf_counter()
    store = open_store(settings)
    root = settings.data_dir / "demo"
    console.print(f"building the demo hospital in {root} ({patients} synthetic patients, seed {DEMO_SEED}) …")
    with progress_bar() as bar:
        def progress(label: str, total: int) -> Callable[[], None]:
            task = bar.add_task(label, total=total)
            return lambda: bar.advance(task)

        try:
            report = Builder(store, settings, root, patients, DEMO_SEED, say=console.print,
                             progress=progress).build()
        except DemoError as exc:
            fail(str(exc), hint=f"fix the cause and run `hygeia demo` again (finished steps are reused from {root})")
    table = Table(title="Demo build")
    for col in ("step", "status", "wall s", "CPU s", "detail"):
        table.add_column(col)
    for step in report.steps:
        table.add_row(step.name, step.status, f"{step.seconds:.0f}", f"{step.cpu_seconds:.0f}", step.detail)
    console.print(table)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    console.print(f"ready in {time.perf_counter() - started:.0f} s ({report.cpu_seconds:.0f} s CPU in the steps; "
                  f"load average {load})")
    users = Table(title="Demo users (synthetic data; demo passwords — never use in production)")
    for col in ("username", "password", "role"):
        users.add_column(col)
    for username, role in DEMO_USERS:
        users.add_row(username, demo_password(username), role.value)
    console.print(users)
    if build_only:
        return
    import uvicorn

    from hygeia.api import create_app

    app = create_app(store, settings, demo=True, warm=True)
    app.state.web_artefacts = root / "artefacts"
    services = start_services(store, root, period_s=feed_seconds)
    console.print(services.description)
    console.print(f"[bold green]Hygeia is serving on http://{host}:{port}/web/[/]  (dashboard; API docs: "
                  f"http://{host}:{port}/docs)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.router.add_event_handler("shutdown", services.close)  # uvicorn re-raises SIGTERM after its shutdown
    try:
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")
    finally:
        services.close()


@users_app.command("add")
def users_add(
    username: str = typer.Argument(...),
    role: list[str] = typer.Option(..., "--role", help=f"One of: {', '.join(r.value for r in Role)} (repeatable)."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                 help="At least 8 characters."),
    patient_id: str = typer.Option(None, help="For the patient role: the user's own patient id."),
) -> None:
    """Create a user with one or more roles."""
    store = open_store()
    try:
        add_user(store, username, password, role, patient_id)
    except AccessError as exc:
        fail(str(exc))
    console.print(f"user {username} created with roles {', '.join(role)}")


@users_app.command("list")
def users_list() -> None:
    """List users and roles."""
    table = Table()
    for col in ("username", "roles", "patient"):
        table.add_column(col)
    for u in list_users(open_store()):
        table.add_row(u.username, ", ".join(r.value for r in u.roles), u.patient_id or "")
    console.print(table)


@users_app.command("add-client")
def users_add_client(
    client_id: str = typer.Argument(..., help="Backend client id, or a CDS client's JWT iss."),
    kind: str = typer.Option(..., "--kind", help="'backend' (SMART backend services) or 'cds' (a CDS Hooks client)."),
    role: str = typer.Option(..., "--role", help=f"The role it acts in: {', '.join(r.value for r in Role)}."),
    scope: str = typer.Option("", help="Backend clients: the system/ scopes it may be granted, e.g. 'system/*.rs'."),
    jwks_file: Path = typer.Option(None, "--jwks-file", help="Its public keys (a JWKS JSON file)."),
    jwks_url: str = typer.Option(None, "--jwks-url", help="Or the https URL where it publishes its JWKS."),
) -> None:
    """Register a machine client with its public keys (private_key_jwt; RS384/ES384)."""
    import json

    from hygeia.governance.smart import register_client

    jwks = None
    if jwks_file is not None:
        try:
            jwks = json.loads(jwks_file.read_text())
        except (OSError, ValueError) as exc:
            fail(f"{jwks_file}: cannot read a JWKS ({exc})", hint="give a JSON file like {\"keys\": [...]}")
    try:
        register_client(open_store(), client_id, kind=kind, role=role, scope=scope, jwks=jwks, jwks_url=jwks_url)
    except AccessError as exc:
        fail(str(exc))
    console.print(f"client {client_id} registered ({kind}, role {role})")


@audit_app.command("verify")
def audit_verify(
    head: str = typer.Option(None, "--head", help="A head hash printed by an earlier run: also detects truncation."),
) -> None:
    """Check the hash chain: detects edited, deleted or reordered entries (and truncation with --head)."""
    status = audit_mod.verify(open_store(), expected_head=head)
    if status.ok:
        console.print(f"[green]audit chain intact[/]: {status.entries} entries; head {status.head}")
    else:
        where = f"at entry {status.first_bad_seq}" if status.first_bad_seq is not None else "at the end"
        fail(f"audit chain broken {where}: {status.reason}",
             hint="restore the audit_log table from a backup and investigate who changed it", code=3)


@audit_app.command("query")
def audit_query(
    patient: str = typer.Option(None, help="Who looked at this patient?"),
    user: str = typer.Option(None, help="What did this user look at?"),
    limit: int = typer.Option(100, help="At most this many entries."),
) -> None:
    """Search the audit trail, newest first ("who looked at this patient?")."""
    table = Table()
    for col in ("time", "user", "role", "action", "patient", "resource", "purpose", "outcome"):
        table.add_column(col)
    for e in audit_mod.query(open_store(), patient_id=patient, username=user, limit=limit):
        table.add_row(f"{e.time:%Y-%m-%d %H:%M:%S}", e.username, e.role or "", e.action, e.patient_id or "",
                      e.resource or "", e.purpose or "", e.outcome)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(demo)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")



