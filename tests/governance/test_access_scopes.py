"""SMART scope parsing (v1 and v2), scope + role authorization, and `hygeia users add-client`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.api.helpers import keypair
from typer.testing import CliRunner

from hygeia.cli import app as cli_app
from hygeia.config import get_settings
from hygeia.governance.access import Role, User, default_scopes
from hygeia.governance.smart import ScopeError, authorize, list_clients, narrow, parse_scope
from hygeia.records.store import Store


def test_v1_and_v2_scopes() -> None:
    assert parse_scope("patient/*.read").perms == frozenset("rs")
    assert parse_scope("user/Observation.rs").resource_type == "Observation"
    assert parse_scope("system/*.cruds").perms == frozenset("cruds")
    assert parse_scope("user/*.write").perms == frozenset("cud")
    for bad in ("patient/*.sr", "patient/*.x", "doctor/*.read", "patient/.read", "patient/*", "Observation.read"):
        with pytest.raises(ScopeError):
            parse_scope(bad)


@given(st.text(max_size=40))
def test_scope_parser_never_crashes(text: str) -> None:
    with contextlib.suppress(ScopeError):
        parse_scope(text)


def test_narrow_grants_only_what_is_allowed() -> None:
    assert narrow("user/Observation.rs user/Patient.cruds", "user/*.rs") == "user/Observation.rs"
    assert narrow("system/*.rs", "user/*.cruds") == ""


def test_authorize_needs_scope_and_role() -> None:
    clinician = User("dr", (Role.CLINICIAN,), scopes=("user/Observation.rs",))
    assert authorize(clinician, "Observation", "r", "p1") is None
    assert authorize(clinician, "Patient", "r", "p1") is not None  # role would allow, scope does not
    researcher = User("r", (Role.RESEARCHER,), scopes=default_scopes((Role.RESEARCHER,)))
    assert authorize(researcher, "Observation", "r", "p1") is not None  # scope would allow, role does not
    pat = User("p", (Role.PATIENT,), "p1", default_scopes((Role.PATIENT,)))
    assert authorize(pat, "Observation", "r", "p1") is None
    assert authorize(pat, "Observation", "r", "p2") is not None
    assert authorize(pat, "Consent", "u", "p1") is None
    assert authorize(pat, "Observation", "c", "p1") is not None
    assert authorize(pat, "Practitioner", "r", None) is None


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HYGEIA_DATABASE_URL", url)
    get_settings.cache_clear()
    store = Store(url)
    store.init()
    yield store
    store.dispose()
    get_settings.cache_clear()


def test_cli_add_client(cli_store: Store, tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keypair("ES384").jwks))
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["users", "add-client", "ehr", "--kind", "backend", "--role", "clinician",
                                 "--scope", "system/*.rs", "--jwks-file", str(jwks)])
    assert ok.exit_code == 0, ok.output
    assert [c.client_id for c in list_clients(cli_store)] == ["ehr"]
    bad = runner.invoke(cli_app, ["users", "add-client", "x", "--kind", "backend", "--role", "clinician",
                                  "--scope", "system/*.rs", "--jwks-file", str(tmp_path / "missing.json")])
    assert bad.exit_code == 1 and "cannot read" in bad.output
    twice = runner.invoke(cli_app, ["users", "add-client", "ehr", "--kind", "backend", "--role", "clinician",
                                    "--scope", "system/*.rs", "--jwks-file", str(jwks)])
    assert twice.exit_code == 1 and "already" in twice.output
