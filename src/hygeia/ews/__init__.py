"""Early warning scores: NEWS2 (RCP 2017), qSOFA, SIRS and MEWS — pure and vectorised.

Decision support for a clinician: the scores and the chart's clinical response inform, they do not
replace, clinical judgement.
"""

from hygeia.ews.bands import MISSING, Band, BandTable
from hygeia.ews.findings import Trend, news2_finding, news2_observation, rising_trend, trend_finding
from hygeia.ews.mews import SUBBE_2001, MewsConfig, MewsResult, mews_arrays, score_mews
from hygeia.ews.news2 import (
    PARAMETERS,
    RCP_2017,
    RISKS,
    ClinicalResponse,
    News2Batch,
    News2Result,
    News2Table,
    ParameterScore,
    Reading,
    ResponseLevel,
    acvpu_codes,
    load_news2_table,
    news2_table_from_dict,
    score_news2,
    score_news2_arrays,
)
from hygeia.ews.sepsis import CriteriaResult, QsofaConfig, qsofa_arrays, score_qsofa, score_sirs

__all__ = [
    "MISSING",
    "PARAMETERS",
    "RCP_2017",
    "RISKS",
    "SUBBE_2001",
    "Band",
    "BandTable",
    "ClinicalResponse",
    "CriteriaResult",
    "MewsConfig",
    "MewsResult",
    "News2Batch",
    "News2Result",
    "News2Table",
    "ParameterScore",
    "QsofaConfig",
    "Reading",
    "ResponseLevel",
    "Trend",
    "acvpu_codes",
    "load_news2_table",
    "mews_arrays",
    "news2_finding",
    "news2_observation",
    "news2_table_from_dict",
    "qsofa_arrays",
    "rising_trend",
    "score_mews",
    "score_news2",
    "score_news2_arrays",
    "score_qsofa",
    "score_sirs",
    "trend_finding",
]
