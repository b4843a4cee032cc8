"""Fixtures for the API tests: a fresh hospital per test, or one per module for read-mostly tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hygeia.api import create_app
from hygeia.config import Settings
from hygeia.records import Store
from tests.api.helpers import Hospital, seed


def _hospital(settings: Settings) -> Iterator[Hospital]:
    store = Store(settings.resolved_database_url())
    store.init()
    seed(store)
    with TestClient(create_app(store, settings)) as client:
        yield Hospital(client, store, settings)
    store.dispose()


@pytest.fixture
def hospital(settings: Settings) -> Iterator[Hospital]:
    yield from _hospital(settings)


@pytest.fixture(scope="module")
def shared_hospital(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hospital]:
    root: Path = tmp_path_factory.mktemp("hospital")
    settings = Settings(data_dir=root / "data", database_url=f"sqlite:///{root / 'api.db'}",
                        secret_key=SecretStr("test-secret-not-default"))
    yield from _hospital(settings)
