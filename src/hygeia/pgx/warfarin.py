"""Warfarin dosing: IWPC pharmacogenetic and clinical algorithms, with CPIC 2017 adjustments.

Coefficients: International Warfarin Pharmacogenetics Consortium, Klein TE et al. "Estimation of
the warfarin dose with clinical and pharmacogenetic data." N Engl J Med 2009;360:753–764
(Supplementary Appendix S1e). Both give the square root of the weekly dose (mg); age is in
decades (IWPC uses the decade bucket, i.e. floor(age/10); ``age_as_decades=False`` uses age/10).
CPIC 2017 (Johnson JA et al., Clin Pharmacol Ther 2017;102:397–404) flowchart: in non-African
ancestry, CYP4F2 *3 carriers get a 5–10 % increase; in African ancestry, CYP2C9 *5/*6/*8/*11
carriers get a 15–30 % reduction and rs12777823 A carriers a 10–25 % reduction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hygeia import DECISION_SUPPORT_NOTICE

RACES = ("white", "asian", "black", "mixed")
_PGX_CYP2C9 = {"*1/*1": 0.0, "*1/*2": -0.5211, "*1/*3": -0.9357, "*2/*2": -1.0616, "*2/*3": -1.9206,
               "*3/*3": -2.3312}
_PGX_VKORC1 = {"G/G": 0.0, "A/G": -0.8677, "G/A": -0.8677, "A/A": -1.6974}
_PGX_RACE = {"white": 0.0, "asian": -0.1092, "black": -0.2760, "mixed": -0.1032}
_CLIN_RACE = {"white": 0.0, "asian": -0.6752, "black": 0.4060, "mixed": 0.0443}
SOURCE = "IWPC, Klein et al. NEJM 2009;360:753-64; CPIC warfarin 2017, Johnson et al. CPT 2017;102:397-404"


class WarfarinInputError(ValueError):
    """An input is outside what the algorithm accepts; the message names the field."""


@dataclass(frozen=True)
class WarfarinInput:
    age_years: float
    height_cm: float
    weight_kg: float
    race: str = "mixed"  # white | asian | black | mixed (missing or mixed)
    vkorc1: str | None = None  # rs9923231 (-1639 G>A): "G/G", "A/G", "A/A" or None
    cyp2c9: str | None = None  # "*1/*1" … "*3/*3" or None (unknown)
    enzyme_inducer: bool = False  # carbamazepine, phenytoin, rifampin, rifampicin
    amiodarone: bool = False
    african_ancestry: bool = False
    cyp4f2_star3_carrier: bool | None = None
    cyp2c9_african_variant_carrier: bool | None = None  # *5, *6, *8 or *11
    rs12777823_a_carrier: bool | None = None


@dataclass
class WarfarinDose:
    pharmacogenetic_weekly_mg: float | None
    clinical_weekly_mg: float
    cpic_adjusted_weekly_mg: float | None
    notes: list[str] = field(default_factory=list)
    source: str = SOURCE
    notice: str = DECISION_SUPPORT_NOTICE


def _validate(x: WarfarinInput) -> None:
    for name, value, lo, hi in (("age_years", x.age_years, 18, 110), ("height_cm", x.height_cm, 100, 230),
                                ("weight_kg", x.weight_kg, 25, 300)):
        if not (lo <= value <= hi) or math.isnan(value):
            raise WarfarinInputError(f"{name}={value} outside the range the IWPC cohort covers ({lo}–{hi})")
    if x.race not in RACES:
        raise WarfarinInputError(f"race={x.race!r}; expected one of {', '.join(RACES)}")
    if x.vkorc1 is not None and x.vkorc1 not in _PGX_VKORC1:
        raise WarfarinInputError(f"vkorc1={x.vkorc1!r}; expected G/G, A/G or A/A (rs9923231)")


def _decades(age: float, as_decades: bool) -> float:
    return float(math.floor(age / 10)) if as_decades else age / 10


def iwpc_clinical(x: WarfarinInput, age_as_decades: bool = True) -> float:
    """IWPC clinical algorithm → weekly dose (mg)."""
    _validate(x)
    s = (4.0376 - 0.2546 * _decades(x.age_years, age_as_decades) + 0.0118 * x.height_cm + 0.0134 * x.weight_kg
         + _CLIN_RACE[x.race] + 1.2799 * x.enzyme_inducer - 0.5695 * x.amiodarone)
    return s * s


def iwpc_pharmacogenetic(x: WarfarinInput, age_as_decades: bool = True) -> float:
    """IWPC pharmacogenetic algorithm → weekly dose (mg). Unknown genotypes use IWPC's 'unknown' terms."""
    _validate(x)
    vk = _PGX_VKORC1[x.vkorc1] if x.vkorc1 is not None else -0.4854
    c9 = x.cyp2c9 if x.cyp2c9 is None else "/".join(sorted(x.cyp2c9.split("/"), key=lambda a: a))
    cyp = _PGX_CYP2C9.get(c9, -0.2188) if c9 is not None else -0.2188
    s = (5.6044 - 0.2614 * _decades(x.age_years, age_as_decades) + 0.0087 * x.height_cm + 0.0128 * x.weight_kg
         + vk + cyp + _PGX_RACE[x.race] + 1.1816 * x.enzyme_inducer - 0.5503 * x.amiodarone)
    return s * s


def warfarin_dose(x: WarfarinInput, age_as_decades: bool = True) -> WarfarinDose:
    """Both IWPC doses plus the CPIC 2017 flowchart adjustment (mid-point of each range)."""
    clinical = iwpc_clinical(x, age_as_decades)
    notes: list[str] = []
    pgx: float | None = None
    if x.vkorc1 is not None or x.cyp2c9 is not None:
        pgx = iwpc_pharmacogenetic(x, age_as_decades)
    adjusted = pgx
    if pgx is not None:
        if x.african_ancestry:
            if x.cyp2c9_african_variant_carrier:
                adjusted = (adjusted or pgx) * (1 - 0.225)
                notes.append("CYP2C9 *5/*6/*8/*11 carrier (African ancestry): reduce 15–30 % (CPIC 2017); 22.5 % used")
            if x.rs12777823_a_carrier:
                adjusted = (adjusted or pgx) * (1 - 0.175)
                notes.append("rs12777823 A carrier (African ancestry): reduce 10–25 % (CPIC 2017); 17.5 % used")
        elif x.cyp4f2_star3_carrier:
            adjusted = pgx * 1.075
            notes.append("CYP4F2 *3 carrier: increase 5–10 % (CPIC 2017); 7.5 % used")
    else:
        notes.append("no VKORC1/CYP2C9 genotype: clinical algorithm only")
    return WarfarinDose(pgx, clinical, adjusted, notes)
