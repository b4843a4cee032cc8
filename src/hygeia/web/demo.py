"""Building and running the demo hospital: every capability that has landed, on synthetic data.

Steps (each leaves a marker file, so a second run reuses what is built): synthetic hospital → ingest
(FHIR + HL7 v2 ADT) → demo users → pharmacogenomic calls for every patient's VCF (KB from
``HYGEIA_REFERENCE_DIR`` or an imported copy) → NEWS2 scores and alerts for inpatients (the monitor's
record path, with a bedside device bound per inpatient) → operations plans (census forecast, theatre
list, roster, capacity simulation) as plotly figures for the dashboard. Imaging models ship as ONNX
in the package; risk models need a training run that does not fit the demo's budget (say so).

Then :func:`start_services` runs the monitor behind Mosquitto (when installed) with a simulated device
feed. All data are synthetic. Decision support for a clinician, demo only.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hygeia.config import Settings
from hygeia.governance.access import Role, add_user, list_users
from hygeia.records.store import Store

log = logging.getLogger("hygeia.demo")
Say = Callable[[str], None]

DEMO_USERS = [  # username, role; password "<username>-demo-pw" (demo only)
    ("clinician", Role.CLINICIAN), ("nurse", Role.NURSE), ("pharmacist", Role.PHARMACIST),
    ("ops", Role.OPERATIONS), ("researcher", Role.RESEARCHER), ("governance", Role.GOVERNANCE),
    ("admin", Role.ADMIN), ("patient", Role.PATIENT),
]


def demo_password(username: str) -> str:
    return f"{username}-demo-pw"


@dataclass
class Step:
    name: str
    seconds: float
    status: str  # built | reused | skipped
    detail: str = ""


@dataclass
class BuildReport:
    steps: list[Step] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)


def synth_start(today: date | None = None, days: int = 365) -> date:
    """The simulated year ends today (midnight UTC), so the synthetic 'now' is the wall clock's day."""
    return (today or datetime.now(UTC).date()) - timedelta(days=days)


