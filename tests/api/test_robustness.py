"""Oversized bodies (413), deep JSON (400), wrong content types (415), malformed JSON (400), and a slow
client that does not hold up other requests (a real uvicorn server on loopback)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from hygeia.api import create_app
from hygeia.api.app import MAX_BODY_BYTES
from tests.api.helpers import Hospital


def test_oversized_body_is_413(shared_hospital: Hospital) -> None:
    c, h = shared_hospital.client, shared_hospital.auth("clinician")
    big = b'{"resourceType":"Observation","note":[{"text":"' + b"x" * (MAX_BODY_BYTES + 10) + b'"}]}'
    r = c.post("/fhir/Observation", content=big, headers={**h, "Content-Type": "application/fhir+json"})
    assert r.status_code == 413 and r.json()["resourceType"] == "OperationOutcome"
    lying = c.post("/fhir/Observation", content=b"{}", headers={**h, "Content-Type": "application/json",
                                                                "Content-Length": "not-a-number"})
    assert lying.status_code in (400, 413)


def test_deep_and_malformed_json_is_400(shared_hospital: Hospital) -> None:
    c, h = shared_hospital.client, shared_hospital.auth("clinician")
    deep = b"{\"resourceType\":\"Observation\",\"x\":" + b"[" * 100 + b"]" * 100 + b"}"
    r = c.post("/fhir/Observation", content=deep, headers={**h, "Content-Type": "application/fhir+json"})
    assert r.status_code == 400 and "deeper" in r.json()["issue"][0]["diagnostics"]
    very_deep = b"[" * 100_000 + b"]" * 100_000
    assert c.post("/cds-services/hygeia-patient-view", content=very_deep,
                  headers={"Content-Type": "application/json"}).status_code == 400
    broken = c.post("/fhir", content=b'{"resourceType": "Bundle",', headers={**h, "Content-Type": "application/json"})
    assert broken.status_code == 400


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "multipart/form-data; boundary=x", ""])
def test_wrong_content_type_is_415(shared_hospital: Hospital, ctype: str) -> None:
    c, h = shared_hospital.client, shared_hospital.auth("clinician")
    r = c.post("/fhir/Observation", content=b'{"resourceType":"Observation"}', headers={**h, "Content-Type": ctype})
    assert r.status_code == 415
    form = c.post("/auth/token", content=b'{"username":"x"}', headers={"Content-Type": "application/json"})
    assert form.status_code == 415


@pytest.fixture
def live_server(shared_hospital: Hospital) -> Iterator[str]:
    app = create_app(shared_hospital.store, shared_hospital.settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           timeout_keep_alive=2))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_slow_clients_do_not_block_others(live_server: str) -> None:
    host, port = live_server.removeprefix("http://").split(":")
    slow = []
    for _ in range(20):  # 20 clients that send half a request and stall
        s = socket.create_connection((host, int(port)))
        s.sendall(b"POST /fhir/Observation HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100000\r\n\r\n{\"resourceType\":")
        slow.append(s)
    try:
        r = httpx.get(f"{live_server}/health", timeout=5.0)
        assert r.status_code == 200
    finally:
        for s in slow:
            s.close()
