"""Alerts through the API (list, acknowledge, server-sent events, POSTed Observations), the CLI
(`hygeia monitor ...`, `hygeia alerts ...`) and the webhook (a real local HTTP server)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hygeia.api import create_app
from hygeia.cli import app as cli_app
from hygeia.config import Settings
from hygeia.ews.devices import DeviceReading
from hygeia.ews.monitor import Monitor, reading_observation
from hygeia.ews.service import webhook_hook
from hygeia.governance import audit
from hygeia.governance.access import add_user
from hygeia.records.store import Store

NOW = datetime.now(UTC).replace(microsecond=0)
SICK = {"rr": 26, "spo2": 90, "on_oxygen": True, "sbp": 95, "pulse": 125, "acvpu": "A", "temp_c": 38.5}


def _observations(patient: str, values: dict[str, Any], at: datetime) -> list[dict[str, Any]]:
    out = [reading_observation(patient, "ehr", at, DeviceReading(k, v, None)) for k, v in values.items()]
    for o in out:
        o["id"] = o["id"].replace("dev-", "ehr-")
    return out


@pytest.fixture
def api(settings: Settings) -> Iterator[tuple[TestClient, Store]]:
    store = Store(settings.resolved_database_url())
    store.init()
    store.write([{"resourceType": "Patient", "id": "p1"}])
    add_user(store, "dr", "clinician-pw", ["clinician"])
    add_user(store, "pat1", "patient1-pw", ["patient"], patient_id="p1")
    add_user(store, "ops", "operations-pw", ["operations"])
    with TestClient(create_app(store, settings)) as client:
        yield client, store
    store.dispose()


def _token(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_post_list_stream_and_acknowledge(api: tuple[TestClient, Store]) -> None:
    client, store = api
    dr = _token(client, "dr", "clinician-pw")
    posted = client.post("/monitor/observations/p1", headers=dr,
                         json=_observations("p1", SICK, NOW - timedelta(minutes=5)))
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert body["news2"]["total"] >= 7 and body["news2"]["risk"] == "high" and len(body["alerts"]) == 1
    alert_id = body["alerts"][0]["id"]

    listed = client.get("/alerts", headers=dr).json()
    assert [a["id"] for a in listed["alerts"]] == [alert_id] and "decision support" in listed["notice"].lower()
    assert any(e.resource == "alerts" and e.username == "dr" for e in audit.query(store, patient_id="p1"))
    assert client.get("/alerts?ward=elsewhere", headers=dr).json()["count"] == 0
    assert client.get("/alerts?patient=p1", headers=dr).json()["count"] == 1

    sse = client.get("/alerts/stream?since=0&follow=false", headers=dr)
    assert sse.status_code == 200 and sse.headers["content-type"].startswith("text/event-stream")
    assert "event: raised" in sse.text and alert_id in sse.text

    acked = client.post(f"/alerts/{alert_id}/ack", headers=dr)
    assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "dr"
    assert client.get("/alerts", headers=dr).json()["count"] == 0
    events = client.get("/alerts/stream?since=0&follow=false", headers=dr).text
    assert "event: acknowledged" in events
    assert client.post("/alerts/alert-nope/ack", headers=dr).status_code == 404


def test_roles_and_bad_input(api: tuple[TestClient, Store]) -> None:
    client, _ = api
    assert client.get("/alerts").status_code == 401
    for user, pw in (("pat1", "patient1-pw"), ("ops", "operations-pw")):
        headers = _token(client, user, pw)
        assert client.get("/alerts", headers=headers).status_code == 403
        assert client.get("/alerts/stream?follow=false", headers=headers).status_code == 403
    dr = _token(client, "dr", "clinician-pw")
    good = _observations("p1", SICK, NOW)
    wrong_subject = _observations("p2", SICK, NOW)
    assert client.post("/monitor/observations/p1", headers=dr, json=wrong_subject).status_code == 422
    assert client.post("/monitor/observations/p1", headers=dr, json=[{"resourceType": "Patient"}]).status_code == 422
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": o} for o in good]}
    assert client.post("/monitor/observations/p1", headers=dr, json=bundle).status_code == 200


def test_webhook_posts_alert_json(sqlite_store: Store) -> None:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        mon = Monitor(sqlite_store, hooks=[webhook_hook(f"http://127.0.0.1:{server.server_port}/hook")])
        outcome = mon.process("p9", _observations("p9", SICK, NOW), NOW)
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [a["id"] for a in received] == [a["id"] for a in outcome.alerts]
        assert received[0]["patient_id"] == "p9" and received[0]["risk"] == "high"
    finally:
        server.shutdown()


def test_cli_devices_alerts_and_stats(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner().invoke
    added = run(cli_app, ["monitor", "device-add", "bed-12", "--database", db])
    assert added.exit_code == 0, added.output
    assert len(added.output.split()[1]) == 64
    assert run(cli_app, ["monitor", "device-add", "bed-13", "--key-hex", "abcd", "--database", db]).exit_code == 2
    bound = run(cli_app, ["monitor", "bind", "bed-12", "p1", "--ward", "w7", "--database", db])
    assert bound.exit_code == 0, bound.output
    overlap = run(cli_app, ["monitor", "bind", "bed-12", "p2", "--database", db])
    assert overlap.exit_code == 2 and "already bound" in overlap.output
    assert run(cli_app, ["monitor", "bind", "ghost", "p2", "--database", db]).exit_code == 2
    assert run(cli_app, ["monitor", "bind", "bed-12", "p3", "--start", "yesterday", "--database", db]).exit_code == 2

    store = Store(db)
    outcome = Monitor(store).process("p1", _observations("p1", SICK, NOW), NOW)
    alert_id = outcome.alerts[0]["id"]
    listed = run(cli_app, ["alerts", "list", "--database", db])
    assert listed.exit_code == 0 and alert_id in listed.output
    tail = run(cli_app, ["alerts", "tail", "--no-follow", "--since", "0", "--database", db])
    assert tail.exit_code == 0 and "raised" in tail.output and alert_id in tail.output
    acked = run(cli_app, ["alerts", "ack", alert_id, "--by", "nurse.ng", "--database", db])
    assert acked.exit_code == 0 and "acknowledged by nurse.ng" in acked.output
    assert run(cli_app, ["alerts", "ack", "alert-nope", "--by", "x", "--database", db]).exit_code == 2
    stats = run(cli_app, ["monitor", "--stats", "--database", db])
    assert stats.exit_code == 0
    store.dispose()
