"""Risk prediction with governance: task definitions, features from a PatientRecord, calibrated
models, a versioned model registry and Findings (FHIR RiskAssessment) per scored patient."""

import os

# OpenMP threads (LightGBM) that spin-wait cost many times the CPU on a shared machine; passive waiting
# only applies when set before the OpenMP runtime is loaded, hence here, before any model import.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
