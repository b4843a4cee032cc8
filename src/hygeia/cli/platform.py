"""`hygeia serve`, `demo`, `users`, `audit`: running the platform and governing access."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import typer
from rich.table import Table

from hygeia.cli.common import console, fail, open_store, progress_bar
from hygeia.config import Settings, get_settings
from hygeia.governance import audit as audit_mod
from hygeia.governance.access import AccessError, Role, add_user, list_users
from hygeia.records.ingest import discover, ingest_paths

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
) -> None:
    """Serve the API (FHIR, auth) on HOST:PORT."""
    import uvicorn

    from hygeia.api import create_app

    settings = get_settings()
    store = open_store(settings)
    try:
        app = create_app(store, settings, demo=demo)
    except RuntimeError as exc:
        fail(str(exc))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, access_log=False, log_level="info")


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
) -> None:
    """Build the synthetic demo hospital (once) and serve it. All demo data is synthetic."""
    from hygeia.synth import generate

    settings = _demo_settings()
    started = time.perf_counter()
    store = open_store(settings)
    root = settings.data_dir / "demo"
    marker = root / f".built-{patients}-{DEMO_SEED}"
    if not marker.exists():
        synth_dir = root / "synth"
        console.print(f"generating {patients} synthetic patients (seed {DEMO_SEED}) in {synth_dir} …")
        generate(synth_dir, patients=patients, seed=DEMO_SEED)
        files = discover([synth_dir / "fhir", synth_dir / "adt"] if (synth_dir / "adt").exists()
                         else [synth_dir / "fhir"])
        with progress_bar() as bar:
            task = bar.add_task("ingesting", total=len(files))
            report = ingest_paths(store, files, progress=lambda _p: bar.advance(task))
        console.print(f"ingested {report.resources} resources from {report.units} files")
        existing = {u.username for u in list_users(store)}
        first_patient = store.patient_ids()[0]
        for username, role in DEMO_USERS:
            if username not in existing:
                add_user(store, username, f"{username}-demo-pw", [role.value],
                         patient_id=first_patient if role == Role.PATIENT else None)
        marker.write_text("built\n")
    else:
        console.print("demo hospital already built; reusing it")
    console.print(f"ready in {time.perf_counter() - started:.0f} s")
    table = Table(title="Demo users (synthetic data; demo passwords — never use in production)")
    table.add_column("username")
    table.add_column("password")
    table.add_column("role")
    for username, role in DEMO_USERS:
        table.add_row(username, f"{username}-demo-pw", role.value)
    console.print(table)
    if build_only:
        return
    import uvicorn

    from hygeia.api import create_app

    console.print(f"[bold green]Hygeia is serving on http://{host}:{port}[/]  (API docs: http://{host}:{port}/docs)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(store, settings, demo=True), host=host, port=port, access_log=False, log_level="info")


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



