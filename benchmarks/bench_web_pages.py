"""Server time of each dashboard page on the demo hospital (500 synthetic patients).

    python benchmarks/bench_web_pages.py [--repeats 15] [--patients 500]

Builds (once) the same demo hospital as `hygeia demo` in HYGEIA_DATA_DIR/demo — synthetic patients,
ingest, PGx calls, NEWS2 alerts, operations plans — and reuses it on later runs. Each page is requested
in-process (FastAPI TestClient: the figure is server time plus a few ms of test-client overhead);
the first (cold) request and the median/p90 of the rest are printed beside the 300 ms budget, and the
ward page beside the obvious alternative: a PatientRecord per inpatient (vitals(), record_phenotypes()).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi.testclient import TestClient

from hygeia.api import create_app
from hygeia.cli.platform import DEMO_SEED, _demo_settings
from hygeia.records import PatientRecord, Store
from hygeia.web import clinical
from hygeia.web.demo import Builder, demo_password

BUDGET_MS = 300.0


def sign_in(client: TestClient, username: str) -> None:
    client.get("/web/login")
    r = client.post("/web/login", json={"username": username, "password": demo_password(username)},
                    headers={"X-CSRF-Token": client.cookies.get("hygeia_login_csrf") or ""})
    r.raise_for_status()


def timed(client: TestClient, path: str, repeats: int) -> tuple[float, list[float], list[float]]:
    """Cold wall ms, then the warm requests' wall ms and CPU ms (this process, all threads: the server's work
    plus the test client's, which a loaded machine does not inflate)."""
    times, cpu = [], []
    for _ in range(repeats + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        r = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{path}: HTTP {r.status_code}: {r.text[:300]}")
    return times[0], times[1:], cpu[1:]


def naive_ward(store: Store, stays: list[clinical.Stay], now: datetime) -> None:
    from hygeia.pgx import record_phenotypes

    for stay in stays:
        record = PatientRecord.load(store, stay.patient_id)
        rows = clinical.vital_rows(record.vitals())
        clinical.news2_series(rows)
        clinical.news2_now(rows, now)
        record_phenotypes(record)
        record.demographics()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--patients", type=int, default=500)
    args = parser.parse_args()
    settings = _demo_settings()
    store = Store(settings.resolved_database_url())
    store.init()
    root = settings.data_dir / "demo"
    started = time.perf_counter()
    report = Builder(store, settings, root, args.patients, DEMO_SEED, say=print).build()
    print(f"demo hospital: {', '.join(f'{s.name} {s.status}' for s in report.steps)} "
          f"({time.perf_counter() - started:.0f} s); {store.counts().get('Patient', 0)} patients")
    app = create_app(store, settings, demo=True)
    app.state.web_artefacts = root / "artefacts"
    places = clinical.load_places(store)
    stays = clinical.current_stays(store, places)
    inpatient = stays[0].patient_id if stays else store.patient_ids()[0]
    shown_ward = max({s.ward for s in stays}, key=lambda w: sum(s.ward == w for s in stays)) if stays else ""
    busiest = max(store.patient_ids()[:100], key=lambda p: len(store.observations(p)))
    rows: list[tuple[str, str, float, float, float, float]] = []
    for role, paths in (
            ("nurse", ["/web/ward", "/web/ward/table", f"/web/ward?ward={quote(shown_ward)}",
                       f"/web/patient/{inpatient}", f"/web/patient/{busiest}", "/web/alerts"]),
            ("ops", ["/web/ops"]),
            ("governance", ["/web/governance", "/web/governance/models/imaging/pneumonia"]),
            ("patient", ["/web/me"])):
        with TestClient(app) as client:
            sign_in(client, role)
            for path in paths:
                cold, warm, cpu = timed(client, path, args.repeats)
                p90 = sorted(warm)[int(0.9 * (len(warm) - 1))]
                label = (path.replace(inpatient, "<inpatient>").replace(busiest, "<busiest record>")
                         .replace(quote(shown_ward), "<fullest ward>"))
                rows.append((role, label, cold, statistics.median(warm), p90, statistics.median(cpu)))
    naive = []
    now = datetime.now(UTC)
    for _ in range(5):
        t = time.perf_counter()
        naive_ward(store, stays, now)
        naive.append((time.perf_counter() - t) * 1000)
    batched = []
    for _ in range(5):
        t = time.perf_counter()
        clinical.ward_rows(store, stays, now)
        batched.append((time.perf_counter() - t) * 1000)
    print(f"\nload average {' / '.join(f'{x:.1f}' for x in os.getloadavg())}; {len(stays)} inpatients; "
          f"{args.repeats} warm repeats per page\n")
    print(f"{'role':<11}{'page':<44}{'cold ms':>9}{'median ms':>11}{'p90 ms':>9}{'CPU ms':>9}{'median/budget':>15}"
          f"{'CPU/budget':>12}")
    for role, path, cold, median, p90, cpu_ms in rows:
        print(f"{role:<11}{path:<44}{cold:>9.1f}{median:>11.1f}{p90:>9.1f}{cpu_ms:>9.1f}{median / BUDGET_MS:>14.2f}x"
              f"{cpu_ms / BUDGET_MS:>11.2f}x")
    print(f"\nward rows, batched queries (hygeia.web.clinical.ward_rows): median {statistics.median(batched):.1f} ms")
    print(f"ward rows, one PatientRecord per inpatient (obvious alternative): median {statistics.median(naive):.1f} ms"
          f"  -> ratio {statistics.median(naive) / statistics.median(batched):.1f}x")
    worst, worst_cpu = max(r[3] for r in rows), max(r[5] for r in rows)
    verdict = "within" if worst < BUDGET_MS else "OVER"
    print(f"\nslowest page median {worst:.1f} ms wall ({worst_cpu:.1f} ms CPU at most) vs budget "
          f"{BUDGET_MS:.0f} ms: {verdict}")


if __name__ == "__main__":
    main()