class Builder:
    """Runs the demo steps against ``store`` under ``root`` (markers in ``root``)."""

    def __init__(self, store: Store, settings: Settings, root: Path, patients: int, seed: int,
                 say: Say = print, progress: Callable[[str, int], Callable[[], None]] | None = None) -> None:
        self.store, self.settings, self.root = store, settings, root
        self.patients, self.seed = patients, seed
        self.say = say
        self.progress = progress
        self.report = BuildReport()
        self.synth = root / "synth"
        self.artefacts = root / "artefacts"
        root.mkdir(parents=True, exist_ok=True)

    def _step(self, name: str, fn: Callable[[], str]) -> None:
        marker = self.root / f".step-{name}-{self.patients}-{self.seed}"
        if marker.exists():
            self.report.steps.append(Step(name, 0.0, "reused", marker.read_text().strip()))
            return
        started = time.perf_counter()
        try:
            detail = fn()
        except StepSkipped as exc:
            self.report.steps.append(Step(name, time.perf_counter() - started, "skipped", str(exc)))
            self.say(f"  {name}: skipped — {exc}")
            return
        except Exception as exc:
            raise DemoError(f"demo step {name!r} failed: {type(exc).__name__}: {exc}") from exc
        seconds = time.perf_counter() - started
        marker.write_text(detail + "\n")
        self.report.steps.append(Step(name, seconds, "built", detail))
        self.say(f"  {name}: {detail} ({seconds:.0f} s)")

    def _tick(self, label: str, total: int) -> Callable[[], None]:
        return self.progress(label, total) if self.progress else (lambda: None)

    def build(self) -> BuildReport:
        for name, fn in (("synth", self.generate), ("ingest", self.ingest), ("users", self.users),
                         ("pgx", self.pgx), ("ews", self.ews), ("risk", self.risk), ("imaging", self.imaging),
                         ("ops", self.operations)):
            self._step(name, fn)
        return self.report

    # -- steps ----------------------------------------------------------------------------------------
    def generate(self) -> str:
        from hygeia.synth import generate

        summary = generate(self.synth, patients=self.patients, seed=self.seed, start=synth_start())
        return (f"{summary.patients} patients, {summary.inpatient_stays} stays ({summary.ongoing_stays} ongoing), "
                f"{summary.deteriorating_patients} deteriorating")

    def ingest(self) -> str:
        from hygeia.records.ingest import discover, ingest_paths

        files = discover([p for p in (self.synth / "fhir", self.synth / "adt") if p.exists()])
        tick = self._tick("ingesting", len(files))
        report = ingest_paths(self.store, files, progress=lambda _p: tick())
        return f"{report.resources} resources from {report.units} files"

    def users(self) -> str:
        existing = {u.username for u in list_users(self.store)}
        first = self.store.patient_ids()[0]
        made = 0
        for username, role in DEMO_USERS:
            if username not in existing:
                add_user(self.store, username, demo_password(username), [role.value],
                         patient_id=first if role == Role.PATIENT else None)
                made += 1
        return f"{made} demo users (patient user bound to Patient/{first})"

    def pgx(self) -> str:
        from hygeia.pgx import load_kb, match_vcf, phenotype_sample, read_outside_calls
        from hygeia.pgx.cds import fhir_observations
        from hygeia.pgx.kb import default_kb_dir

        root = default_kb_dir()
        if not root.is_dir():
            raise StepSkipped(f"no pharmacogenomic knowledge base at {root} (set HYGEIA_REFERENCE_DIR or run "
                              "`hygeia pgx kb import`)")
        kb = load_kb(root)
        vcfs = sorted((self.synth / "vcf").glob("*.vcf"))
        known = set(self.store.patient_ids())
        issued = datetime.now(UTC).isoformat(timespec="seconds")
        batch: list[dict[str, Any]] = []
        called = 0
        tick = self._tick("pharmacogenomics", len(vcfs))
        for vcf in vcfs:
            pid = vcf.name.removesuffix(".vcf")
            tick()
            if pid not in known:
                continue
            outside = vcf.with_name(f"{pid}.outside.tsv")
            results = match_vcf(kb, vcf, outside=read_outside_calls(outside) if outside.exists() else None)
            batch.extend(fhir_observations(pid, phenotype_sample(kb, results[0]), kb, issued=issued))
            called += 1
            if len(batch) >= 4000:
                self.store.write(batch)
                batch = []
        if batch:
            self.store.write(batch)
        return f"{called} patients genotyped (KB {', '.join(f'{k} {v}' for k, v in list(kb.versions.items())[:2])})"

    def ews(self) -> str:
        from hygeia.ews.devices import Binding
        from hygeia.ews.monitor import Monitor, bind_device, load_registry, register_device
        from hygeia.web.clinical import current_stays, load_places

        now = datetime.now(UTC)
        stays = current_stays(self.store, load_places(self.store))
        bound = {(b.device_id, b.patient_id) for b in load_registry(self.store).bindings}
        for stay in stays:
            device = f"bed-{stay.patient_id[:8]}"
            if (device, stay.patient_id) in bound:  # a re-run of this step
                continue
            register_device(self.store, device, _device_key(self.root, device))
            bind_device(self.store, Binding(device, stay.patient_id, now - timedelta(days=2), None), ward=stay.ward)
        monitor = Monitor(self.store)
        raised = 0
        for stay in stays:
            # the last 24 h of the stay's vital signs (the synthetic record ends at its own "now")
            _, found = self.store.search("Observation", patient=stay.patient_id,
                                         date_from=(stay.admitted or now) - timedelta(days=1), count=5000)
            vitals = sorted((o for o in found if _is_vital(o)), key=lambda o: str(o.get("effectiveDateTime", "")))
            if not vitals:
                continue
            newest = datetime.fromisoformat(str(vitals[-1]["effectiveDateTime"]))
            by_time: dict[str, list[dict[str, Any]]] = {}
            for o in vitals:
                if _within(o, newest - timedelta(hours=24), newest):
                    by_time.setdefault(str(o.get("effectiveDateTime")), []).append(o)
            for when, group in by_time.items():
                outcome = monitor.process(stay.patient_id, group, now=datetime.fromisoformat(when))
                raised += len(outcome.alerts)
        return f"{len(stays)} inpatients scored, {raised} alerts raised, {len(stays)} bedside devices bound"

    def risk(self) -> str:
        """Score inpatients with every registered risk model that reads PatientRecords (none ships: training
        on PhysioNet 2012 takes longer than the demo's budget — `hygeia risk train`)."""
        from hygeia.records import PatientRecord
        from hygeia.risk.scoring import score_record
        from hygeia.risk.training import RegistryError, load
        from hygeia.web.clinical import current_stays, load_places

        registry = self.settings.data_dir / "models"
        folders = sorted(p.parent for p in registry.glob("**/metadata.json")) if registry.is_dir() else []
        if not folders:
            raise StepSkipped(f"no risk model registered under {registry} (train one with `hygeia risk train "
                              f"icu-mortality … --out {registry}/icu`; it takes more than the demo's 5 minutes)")
        stays = current_stays(self.store, load_places(self.store))
        written = 0
        for folder in folders:
            try:
                trained = load(folder)
            except RegistryError as exc:
                self.say(f"  risk: {folder.name} not loaded: {exc}")
                continue
            for stay in stays:
                try:
                    finding = score_record(trained, PatientRecord.load(self.store, stay.patient_id))
                except (ValueError, KeyError, AttributeError, NotImplementedError):
                    continue  # a task that cannot read PatientRecords (e.g. readmission-30d)
                self.store.write(finding.resources)
                written += 1
        return f"{written} risk scores for {len(stays)} inpatients from {len(folders)} model(s)"

    def imaging(self) -> str:
        from hygeia.imaging import ImageModel

        names = sorted(p.name for p in (Path(__file__).resolve().parent.parent / "imaging" / "models").iterdir()
                       if (p / "model.onnx").is_file())
        for name in names:
            ImageModel.load(name)  # checks that each shipped ONNX model loads in ONNX Runtime
        return f"{len(names)} shipped ONNX imaging models load ({', '.join(names)}); no images in the synthetic record"

    def operations(self) -> str:
        self.artefacts.mkdir(parents=True, exist_ok=True)
        made = []
        for name, fn in (("forecast", self._forecast), ("theatre", self._theatre), ("roster", self._roster),
                         ("simulation", self._simulation), ("staff", self._staff)):
            started = time.perf_counter()
            try:
                fn()
                made.append(f"{name} {time.perf_counter() - started:.0f} s")
            except Exception as exc:  # each plan is optional in the demo: report, carry on
                made.append(f"{name} unavailable ({type(exc).__name__}: {str(exc)[:80]})")
        return "; ".join(made)

    # -- operations plans ------------------------------------------------------------------------------
    def _save(self, name: str, fig: Any, note: str) -> None:
        (self.artefacts / f"{name}.json").write_text(fig.to_json())
        (self.artefacts / f"{name}.meta.json").write_text(json.dumps({"note": note, "made": datetime.now(UTC)
                                                                      .isoformat(timespec="seconds")}))

    def _forecast(self) -> None:
        from hygeia.operations.forecast import daily_series, encounters_from_store, forecast_series
        from hygeia.operations.plots import forecast_fan

        frame = encounters_from_store(self.store)
        series = daily_series(frame, by=None, measure="census")["all"].iloc[:-1]  # today is not complete
        fc = forecast_series(series.rename("hospital census"), horizon=14, windows=2)
        self._save("forecast_fan", forecast_fan(fc), f"Midnight census, whole hospital; model {fc.model} chosen "
                   "by rolling-origin MASE (hygeia.operations.forecast).")

    def _theatre(self) -> None:
        from hygeia.operations.plots import theatre_gantt
        from hygeia.operations.theatre.model import parse_instance, parse_solution

        folder = self.settings.reference("ops", "theatre")
        inst = parse_instance(json.loads((folder / "toy.json").read_text()), "toy")
        sol = parse_solution(json.loads((folder / "toy_solution.json").read_text()), inst)
        self._save("theatre_gantt", theatre_gantt(inst, sol), "IHTC-2024 toy instance with its reference solution "
                   "(hygeia.operations.theatre evaluates and solves such lists).")

    def _roster(self) -> None:
        from hygeia.operations.plots import roster_grid
        from hygeia.operations.roster import format_roster, parse_curtois, solve_curtois

        path = self.settings.reference("ops", "rostering", "curtois", "Instance1.txt")
        inst = parse_curtois(path.read_text(), "Instance1")
        plan = solve_curtois(inst, time_limit=5.0, workers=1)
        self._save("roster_grid", roster_grid(format_roster(inst, plan.assignments), "Instance1"),
                   f"Curtois & Qu Instance1 solved with CP-SAT in 5 s: objective {plan.objective:g}.")

    def _simulation(self) -> None:
        from hygeia.operations.plots import delay_curve
        from hygeia.operations.simulation import SimulationConfig, parse_stroke_parameters, simulate_stroke_pathway

        path = self.settings.reference("ops", "beds", "monks2016_stroke", "parameters.json")
        params = parse_stroke_parameters(json.loads(path.read_text()))
        result = simulate_stroke_pathway(params, SimulationConfig(warm_up=365, collection=3 * 365, replications=10))
        unit = next(iter(result))
        curve = {b: result[unit].prob_delay(b) for b in range(6, 17)}
        published = {9: 0.18, 10: 0.13, 11: 0.08, 12: 0.06, 13: 0.03, 14: 0.02}  # Monks et al. 2016, table 2 (ASU)
        self._save("delay_curve", delay_curve(curve, published if unit.lower() == "asu" else None, unit=unit),
                   "Monks et al. (2016) stroke pathway, 10 replications (demo length; 150 for the published "
                   "figures, see docs/operations.md).")

    def _staff(self) -> None:
        staff = json.loads((self.synth / "operations" / "staff.json").read_text())
        people = staff.get("staff", staff) if isinstance(staff, dict) else staff
        counts: dict[tuple[str, str], int] = {}
        for person in people if isinstance(people, list) else []:
            ward = str(person.get("home_ward") or person.get("ward") or "—")
            role = str(person.get("grade") or person.get("role") or person.get("band") or "staff")
            counts[(ward, role)] = counts.get((ward, role), 0) + 1
        wards = sorted({w for w, _ in counts})
        roles = sorted({r for _, r in counts})
        rows = [{"ward": w, **{r: counts.get((w, r), 0) for r in roles}} for w in wards]
        (self.artefacts / "ward_staff.json").write_text(json.dumps({"rows": rows}))


