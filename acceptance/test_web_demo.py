"""The demo pipeline against the reference PGx knowledge base: synthetic patients' VCFs are called with
the real KB, and the dashboard shows each patient's planted CYP2C19/CYP2C9 diplotypes, their CPIC/DPWG
recommendations and the drug–gene warnings on their orders."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from pydantic import SecretStr

from hygeia.api import create_app
from hygeia.config import Settings
from hygeia.records import Store
from hygeia.web.demo import Builder, demo_password


def test_demo_pgx_calls_reach_the_dashboard(reference: Callable[..., Path], tmp_path: Path) -> None:
    kb = reference("pgx", "kb")
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'demo.db'}",
                        secret_key=SecretStr("acceptance-secret-not-default"), reference_dir=kb.parent.parent)
    store = Store(settings.resolved_database_url())
    store.init()
    builder = Builder(store, settings, tmp_path / "demo", patients=12, seed=5, say=lambda _m: None)
    builder.generate()
    builder.ingest()
    builder.users()
    assert builder.pgx().startswith("12 patients genotyped")
    truth = json.loads((builder.synth / "truth" / "pgx.json").read_text())["patients"]
    app = create_app(store, settings)
    warned = 0
    with TestClient(app) as client:
        client.get("/web/login")
        r = client.post("/web/login", json={"username": "pharmacist", "password": demo_password("pharmacist")},
                        headers={"X-CSRF-Token": client.cookies.get("hygeia_login_csrf") or ""})
        assert r.status_code == 200
        for pid, planted in truth.items():
            page = client.get(f"/web/patient/{pid}")
            assert page.status_code == 200, pid
            for gene in ("CYP2C19", "CYP2C9"):
                shown = re.search(rf"<td>{gene}</td><td>([^<]*)</td>", page.text)
                assert shown is not None, (pid, gene)
                expected = planted["genes"][gene]["haplotypes"]
                assert sorted(shown.group(1).split("/")) == sorted(expected), (pid, gene, shown.group(1))
            assert "CPIC / DPWG recommendations" in page.text
            orders = page.text.split("<h2>Medications</h2>", 1)[1].split("<h2>Imaging</h2>", 1)[0]
            warned += orders.count('class="finding ')
    assert warned > 0  # some synthetic patients carry a PGx drug with an actionable phenotype
