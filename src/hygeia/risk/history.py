"""Readmission features for Diabetes-130 encounters: the table's columns plus each patient's history.

Diabetes 130-US hospitals 1999-2008 (Strack B et al., BioMed Res Int 2014;781670; UCI, CC BY 4.0).
The table has no dates; ``encounter_id`` increases with time, so a patient's earlier encounters
(lower ids) are the history known at this encounter: their number, how many of them were followed
by a readmission (``<30``/``>30``, known once the later encounter happened), their lengths of stay
and prior utilisation. No later encounter is used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REQUIRED = ("encounter_id", "patient_nbr", "race", "gender", "age", "admission_type_id",
            "discharge_disposition_id", "admission_source_id", "time_in_hospital", "num_lab_procedures",
            "num_procedures", "num_medications", "number_outpatient", "number_emergency", "number_inpatient",
            "diag_1", "diag_2", "diag_3", "number_diagnoses", "readmitted")
NUMERIC = ("time_in_hospital", "num_lab_procedures", "num_procedures", "num_medications", "number_outpatient",
           "number_emergency", "number_inpatient", "number_diagnoses")
# Fixed vocabularies, so that a held-out file encodes exactly as the training file did.
VOCAB: dict[str, tuple[str, ...]] = {
    "race": ("Caucasian", "AfricanAmerican", "Hispanic", "Asian", "Other"),
    "gender": ("Female", "Male"),
    "payer_code": ("MC", "HM", "SP", "BC", "MD", "CP", "UN", "CM", "OG", "PO", "DM", "CH", "WC", "OT", "MP", "SI",
                   "FR"),
    "medical_specialty": ("InternalMedicine", "Emergency/Trauma", "Family/GeneralPractice", "Cardiology",
                          "Surgery-General", "Nephrology", "Orthopedics", "Orthopedics-Reconstructive",
                          "Radiologist", "Pulmonology", "Psychiatry", "Urology", "ObstetricsandGynecology",
                          "Surgery-Cardiovascular/Thoracic", "Gastroenterology"),
    "max_glu_serum": ("Norm", ">200", ">300"),
    "A1Cresult": ("Norm", ">7", ">8"),
    "change": ("No", "Ch"),
    "diabetesMed": ("No", "Yes"),
}
CODED = ("admission_type_id", "discharge_disposition_id", "admission_source_id")
# Discharge dispositions after which a readmission cannot follow: expired (11, 19-21), hospice (13, 14).
END_OF_LIFE = (11, 13, 14, 19, 20, 21)
DRUGS = ("metformin", "repaglinide", "nateglinide", "chlorpropamide", "glimepiride", "glipizide", "glyburide",
         "pioglitazone", "rosiglitazone", "acarbose", "insulin", "glyburide-metformin")
AGE_MID = {f"[{a}-{a + 10})": a + 5 for a in range(0, 100, 10)}


def _icd9_group(code: object) -> str:
    """ICD-9 chapter-like groups used by Strack et al. 2014 (circulatory, respiratory, diabetes...)."""
    if not isinstance(code, str) or not code:
        return "missing"
    if code[0] in "VE":
        return "external"
    try:
        v = float(code)
    except ValueError:
        return "other"
    if 390 <= v < 460 or int(v) == 785:
        return "circulatory"
    if 460 <= v < 520 or int(v) == 786:
        return "respiratory"
    if 520 <= v < 580 or int(v) == 787:
        return "digestive"
    if int(v) == 250:
        return "diabetes"
    if 800 <= v < 1000:
        return "injury"
    if 710 <= v < 740:
        return "musculoskeletal"
    if 580 <= v < 630 or int(v) == 788:
        return "genitourinary"
    if 140 <= v < 240:
        return "neoplasms"
    return "other"


def icd9_value(code: object) -> float:
    """An ICD-9 code as a number, so that trees can split on code ranges (chapters, blocks): ``428.0``
    → 428.0; supplementary V codes → 1000 + number, E codes → 2000 + number; anything else → NaN."""
    if not isinstance(code, str) or not code:
        return float("nan")
    offset, digits = {"V": (1000.0, code[1:]), "E": (2000.0, code[1:])}.get(code[0].upper(), (0.0, code))
    try:
        return offset + float(digits)
    except ValueError:
        return float("nan")


# Comorbidity groups by ICD-9 code range [low, high), any of the three diagnoses (ranges after the
# Charlson/Elixhauser ICD-9 coding algorithms of Quan H et al., Med Care 2005;43:1130-1139; simplified
# to 3-digit ranges).
COMORBIDITIES: dict[str, tuple[tuple[float, float], ...]] = {
    "heart_failure": ((428, 429),), "ischaemic_heart": ((410, 415),), "arrhythmia": ((427, 428),),
    "chronic_kidney": ((403, 405), (585, 587)), "acute_kidney": ((584, 585),), "copd": ((490, 497),),
    "dementia": ((290, 291), (331, 332)), "cancer": ((140, 196), (200, 209)), "metastatic": ((196, 200),),
    "liver": ((571, 573),), "peripheral_vascular": ((440, 444),), "cerebrovascular": ((430, 439),),
    "psychosis": ((295, 299),), "substance_use": ((303, 306),), "anaemia": ((280, 286),),
    "complication_of_care": ((996, 1000),),
}


def diabetes_features(raw: pd.DataFrame, source: str = "") -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """(X, y, groups) for 30-day readmission; y = readmitted ``<30``. Raises ValueError on bad input."""
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; expected the Diabetes-130 diabetic_data.csv")
    bad = ~raw["readmitted"].isin(["<30", ">30", "NO"])
    if bad.any():
        line = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise ValueError(f"{source}, line {line}, field readmitted: expected '<30', '>30' or 'NO', "
                         f"got {raw['readmitted'].iloc[line - 2]!r}")
    for col in ("encounter_id", "patient_nbr", *NUMERIC):
        values = pd.to_numeric(raw[col], errors="coerce")
        if values.isna().any():
            line = int(np.flatnonzero(values.isna().to_numpy())[0]) + 2
            raise ValueError(f"{source}, line {line}, field {col}: expected a number, got {raw[col].iloc[line - 2]!r}")
    df = raw.reset_index(drop=True)
    order = np.lexsort((df["encounter_id"].to_numpy(), df["patient_nbr"].to_numpy()))
    s = df.iloc[order]
    g = s.groupby("patient_nbr", sort=False)
    lt30 = (s["readmitted"] == "<30").astype(float)
    gt30 = (s["readmitted"] == ">30").astype(float)
    hist = pd.DataFrame(index=s.index)
    hist["prior_encounters"] = g.cumcount().astype(float)
    hist["prior_readmit_lt30"] = lt30.groupby(s["patient_nbr"]).cumsum() - lt30
    hist["prior_readmit_gt30"] = gt30.groupby(s["patient_nbr"]).cumsum() - gt30
    los = s["time_in_hospital"].astype(float)
    hist["prior_days_in_hospital"] = los.groupby(s["patient_nbr"]).cumsum() - los
    inp = s["number_inpatient"].astype(float)
    hist["prior_max_number_inpatient"] = inp.groupby(s["patient_nbr"]).shift(1)
    hist["previous_readmitted_lt30"] = lt30.groupby(s["patient_nbr"]).shift(1)
    hist["previous_los"] = los.groupby(s["patient_nbr"]).shift(1)
    hist["previous_emergency"] = s["number_emergency"].astype(float).groupby(s["patient_nbr"]).shift(1)
    ins = (s["insulin"] != "No").astype(float) if "insulin" in s else pd.Series(0.0, index=s.index)
    hist["prior_insulin_encounters"] = ins.groupby(s["patient_nbr"]).cumsum() - ins
    hist["prior_readmit_rate"] = (hist["prior_readmit_lt30"] + hist["prior_readmit_gt30"]) / hist[
        "prior_encounters"].replace(0, np.nan)
    hist["previous_discharge_disposition"] = pd.to_numeric(s["discharge_disposition_id"], errors="coerce").groupby(
        s["patient_nbr"]).shift(1)
    hist["previous_diag_1__icd9"] = s["diag_1"].map(icd9_value).groupby(s["patient_nbr"]).shift(1)
    hist["inpatient_change"] = inp - hist["prior_max_number_inpatient"]
    hist = hist.sort_index()

    X = pd.DataFrame(index=df.index)
    for col in NUMERIC:
        X[col] = df[col].astype(float)
    X["total_prior_visits"] = X["number_outpatient"] + X["number_emergency"] + X["number_inpatient"]
    X["age_years"] = df["age"].map(AGE_MID).astype(float)
    for col, vocab in VOCAB.items():
        if col in df:
            index = {v: float(i) for i, v in enumerate(vocab)}
            X[f"{col}__code"] = df[col].map(index).astype(float)
            if len(vocab) <= 5:
                for v in vocab[1:]:
                    X[f"{col}__{v}"] = (df[col] == v).astype(float)
    for col in CODED:
        X[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    X["discharged_end_of_life"] = X["discharge_disposition_id"].isin(END_OF_LIFE).astype(float)
    X["discharged_home"] = (X["discharge_disposition_id"] == 1).astype(float)
    for i in (1, 2, 3):
        grp = df[f"diag_{i}"].map(_icd9_group)
        for name in ("circulatory", "respiratory", "diabetes", "injury", "neoplasms", "genitourinary"):
            X[f"diag_{i}__{name}"] = (grp == name).astype(float)
    codes = np.column_stack([df[f"diag_{i}"].map(icd9_value).to_numpy(dtype=float) for i in (1, 2, 3)])
    for i in (1, 2, 3):
        X[f"diag_{i}__icd9"] = codes[:, i - 1]
    for name, ranges in COMORBIDITIES.items():
        hit = np.any([(codes >= lo) & (codes < hi) for lo, hi in ranges], axis=(0, 2))
        X[f"comorbidity__{name}"] = hit.astype(float)
    X["comorbidity__count"] = X[[f"comorbidity__{n}" for n in COMORBIDITIES]].sum(axis=1)
    for drug in DRUGS:
        if drug in df:
            X[f"drug__{drug}"] = df[drug].map({"No": 0.0, "Steady": 1.0, "Up": 2.0, "Down": 3.0}).astype(float)
    X["medications_changed"] = sum(
        (df[d].isin(["Up", "Down"])).astype(float) for d in DRUGS if d in df)
    for col in hist.columns:
        X[col] = hist[col].astype(float)
    y = (df["readmitted"] == "<30").to_numpy(dtype=int)
    groups = pd.DataFrame({
        "race": df["race"].fillna("unknown").astype(str).to_numpy(),
        "sex": df["gender"].astype(str).str.lower().to_numpy(),
        "age_band": df["age"].astype(str).to_numpy(),
    })
    if "payer_code" in df:
        groups["payer"] = df["payer_code"].fillna("unknown").astype(str).to_numpy()
    return X, y, groups


__all__ = ["COMORBIDITIES", "diabetes_features", "icd9_value"]
