"""Building and running the demo hospital: every capability that has landed, on synthetic data.

Steps (each leaves a marker file, so a second run reuses what is built): synthetic hospital → ingest
(FHIR + HL7 v2 ADT) → demo users → pharmacogenomic calls for every patient's VCF (KB from
``HYGEIA_REFERENCE_DIR`` or an imported copy) → NEWS2 scores and alerts for inpatients (the monitor's
record path, with a bedside device bound per inpatient) → operations plans (census forecast, theatre
list, roster, capacity simulation) as plotly figures for the dashboard. Imaging models ship as ONNX
in the package; the deterioration risk model is trained on the demo's own records (synthetic: it shows
the pipeline, not real-world performance).

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
    cpu_seconds: float = 0.0  # this process's CPU time (all threads): the figure that load does not inflate


@dataclass
class BuildReport:
    steps: list[Step] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.steps)

    @property
    def cpu_seconds(self) -> float:
        return sum(s.cpu_seconds for s in self.steps)


def synth_start(today: date | None = None, days: int = 365) -> date:
    """The simulated year ends today (midnight UTC), so the synthetic 'now' is the wall clock's day."""
    return (today or datetime.now(UTC).date()) - timedelta(days=days)


def synth_end(at: datetime | None = None) -> datetime:
    """The demo's synthetic 'now': the wall clock's hour (naive UTC), so the inpatients' last vital signs
    are minutes to hours old when the dashboard opens, not up to a day."""
    return (at or datetime.now(UTC)).astimezone(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)


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
        self._forecast_result: Any = None
        root.mkdir(parents=True, exist_ok=True)

    def _step(self, name: str, fn: Callable[[], str]) -> None:
        marker = self.root / f".step-{name}-{self.patients}-{self.seed}"
        if marker.exists():
            self.report.steps.append(Step(name, 0.0, "reused", marker.read_text().strip()))
            return
        started, cpu = time.perf_counter(), time.process_time()
        try:
            detail = fn()
        except StepSkipped as exc:
            self.report.steps.append(Step(name, time.perf_counter() - started, "skipped", str(exc),
                                          time.process_time() - cpu))
            self.say(f"  {name}: skipped — {exc}")
            return
        except Exception as exc:
            raise DemoError(f"demo step {name!r} failed: {type(exc).__name__}: {exc}") from exc
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        marker.write_text(detail + "\n")
        self.report.steps.append(Step(name, seconds, "built", detail, cpu))
        self.say(f"  {name}: {detail} ({seconds:.0f} s, CPU {cpu:.0f} s)")

    def _tick(self, label: str, total: int) -> Callable[[], None]:
        return self.progress(label, total) if self.progress else (lambda: None)

    def build(self) -> BuildReport:
        for name, fn in (("synth", self.generate), ("ingest", self.ingest), ("users", self.users),
                         ("pgx", self.pgx), ("ews", self.ews), ("risk-models", self.risk_models),
                         ("imaging", self.imaging), ("ops", self.operations)):
            self._step(name, fn)
        return self.report

    # -- steps ----------------------------------------------------------------------------------------
    def generate(self) -> str:
        from hygeia.synth import generate

        summary = generate(self.synth, patients=self.patients, seed=self.seed, end=synth_end())
        return (f"{summary.patients} patients, {summary.inpatient_stays} stays ({summary.ongoing_stays} in a bed now), "
                f"{summary.deteriorating_patients} deteriorating")

    def ingest(self) -> str:
        """FHIR bundles one patient per transaction; then the HL7 v2 ADT feed (one message per file, in time
        order) as one stream — a single transaction instead of one per message (~770 commits)."""
        from hygeia.records.ingest import discover, ingest_paths

        bundles = discover([self.synth / "fhir"]) if (self.synth / "fhir").exists() else []
        adt = sorted((self.synth / "adt").glob("*.hl7")) if (self.synth / "adt").exists() else []
        tick = self._tick("ingesting", len(bundles) + 1)
        report = ingest_paths(self.store, bundles, progress=lambda _p: tick())
        resources, units = report.resources, report.units
        if adt:
            feed = self.root / "adt-feed.hl7"  # file names sort in time order (hygeia.synth.adt)
            feed.write_text("".join(f.read_text("ascii") for f in adt), "ascii")
            adt_report = ingest_paths(self.store, [feed])
            resources += adt_report.resources
        tick()
        return f"{resources} resources from {units} FHIR bundles and {len(adt)} HL7 v2 ADT messages"

    def users(self) -> str:
        existing = {u.username for u in list_users(self.store)}
        own = self.patient_login()
        made = 0
        for username, role in DEMO_USERS:
            if username not in existing:
                add_user(self.store, username, demo_password(username), [role.value],
                         patient_id=own if role == Role.PATIENT else None)
                made += 1
        return f"{made} demo users (patient user bound to Patient/{own}, an inpatient)"

    def patient_login(self) -> str:
        """The patient user's own record: an inpatient now (vital signs, results), preferring one prescribed a
        drug with pharmacogenomic guidance (so the plain-language PGx section has something to say);
        deterministic (lowest id)."""
        from hygeia.web.clinical import current_stays, load_places

        inpatients = sorted({s.patient_id for s in current_stays(self.store, load_places(self.store))})
        truth_file = self.synth / "truth" / "pgx.json"
        truth = json.loads(truth_file.read_text()).get("patients", {}) if truth_file.exists() else {}
        with_pgx_drug = [pid for pid in inpatients if (truth.get(pid) or {}).get("pgx_drugs_prescribed")]
        chosen = (with_pgx_drug or inpatients or self.store.patient_ids())[:1]
        if not chosen:
            raise DemoError("no patients in the store: the ingest step wrote nothing")
        return chosen[0]

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
        from hygeia.ews.monitor import open_alerts

        # ingest already scored each patient's latest vitals (and raised what they called for)
        return (f"{len(stays)} inpatients scored over their last 24 h, {raised} further alerts raised, "
                f"{len(open_alerts(self.store))} open; {len(stays)} bedside devices bound")

    # -- step "risk models" ------------------------------------------------------------------------------
    def risk_models(self) -> str:
        """Train and register the deterioration model on the demo hospital's own records (hygeia.risk.demo:
        quick settings, full governance outputs) and store a RiskAssessment for every current ward inpatient,
        which the ward's and patient page's risk columns read."""
        from hygeia.risk.demo import train_demo_models

        done = train_demo_models(self.store, self.settings.data_dir / "models", progress=self.say)
        return done.summary()

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

        census = self.synth / "operations" / "census.csv"
        if census.exists():  # the whole hospital's history (patients without records as counts: hygeia.synth)
            import pandas as pd

            table = pd.read_csv(census, parse_dates=["date"]).set_index("date")
            series = table["census"].astype(float)
            source = "whole hospital (synthetic census history, operations/census.csv)"
        else:
            frame = encounters_from_store(self.store)
            series = daily_series(frame, by=None, measure="census")["all"].iloc[:-1]  # today is not complete
            source = "patients with records"
        fc = forecast_series(series.rename("hospital census"), horizon=21, windows=2)
        self._forecast_result = fc
        self._save("forecast_fan", forecast_fan(fc), f"Midnight census, {source}; model {fc.model} chosen "
                   "by rolling-origin MASE (hygeia.operations.forecast).")

    def _theatre(self) -> None:
        """The synthetic hospital's elective cases planned over the week from next Monday (IHTC-2024 model:
        theatres, surgeons, surgical-ward bays with the patients in them now, nurses by band)."""
        import csv

        from hygeia.operations.plots import theatre_gantt
        from hygeia.operations.theatre import parse_instance, parse_solution
        from hygeia.operations.theatre.solve import solve_ihtc
        from hygeia.web.demo_ops import next_monday, theatre_json

        ops = self.synth / "operations"
        outcomes = list(csv.DictReader((self.synth / "truth" / "outcomes.csv").open(encoding="utf-8")))
        first = next_monday(datetime.now(UTC).date())
        files = {name: json.loads((ops / f"{name}.json").read_text()) for name in ("theatres", "wards", "staff")}
        data = theatre_json(files["theatres"], files["wards"], files["staff"]["staff"], outcomes,
                            self._surgical_occupants(), first)
        name = f"Elective lists, week of {first.isoformat()}"
        inst = parse_instance(data, name)
        plan = solve_ihtc(inst, time_limit=5.0, workers=1, seed=self.seed)
        sol = parse_solution(plan.assignments, inst)
        planned = sum(a is not None for a in sol.admissions)
        self._save("theatre_gantt", theatre_gantt(inst, sol),
                   f"The synthetic hospital's {len(inst.patients)} elective cases of the year as a waiting list, "
                   f"planned over the week from {first:%a %d %b} by hygeia.operations.theatre (IHTC-2024 model, "
                   f"simulated annealing, 5 s): {planned} scheduled, cost {plan.objective:g}"
                   f"{'' if plan.feasible else ' (hard-constraint violations)'}.")

    def _surgical_occupants(self) -> list[dict[str, Any]]:
        """Patients in a surgical ward's bed now (ward code, bay, sex, age, expected remaining days)."""
        from hygeia.web.clinical import current_stays, load_places

        now = datetime.now(UTC)
        out: list[dict[str, Any]] = []
        for stay in current_stays(self.store, load_places(self.store)):
            parts = (stay.bed or "").split()
            if len(parts) != 3 or parts[0] not in ("SURG", "ORTH"):
                continue
            patient = self.store.read("Patient", stay.patient_id)
            born = date.fromisoformat(str(patient.get("birthDate", "1960-01-01"))[:10])
            elapsed = (now - stay.admitted).days if stay.admitted else 0
            out.append({"id": stay.patient_id, "ward": parts[0], "bay": parts[1], "sex": patient.get("gender"),
                        "age": (now.date() - born).days // 365, "remaining_days": max(1, 5 - elapsed)})
        return out

    def _roster(self) -> None:
        """The Acute Medical Unit's nurses rostered over two weeks from next Monday: contracts and requests from
        the staff list, cover from the census forecast (the AMU's share of the hospital's census now)."""
        from hygeia.operations.plots import roster_grid
        from hygeia.operations.roster import format_roster, parse_curtois, solve_curtois
        from hygeia.web.clinical import current_stays, load_places
        from hygeia.web.demo_ops import relabel_roster, roster_text, staff_labels

        if self._forecast_result is None:
            raise StepSkipped("no census forecast to derive the cover from")
        ward, ward_name = "AMU", "Acute Medical Unit"
        stays = current_stays(self.store, load_places(self.store))
        share = sum(s.ward == ward_name for s in stays) / max(1, len(stays))
        first = next_monday_after(self._forecast_result.mean.index[0].date())
        mean = self._forecast_result.mean
        days = [first + timedelta(days=d) for d in range(14)]
        patients = [float(mean.get(pd_timestamp(d), mean.iloc[-1])) * share for d in days]
        staff = json.loads((self.synth / "operations" / "staff.json").read_text())["staff"]
        text = roster_text(staff, ward, patients, self.seed)
        (self.artefacts / "roster_amu.txt").write_text(text)
        inst = parse_curtois(text, f"{ward} nurses")
        plan = solve_curtois(inst, time_limit=5.0, workers=1, seed=self.seed)
        grid = relabel_roster(format_roster(inst, plan.assignments), staff_labels(staff))
        self._save("roster_grid", roster_grid(grid, f"{ward_name} nurses, from {first:%a %d %b}"),
                   f"{len(inst.staff)} AMU nurses (contracts and requests from the synthetic staff list) rostered "
                   f"E/L/N over 14 days with CP-SAT in 5 s (hygeia.operations.roster): objective {plan.objective:g}. "
                   f"Cover: expected AMU patients per day ({min(patients):.0f}–{max(patients):.0f}: the census "
                   f"forecast × the AMU's share now, {share:.0%}) at 1 nurse per 5 patients by day, 8 at night.")

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


def next_monday_after(day: date) -> date:
    """The first Monday on or after ``day`` (rosters start on a Monday: Curtois & Qu's weekends are days 5, 6)."""
    return day + timedelta(days=(7 - day.weekday()) % 7)


def pd_timestamp(day: date) -> Any:
    import pandas as pd

    return pd.Timestamp(day)


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