class DemoError(RuntimeError):
    """A demo step failed (the message names the step and the cause)."""


class StepSkipped(Exception):
    """A demo step that cannot run here (its message says why and how to enable it)."""


def _device_key(root: Path, device: str) -> bytes:
    keys = root / "device-keys.json"
    known = json.loads(keys.read_text()) if keys.exists() else {}
    if device not in known:
        known[device] = secrets.token_hex(32)
        keys.write_text(json.dumps(known))
        os.chmod(keys, 0o600)
    return bytes.fromhex(known[device])


def _is_vital(obs: dict[str, Any]) -> bool:
    return any(c.get("code") == "vital-signs" for cat in obs.get("category") or [] for c in cat.get("coding") or [])


def _within(obs: dict[str, Any], start: datetime, end: datetime) -> bool:
    when = obs.get("effectiveDateTime")
    if not isinstance(when, str):
        return False
    t = datetime.fromisoformat(when)
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return start <= t <= end


# ------------------------------------------------------------------------------------------------------
# the running demo: monitor behind Mosquitto, and a simulated device feed


@dataclass
class Services:
    stop: threading.Event
    threads: list[threading.Thread]
    broker: Any = None
    description: str = ""

    def close(self) -> None:
        """Stop the feed and the monitor, then the broker (idempotent)."""
        self.stop.set()
        try:
            for t in self.threads:
                t.join(timeout=3)
        finally:
            if self.broker is not None:
                self.broker.stop()
                self.broker = None


