"""Risk prediction with governance: task definitions, features from a PatientRecord, calibrated
models, a versioned model registry and Findings (FHIR RiskAssessment) per scored patient."""
