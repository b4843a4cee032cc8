"""Fixtures of the dashboard tests: one small hospital per session (SQLite), and an app over it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from hygeia.api import create_app
from hygeia.config import Settings
from hygeia.records import Store
from tests.web import hospital


@pytest.fixture(scope="session")
def web_hospital(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Settings, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("web-hospital")
    settings = Settings(data_dir=folder / "data", database_url=f"sqlite:///{folder / 'web.db'}",
                        secret_key=SecretStr("web-test-secret-not-default"))
    store = Store(settings.resolved_database_url())
    store.init()
    info = hospital.build(store, folder)
    yield store, settings, info
    store.dispose()


@pytest.fixture
def web(web_hospital: tuple[Store, Settings, dict[str, Any]]) -> Iterator[TestClient]:
    store, settings, _ = web_hospital
    with TestClient(create_app(store, settings)) as client:
        yield client


def sign_in(client: TestClient, username: str) -> str:
    """Sign in through the browser flow; returns the page CSRF token of the landing page."""
    page = client.get("/web/login")
    assert page.status_code == 200
    token = client.cookies.get("hygeia_login_csrf")
    r = client.post("/web/login", json={"username": username, "password": hospital.PASSWORDS[username]},
                    headers={"X-CSRF-Token": token or ""})
    assert r.status_code == 200, r.text
    landing = client.get(r.json()["redirect"])
    assert landing.status_code == 200, landing.text
    marker = 'name="csrf-token" content="'
    return landing.text.split(marker, 1)[1].split('"', 1)[0]