def start_services(store: Store, root: Path, period_s: float = 15.0) -> Services:
    """Monitor + device feed when Mosquitto is installed (``/usr/sbin/mosquitto`` or on PATH); else nothing."""
    from hygeia.ews.broker import LocalBroker, find_mosquitto

    stop = threading.Event()
    if find_mosquitto() is None:
        return Services(stop, [], None, "Mosquitto not installed: no live device feed (apt-get install mosquitto)")
    from hygeia.ews.monitor import Monitor
    from hygeia.ews.service import MqttMonitor

    broker = LocalBroker(root / "mosquitto")
    broker.start()
    mqtt_monitor = MqttMonitor(Monitor(store), port=broker.port, client_id="hygeia-demo-monitor")
    runner = threading.Thread(target=mqtt_monitor.run, name="hygeia-monitor", daemon=True)
    runner.start()

    def stopper() -> None:
        stop.wait()
        mqtt_monitor.stop()

    feed = threading.Thread(target=device_feed, args=(store, root, broker.port, stop, period_s), name="device-feed",
                            daemon=True)
    feed.start()
    watcher = threading.Thread(target=stopper, daemon=True)
    watcher.start()
    return Services(stop, [feed, watcher, runner], broker,
                    f"monitor subscribed to Mosquitto on 127.0.0.1:{broker.port}; simulated bedside devices "
                    f"publish every {period_s:.0f} s")


