"""The hash-chained audit log: tampering (edit, delete, reorder, truncate) is detected, by the API of the
module and by `hygeia audit verify`; AuditEvent rendering; `hygeia audit query`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from hygeia.cli import app as cli_app
from hygeia.config import get_settings
from hygeia.governance import audit
from hygeia.records.schema import audit_log
from hygeia.records.store import Store


def _fill(store: Store, n: int = 5) -> None:
    for i in range(n):
        audit.record(store, username=f"user{i}", role="clinician", action="R", patient_id=f"p{i}",
                     resource=f"Patient/p{i}")


def test_intact_chain_verifies(store: Store) -> None:
    _fill(store)
    status = audit.verify(store)
    assert status.ok and status.entries == 5 and len(status.head) == 64
    assert audit.verify(store, expected_head=status.head).ok


def test_edited_entry_is_detected(store: Store) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        seq = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq).offset(2).limit(1)).scalar_one()
        conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(username="someone-else"))
    status = audit.verify(store)
    assert not status.ok and status.first_bad_seq == seq and "edited" in status.reason


def test_deleted_entry_is_detected(store: Store) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        seq = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq).offset(1).limit(1)).scalar_one()
        conn.execute(delete(audit_log).where(audit_log.c.seq == seq))
    status = audit.verify(store)
    assert not status.ok and "deleted or reordered" in status.reason


def test_reordered_entries_are_detected(store: Store) -> None:
    _fill(store)
    with store.engine.begin() as conn:
        rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
        a, b = rows[1], rows[3]
        fields = [c.name for c in audit_log.columns if c.name != "seq"]
        conn.execute(update(audit_log).where(audit_log.c.seq == a.seq).values(**{f: getattr(b, f) for f in fields}))
        conn.execute(update(audit_log).where(audit_log.c.seq == b.seq).values(**{f: getattr(a, f) for f in fields}))
    status = audit.verify(store)
    assert not status.ok and status.first_bad_seq == rows[1].seq


def test_truncation_is_detected_with_a_known_head(store: Store) -> None:
    _fill(store)
    head = audit.verify(store).head
    with store.engine.begin() as conn:
        last = conn.execute(select(audit_log.c.seq).order_by(audit_log.c.seq.desc()).limit(1)).scalar_one()
        conn.execute(delete(audit_log).where(audit_log.c.seq == last))
    assert audit.verify(store).ok  # a bare chain cannot see its tail cut off...
    assert not audit.verify(store, expected_head=head).ok  # ...a remembered head can


def test_audit_event_shape(sqlite_store: Store) -> None:
    audit.record(sqlite_store, username="dr", role="clinician", action="R", patient_id="p1", resource="Patient/p1",
                 purpose="TREAT")
    event = audit.to_audit_event(audit.query(sqlite_store)[0])
    assert event["resourceType"] == "AuditEvent" and event["action"] == "R" and event["outcome"] == "0"
    assert event["agent"][0]["who"]["display"] == "dr" and event["agent"][0]["role"][0]["text"] == "clinician"
    assert event["agent"][0]["purposeOfUse"][0]["coding"][0]["code"] == "TREAT"
    assert event["entity"][0]["what"]["reference"] == "Patient/p1"


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


def test_cli_verify_and_query(cli_store: Store) -> None:
    _fill(cli_store, 3)
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    who = runner.invoke(cli_app, ["audit", "query", "--patient", "p1"])
    assert who.exit_code == 0 and "user1" in who.output and "user2" not in who.output
    with cli_store.engine.begin() as conn:
        conn.execute(update(audit_log).values(detail="tampered"))
    broken = runner.invoke(cli_app, ["audit", "verify"])
    assert broken.exit_code == 3 and "broken" in broken.output
