"""Governance around every arrow: access, consent, audit, de-identification, fairness, explanations."""
