"""The README's dashboard screenshots, taken from the built demo hospital in a real browser.

    HYGEIA_DATA_DIR=... python -m tests.web.screenshots [--out docs/img]

Serves the demo's store (built by `hygeia demo --build-only`) with uvicorn in a thread, signs in as each
role with Debian's Chromium (Playwright, headless) and saves one PNG per page. Synthetic data only.
"""

from __future__ import annotations

import argparse
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import uvicorn

from hygeia.api import create_app
from hygeia.cli.platform import _demo_settings
from hygeia.records import Store
from hygeia.web.clinical import current_stays, load_places, ward_rows
from hygeia.web.demo import demo_password
from tests.web.test_browser import ARGS, CHROMIUM, _free_port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    settings = _demo_settings()
    store = Store(settings.resolved_database_url())
    root = settings.data_dir / "demo"
    if not (root / "artefacts").is_dir():
        raise SystemExit(f"{root}: no demo build here (run `hygeia demo --build-only` with this HYGEIA_DATA_DIR)")
    app = create_app(store, settings, demo=True)
    app.state.web_artefacts = root / "artefacts"
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    stays = current_stays(store, load_places(store))
    rows = ward_rows(store, stays, datetime.now(UTC))
    sickest = max(rows, key=lambda r: r.news2 if r.news2 is not None else -1).patient_id
    pages = [("nurse", "/web/ward", "ward"), ("nurse", f"/web/patient/{sickest}", "patient"),
             ("nurse", "/web/alerts", "alerts"), ("ops", "/web/ops", "operations"),
             ("governance", "/web/governance", "governance"),
             ("governance", "/web/governance/models/imaging/pneumonia", "model-card"),
             ("patient", "/web/me", "my-record")]
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        for role in dict.fromkeys(r for r, _, _ in pages):
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(f"{base}/web/login")
            page.fill("input[name=username]", role)
            page.fill("input[name=password]", demo_password(role))
            page.set_default_timeout(60_000)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/web/login" not in url)
            for _, path, name in (x for x in pages if x[0] == role):
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(1500)  # plotly draws after load
                page.screenshot(path=str(args.out / f"{name}.png"), full_page=name == "operations")
                print(f"{name}.png: {path}")
            page.close()
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
