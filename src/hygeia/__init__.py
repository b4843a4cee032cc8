"""Hygeia: an open, self-hostable clinical AI platform for precision medicine.

Everything Hygeia outputs is decision support for a clinician, not a diagnosis or an order.
"""

__version__ = "0.1.0"

DECISION_SUPPORT_NOTICE = (
    "Decision support for a qualified clinician; not a substitute for clinical judgement."
)