def device_feed(store: Store, root: Path, port: int, stop: threading.Event, period_s: float = 15.0) -> None:
    """Each bound bedside device publishes signed vital signs; one patient in five drifts towards
    deterioration so that alerts appear live on the ward."""
    import paho.mqtt.client as mqtt

    from hygeia.ews.devices import sign
    from hygeia.ews.monitor import load_registry

    keys = json.loads((root / "device-keys.json").read_text()) if (root / "device-keys.json").exists() else {}
    registry = load_registry(store)
    bindings = [b for b in registry.bindings if b.device_id in keys and b.end is None]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="hygeia-demo-devices")
    client.connect("127.0.0.1", port)
    client.loop_start()
    rng = random.Random(7)
    drift = {b.patient_id: (i % 3 == 0) for i, b in enumerate(bindings)}
    try:
        while not stop.wait(period_s):
            # drifting patients follow a 20-minute cycle: 10 minutes of deterioration, then recovery
            phase = (time.time() % 1200) / 1200
            severity = round(20 * (2 * phase if phase < 0.5 else 2 - 2 * phase))
            for b in bindings:
                worse = severity if drift[b.patient_id] else 0
                readings = [
                    {"parameter": "rr", "value": 16 + worse // 3 + rng.randint(-1, 1)},
                    {"parameter": "spo2", "value": max(85, 97 - worse // 4 + rng.randint(-1, 1))},
                    {"parameter": "pulse", "value": 78 + worse * 2 + rng.randint(-3, 3)},
                    {"parameter": "sbp", "value": 124 - worse * 2 + rng.randint(-4, 4)},
                    {"parameter": "temp_c", "value": round(36.9 + worse * 0.06 + rng.uniform(-0.1, 0.1), 1)},
                    {"parameter": "acvpu", "value": "A"}, {"parameter": "on_oxygen", "value": False}]
                msg = {"device_id": b.device_id, "device_time": datetime.now(UTC).isoformat(timespec="seconds"),
                       "nonce": secrets.token_hex(8), "readings": readings}
                signed = sign(msg, bytes.fromhex(keys[b.device_id]))
                client.publish(f"hygeia/devices/{b.device_id}/vitals", json.dumps(signed), qos=1)
    finally:
        client.loop_stop()
        client.disconnect()
