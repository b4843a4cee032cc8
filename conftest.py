"""Fixtures shared by every test: a fresh store on SQLite and (when available) PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from hygeia.config import Settings
from hygeia.records.store import Store

POSTGRES_URL = os.environ.get("HYGEIA_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("HYGEIA_REQUIRE_POSTGRES") == "1"


def _postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("HYGEIA_REQUIRE_POSTGRES=1 but HYGEIA_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set HYGEIA_TEST_POSTGRES_URL; .ci/run does)")
    name = f"hygeia_test_{uuid.uuid4().hex[:12]}"
    admin_url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store — once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        s = Store(f"sqlite:///{tmp_path / 'hygeia.db'}")
        s.init()
        yield s
        s.dispose()
    else:
        gen = _postgres_database()
        url = next(gen)
        s = Store(url)
        s.init()
        try:
            yield s
        finally:
            s.dispose()
            for _ in gen:
                pass


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated SQLite store (for tests that are not about the database)."""
    s = Store(f"sqlite:///{tmp_path / 'hygeia.db'}")
    s.init()
    yield s
    s.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at a temporary data directory and SQLite file, with a non-default secret."""
    return Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'api.db'}",
                    secret_key=SecretStr("test-secret-not-default"))
