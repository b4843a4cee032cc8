"""The dashboard in a real browser: Playwright for Python driving Debian's Chromium, headless.

Screenshots go to test-artifacts/web/. Without /usr/bin/chromium (or the playwright package) these
tests skip, unless HYGEIA_REQUIRE_BROWSER=1 (then they fail). Never `playwright install`: the system
Chromium is used (`apt-get install chromium`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from hygeia.api import create_app
from hygeia.config import Settings
from hygeia.records import Store
from tests.web import hospital

pytestmark = pytest.mark.slow
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


def _require_browser() -> Any:
    required = os.environ.get("HYGEIA_REQUIRE_BROWSER") == "1"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("HYGEIA_REQUIRE_BROWSER=1 but the playwright package is missing (pip install playwright)")
        pytest.skip("playwright not installed (pip install playwright)")
    if not CHROMIUM.exists():
        if required:
            pytest.fail("HYGEIA_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing (apt-get install chromium)")
        pytest.skip("no /usr/bin/chromium (apt-get install chromium; HYGEIA_REQUIRE_BROWSER=1 makes this fail)")
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(web_hospital: tuple[Store, Settings, dict[str, Any]]) -> Iterator[str]:
    _require_browser()
    store, settings, _ = web_hospital
    port = _free_port()
    config = uvicorn.Config(create_app(store, settings), host="127.0.0.1", port=port, log_level="warning",
                            access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 30 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    sync_playwright = _require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


def _sign_in(browser: Any, server: str, username: str) -> Any:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(f"{server}/web/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", hospital.PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/web/login" not in url)
    return page


def _chart_rendered(page: Any, div_id: str) -> None:
    page.wait_for_selector(f"#{div_id} svg.main-svg", state="attached")
    assert page.locator(f"#{div_id} .scatterlayer .trace, #{div_id} .barlayer .trace").count() > 0


def test_nurse_ward_patient_and_acknowledge(browser: Any, server: str) -> None:
    page = _sign_in(browser, server, "nurse")
    assert "/web/ward" in page.url
    page.wait_for_selector("#live.live")  # the live event stream connected
    row = page.locator(f"tr[data-patient='{hospital.DETERIORATING}']")
    assert row.count() == 1
    assert int(row.get_attribute("data-news2") or -1) >= 7
    # most urgent first: the deteriorating patient sorts above the stable one
    order = page.locator("#ward-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.patient)")
    assert order.index(hospital.DETERIORATING) < order.index(hospital.STABLE)
    page.fill("#ward-filter", "steady")
    assert not row.is_visible()
    page.fill("#ward-filter", "")
    page.screenshot(path=str(ARTIFACTS / "ward.png"), full_page=True)
    row.locator("a").first.click()
    page.wait_for_url(f"**/web/patient/{hospital.DETERIORATING}")
    _chart_rendered(page, "vitals-plot")
    assert "CYP2C19" in page.content()
    page.screenshot(path=str(ARTIFACTS / "patient.png"), full_page=True)
    page.click("nav >> text=Alerts")
    page.wait_for_url("**/web/alerts")
    button = page.locator(f"#open-alerts article:has(a[href='/web/patient/{hospital.DETERIORATING}']) button.ack")
    assert button.count() >= 1
    button.first.click()
    page.wait_for_selector("#open-alerts .chip.acked")
    page.screenshot(path=str(ARTIFACTS / "alerts.png"), full_page=True)
    page.reload()
    assert page.locator(f"#open-alerts a[href='/web/patient/{hospital.DETERIORATING}']").count() == 0
    page.close()


def test_patient_sees_own_record_not_another(browser: Any, server: str,
                                             web_hospital: tuple[Store, Settings, dict[str, Any]]) -> None:
    page = _sign_in(browser, server, "patient")
    assert page.url.endswith("/web/me")
    _chart_rendered(page, "vitals-plot")
    page.screenshot(path=str(ARTIFACTS / "my-record.png"), full_page=True)
    response = page.goto(f"{server}/web/patient/{hospital.DETERIORATING}")
    assert response is not None and response.status == 403
    assert "does not permit" in page.inner_text("#error-message")
    assert "Declining" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "patient-denied.png"), full_page=True)
    page.close()


def test_governance_opens_a_model_card(browser: Any, server: str) -> None:
    page = _sign_in(browser, server, "governance")
    assert page.url.endswith("/web/governance")
    assert "intact" in page.inner_text("#chain")
    page.click("a[href='/web/governance/models/imaging/pneumonia']")
    page.wait_for_url("**/models/imaging/pneumonia")
    _chart_rendered(page, "card-plot-1")
    page.screenshot(path=str(ARTIFACTS / "model-card.png"), full_page=True)
    page.close()

