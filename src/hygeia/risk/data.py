"""Training tables for the risk tasks, built from the reference data sets, with a feature cache.

Each builder returns a :class:`Dataset`: features (one row per index event), label, groups for the
subgroup audit and the id of each row. PhysioNet 2012 stays go through the FHIR conversion and a
:class:`PatientRecord`, so training uses exactly the feature code that scores a live patient.
Converting thousands of stays takes minutes, so the table is cached as Parquet under
``<data_dir>/cache/risk/`` keyed by a hash of the input files and of the feature code.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from hygeia.records.physionet2012 import stay_bundle
from hygeia.records.record import PatientRecord
from hygeia.records.store import Store
from hygeia.risk import acute
from hygeia.risk import features as features_mod
from hygeia.risk import history as history_mod


class DataError(ValueError):
    """Input data that cannot be used: names the file and what is wrong."""


@dataclass(frozen=True)
class Dataset:
    """X (features), y (0/1), groups (audit attributes), ids (row ids), split_groups (patient ids)."""

    X: pd.DataFrame
    y: np.ndarray
    groups: pd.DataFrame
    ids: pd.Series
    split_groups: pd.Series
    source: str

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def events(self) -> int:
        return int(self.y.sum())

    def subset(self, mask: np.ndarray) -> Dataset:
        return Dataset(self.X[mask].reset_index(drop=True), self.y[mask],
                       self.groups[mask].reset_index(drop=True), self.ids[mask].reset_index(drop=True),
                       self.split_groups[mask].reset_index(drop=True), self.source)


def age_band(age: float) -> str:
    if age != age:
        return "unknown"
    for hi, label in ((45, "<45"), (65, "45-64"), (80, "65-79")):
        if age < hi:
            return label
    return "80+"


def holdout_mask(patient_ids: pd.Series | np.ndarray, fraction: float = 0.2,
                 salt: str = "hygeia-holdout") -> np.ndarray:
    """True for the rows of the held-back patients: a patient is held back when the SHA-256 of
    ``salt:id`` falls in the lowest ``fraction`` of the hash range, so the split is deterministic,
    patient-level (all of a patient's rows on one side) and independent of row order."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    cut = int(fraction * 2**64)
    unique = pd.unique(np.asarray(patient_ids).astype(str))
    held = {pid for pid in unique
            if int.from_bytes(hashlib.sha256(f"{salt}:{pid}".encode()).digest()[:8], "big") < cut}
    return np.asarray([str(pid) in held for pid in np.asarray(patient_ids)], dtype=bool)


def _hash_files(paths: Iterable[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for p in sorted(paths):
        st = p.stat()
        h.update(f"{p.name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def feature_code_version(module: object = features_mod) -> str:
    """A hash of the feature code (``risk.features`` unless another module is named): the cache is invalid
    when it changes."""
    src = inspect.getsource(module)  # type: ignore[arg-type]
    return hashlib.sha256(src.encode()).hexdigest()[:12]


def read_outcomes(path: Path) -> pd.DataFrame:
    """``Outcomes-a.txt``: RecordID and In-hospital_death (plus SAPS-I, SOFA)."""
    try:
        df = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read outcomes file: {exc}") from None
    need = {"RecordID", "In-hospital_death"}
    if not need <= set(df.columns):
        raise DataError(f"{path}: missing column(s) {sorted(need - set(df.columns))}; expected the "
                        "PhysioNet 2012 Outcomes file (RecordID,...,In-hospital_death)")
    bad = ~df["In-hospital_death"].isin([0, 1])
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise DataError(f"{path}, line {line}, field In-hospital_death: expected 0 or 1")
    return df.set_index(df["RecordID"].astype(int).astype(str))


def _stay_row(path: Path) -> dict[str, float | str]:
    record = PatientRecord.from_resources([stay_bundle(path)])
    row: dict[str, float | str] = dict(features_mod.record_features(record))
    row["_id"] = record.demographics().identifiers[0] if record.demographics().identifiers else path.stem
    row["_sex"] = record.demographics().gender or "unknown"
    return row


def _read_cache(cache: Path) -> pd.DataFrame | None:
    if cache.exists():
        return pd.read_parquet(cache)
    if cache.with_suffix(".pkl").exists():
        return pd.read_pickle(cache.with_suffix(".pkl"))
    return None


def physionet2012_features(directory: Path, cache_dir: Path | None = None, limit: int | None = None,
                           n_jobs: int = 1, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """The feature table of the stays in ``directory`` (the first ``limit`` stays by file name, when
    given), cached; index: RecordID. A subset is taken from the cached table of the whole folder when
    that exists, so quick runs after a full one convert nothing. ``n_jobs`` processes convert stays."""
    if not directory.is_dir():
        raise DataError(f"{directory}: not a directory of PhysioNet 2012 stay files (set-a/<RecordID>.txt)")
    every = sorted(p for p in directory.glob("*.txt") if p.is_file())
    files = every[:limit]
    if not files:
        raise DataError(f"{directory}: no *.txt stay files found")
    version = feature_code_version()
    cache = cache_dir / f"physionet2012-{_hash_files(files, version)}.parquet" if cache_dir else None
    if cache is not None:
        table = _read_cache(cache)
        if table is None and len(files) < len(every):
            whole = _read_cache(cache.with_name(f"physionet2012-{_hash_files(every, version)}.parquet"))
            wanted = [p.stem for p in files]
            if whole is not None and set(wanted) <= set(whole.index):
                table = whole.loc[wanted]
        if table is not None:
            return table
    rows: list[dict[str, float | str]] = []
    chunk = 100
    for start in range(0, len(files), chunk):
        batch = files[start:start + chunk]
        if n_jobs > 1:
            from joblib import Parallel, delayed

            rows += Parallel(n_jobs=n_jobs)(delayed(_stay_row)(p) for p in batch)
        else:
            rows += [_stay_row(p) for p in batch]
        if progress:
            progress(min(start + chunk, len(files)), len(files))
    table = pd.DataFrame(rows).set_index("_id")
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        try:
            table.to_parquet(cache)
        except (ImportError, ValueError):  # no Parquet engine: a pickle is a cache too
            table.to_pickle(cache.with_suffix(".pkl"))
    return table


def physionet2012_dataset(table: pd.DataFrame, outcomes: pd.DataFrame, source: str = "") -> Dataset:
    """Join the feature table with the outcomes; stays without an outcome are an error."""
    missing = [i for i in table.index if i not in outcomes.index]
    if missing:
        raise DataError(f"{len(missing)} stay(s) have no row in the outcomes file (first: RecordID {missing[0]})")
    y = outcomes.loc[table.index, "In-hospital_death"].to_numpy(dtype=int)
    X = table.drop(columns=[c for c in table.columns if c.startswith("_")]).reset_index(drop=True)
    groups = pd.DataFrame({"sex": table["_sex"].to_numpy(),
                           "age_band": [age_band(a) for a in table["age"].to_numpy(dtype=float)]})
    ids = pd.Series(table.index.to_numpy(), name="id")
    return Dataset(X.astype(float), y, groups, ids, ids.copy(), source)


def diabetes130_dataset(path: Path) -> Dataset:
    """Diabetes-130 encounters with prior-visit history per patient (see :mod:`hygeia.risk.history`)."""
    try:
        raw = pd.read_csv(path, na_values=["?"], low_memory=False, dtype={"diag_1": str, "diag_2": str, "diag_3": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"{path}: cannot read the Diabetes-130 CSV: {exc}") from None
    X, y, groups = history_mod.diabetes_features(raw, str(path))
    return Dataset(X, y, groups, raw["encounter_id"].astype(str).rename("id"),
                   raw["patient_nbr"].astype(str).rename("patient"), str(path))


# eICU-CRD demo (Pollard et al., Sci Data 2018): APACHE IV physiology (worst values of the first
# 24 h, -1 = not recorded) and APACHE IV predictor variables, used as features; APACHE's own predicted
# hospital mortality is returned beside them for comparison, never used as a feature.
EICU_APS = ("intubated", "vent", "dialysis", "eyes", "motor", "verbal", "meds", "urine", "wbc", "temperature",
            "respiratoryrate", "sodium", "heartrate", "meanbp", "ph", "hematocrit", "creatinine", "albumin", "pao2",
            "pco2", "bun", "glucose", "bilirubin", "fio2")
EICU_PRED = ("aids", "hepaticfailure", "lymphoma", "metastaticcancer", "leukemia", "immunosuppression", "cirrhosis",
             "electivesurgery", "diabetes", "readmit", "ventday1", "admitsource", "visitnumber", "sicuday")
EICU_UNITS = ("Med-Surg ICU", "MICU", "Cardiac ICU", "SICU", "CCU-CTICU", "Neuro ICU", "CSICU", "CTICU")
EICU_PATIENT = ("patientunitstayid", "uniquepid", "gender", "age", "ethnicity", "unittype", "admissionheight",
                "admissionweight", "hospitaldischargestatus")


def _eicu_table(directory: Path, name: str, need: Iterable[str]) -> pd.DataFrame:
    path = directory / f"{name}.csv.gz"
    try:
        df = pd.read_csv(path, low_memory=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"{path}: cannot read the eICU table: {exc}") from None
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}")
    return df


def eicu_dataset(directory: Path) -> tuple[Dataset, np.ndarray]:
    """Hospital mortality of eICU unit stays with APACHE physiology: (dataset, APACHE IVa predicted
    hospital mortality per row, NaN where APACHE gave none). Stays without a discharge status or
    without APACHE physiology are left out."""
    if not directory.is_dir():
        raise DataError(f"{directory}: not the eICU demo folder (patient.csv.gz, apacheApsVar.csv.gz, ...)")
    patient = _eicu_table(directory, "patient", EICU_PATIENT)
    aps = _eicu_table(directory, "apacheApsVar", ("patientunitstayid", *EICU_APS))
    pred = _eicu_table(directory, "apachePredVar", ("patientunitstayid", *EICU_PRED))
    result = _eicu_table(directory, "apachePatientResult", ("patientunitstayid", "apacheversion",
                                                            "predictedhospitalmortality"))
    status = patient["hospitaldischargestatus"]
    bad = status.notna() & ~status.isin(["Alive", "Expired"])
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise DataError(f"{directory / 'patient.csv.gz'}, line {line}, field hospitaldischargestatus: expected "
                        f"Alive or Expired, got {status[bad].iloc[0]!r}")
    df = patient[status.notna()].merge(aps[["patientunitstayid", *EICU_APS]].drop_duplicates("patientunitstayid"),
                                       on="patientunitstayid")
    df = df.merge(pred[["patientunitstayid", *EICU_PRED]].drop_duplicates("patientunitstayid"),
                  on="patientunitstayid", how="left").reset_index(drop=True)
    X = pd.DataFrame(index=df.index)
    for col in (*EICU_APS, *EICU_PRED):
        X[col] = pd.to_numeric(df[col], errors="coerce").where(lambda v: v != -1)
    age = pd.to_numeric(df["age"].replace("> 89", "90"), errors="coerce")
    X["age"] = age
    X["sex_male"] = (df["gender"] == "Male").astype(float).where(df["gender"].isin(["Male", "Female"]))
    X["admission_height"] = pd.to_numeric(df["admissionheight"], errors="coerce")
    X["admission_weight"] = pd.to_numeric(df["admissionweight"], errors="coerce")
    X["gcs_total"] = X["eyes"] + X["motor"] + X["verbal"]
    for unit in EICU_UNITS:
        X[f"unit__{unit}"] = (df["unittype"] == unit).astype(float)
    iva = result[(result["apacheversion"] == "IVa")].drop_duplicates("patientunitstayid")
    apache = pd.to_numeric(df["patientunitstayid"].map(iva.set_index("patientunitstayid")[
        "predictedhospitalmortality"]), errors="coerce").where(lambda v: v >= 0).to_numpy(dtype=float)
    groups = pd.DataFrame({"sex": df["gender"].fillna("unknown").astype(str).str.lower().to_numpy(),
                           "age_band": [age_band(a) for a in age.to_numpy(dtype=float)],
                           "race": df["ethnicity"].fillna("unknown").astype(str).to_numpy()})
    y = (df["hospitaldischargestatus"] == "Expired").to_numpy(dtype=int)
    ids = df["patientunitstayid"].astype(str).rename("id")
    data = Dataset(X.astype(float), y, groups, ids, df["uniquepid"].astype(str).rename("patient"), str(directory))
    return data, apache


__all__ = ["DataError", "Dataset", "age_band", "diabetes130_dataset", "eicu_dataset", "feature_code_version",
           "holdout_mask",
           "physionet2012_dataset", "physionet2012_features", "read_outcomes"]


# -- the FHIR store (synthetic hospital): deterioration and ed-admission ----------------------------------


def store_records(store: Store, patient_ids: Iterable[str] | None = None) -> Iterator[PatientRecord]:
    """The store's patients as PatientRecords (all patients, or ``patient_ids``)."""
    for pid in patient_ids if patient_ids is not None else store.patient_ids():
        yield PatientRecord.load(store, pid)


def timeline_dataset(task_name: str, timelines: Iterable[acute.Timeline], source: str = "") -> Dataset:
    """Rows of ``deterioration`` or ``ed-admission`` from the timelines of patient records; one row per
    index time, grouped by patient for the splits; audit groups sex, age band and race."""
    rows_of = {"deterioration": acute.deterioration_rows, "ed-admission": acute.ed_rows}
    if task_name not in rows_of:
        raise DataError(f"task {task_name!r} is not built from patient records in the store; "
                        f"choose one of {', '.join(rows_of)}")
    feats: list[dict[str, float]] = []
    y: list[int] = []
    meta: list[tuple[str, str, str, str]] = []
    for tl in timelines:
        for t, f, label in rows_of[task_name](tl):
            feats.append(f)
            y.append(label)
            sex = "male" if tl.male == 1.0 else "female" if tl.male == 0.0 else "unknown"
            when = datetime.fromtimestamp(t * 3600.0, UTC).isoformat(timespec="minutes")
            meta.append((tl.patient_id, f"{tl.patient_id}@{when}", sex, tl.race))
    if not feats:
        raise DataError(f"no {task_name} index times in the records (no inpatient stays with vital signs / no "
                        "finished ED visits); load a synthetic hospital with `hygeia synth` and `hygeia ingest`")
    X = pd.DataFrame(feats).astype(float)
    groups = pd.DataFrame({"sex": [m[2] for m in meta],
                           "age_band": [age_band(a) for a in X["age"].to_numpy(dtype=float)],
                           "race": [m[3] for m in meta]})
    return Dataset(X, np.asarray(y, dtype=int), groups, pd.Series([m[1] for m in meta], name="id"),
                   pd.Series([m[0] for m in meta], name="patient"), source)


def store_dataset(task_name: str, store: Store, progress: Callable[[int, int], None] | None = None,
                  source: str = "FHIR store") -> Dataset:
    """``deterioration`` / ``ed-admission`` rows from every patient in the store."""
    ids = store.patient_ids()
    timelines = []
    for k, record in enumerate(store_records(store, ids), start=1):
        timelines.append(acute.timeline(record))
        if progress and (k % 25 == 0 or k == len(ids)):
            progress(k, len(ids))
    return timeline_dataset(task_name, timelines, source)
