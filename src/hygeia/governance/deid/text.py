"""Find protected health information (PHI) in clinical free text and replace it.

Design: regular patterns for the structured identifiers (dates, phones, e-mail, URLs, IPs, IDs,
SSNs, ages over 89, addresses and ZIP codes), dictionaries for names and places (see ``lexicon``),
context rules ("Dr. X", "seen by X", "wife X", "X RN") and an allow-list of clinical words so that
"Parkinson's disease" or "Foley catheter" survive. Names found once by context are then found
everywhere else in the same note. Notes written in capitals are recognised and handled without the
capitalisation cue; there names without titles are found by what follows them ("KWAME ASKING FOR
HER SON", "XIMENA (DTR)", "ADEYEMI'S WIFE", "FRANK SULLIVAN") — see ``_person_cue``. HIPAA Safe
Harbor (45 CFR 164.514(b)(2)) lists the identifier classes; states, countries and years on their own
are kept, as Safe Harbor allows.

The core is pure: ``find_phi`` and ``deidentify`` take a string and return spans or text.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from hygeia.governance.deid.lexicon import Lexicon, load_lexicon

NAME, DATE, AGE, LOCATION, HOSPITAL, ORGANIZATION = "NAME", "DATE", "AGE", "LOCATION", "HOSPITAL", "ORGANIZATION"
PHONE, EMAIL, URL, IP, ID, SSN = "PHONE", "EMAIL", "URL", "IP_ADDRESS", "ID", "SSN"
LABELS = (NAME, DATE, AGE, LOCATION, HOSPITAL, ORGANIZATION, PHONE, EMAIL, URL, IP, ID, SSN)


@dataclass(frozen=True)
class PhiSpan:
    """One piece of PHI: ``text[start:end]`` is of class ``label``, found by rule ``rule``."""

    start: int
    end: int
    label: str
    rule: str = ""


@dataclass(frozen=True)
class DeidConfig:
    """Options of the detector.

    ``unknown_capitalised``: also mark capitalised words found in no dictionary (foreign names,
    company names) in mixed-case text. ``drug_context`` (clinical profile): except where the context
    says a drug or product ("started on Precedex", "Keppra 500 mg"). ``countries``: also mark
    country names (Safe Harbor keeps them). The general profile is
    ``DeidConfig(countries=True, drug_context=False)``.
    """

    unknown_capitalised: bool = True
    countries: bool = False
    drug_context: bool = True


@dataclass(frozen=True)
class DeidResult:
    text: str
    spans: list[PhiSpan] = field(default_factory=list)


# --------------------------------------------------------------------------- patterns
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORD = r"(?:st|nd|rd|th)?"
_TIME = r"(?:[T ,]+\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\.?)?)?"
_I = re.IGNORECASE

_PATTERNS: list[tuple[str, str, re.Pattern[str]]] = [
    (EMAIL, "email", re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")),
    (URL, "url", re.compile(r"\b(?:https?://|www\.)[^\s<>\"']*[^\s<>\"'.,;:!?)]", _I)),
    (
        URL,
        "domain",
        re.compile(
            r"\b[a-z0-9][\w-]*(?:\.[\w-]+)*\.(?:com|org|net|edu|gov|info|biz|io)(?:\.[a-z]{2})?\b(?:/(?:\S*[^\s.,;:!?)])?)?",
            _I,
        ),
    ),
    (IP, "ipv4", re.compile(r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b")),
    (IP, "ipv6", re.compile(r"(?<![\w:])(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{1,4}(?![\w:])", _I)),
    (SSN, "ssn", re.compile(r"\b\d{3}-\d{2}-\d{4}\b")),
    (SSN, "ssn-context", re.compile(r"\bssn[\s:#]*(?P<v>\d{9})\b", _I)),
    (
        DATE,
        "date-numeric",
        re.compile(
            r"(?<![\w/.-])(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2}))"
            + _TIME
            + r"(?![\w/]|\.\d)",
            _I,
        ),
    ),
    (
        DATE,
        "date-text",
        re.compile(
            rf"\b(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
            rf"(?:{_MONTH}\.?\s+\d{{1,2}}{_ORD}(?:,?\s+\d{{4}})?|\d{{1,2}}{_ORD}\s+(?:of\s+)?{_MONTH}\.?(?:,?\s+\d{{4}})?"
            rf"|{_MONTH}\.?,?\s+\d{{4}})\b" + _TIME,
            _I,
        ),
    ),
    (
        DATE,
        "holiday",
        re.compile(
            r"\b(?:christmas(?: eve| day)?|thanksgiving(?: day)?|easter(?: sunday)?|new year'?s(?: eve| day)?"
            r"|halloween|independence day|memorial day|labou?r day|valentine'?s day|xmas)\b",
            _I,
        ),
    ),
    (
        AGE,
        "age-over-89",
        re.compile(
            r"\b(?:9\d|1[01]\d)(?=\s*-?\s*(?:y/?o\b|yo[mf]?\b|y\.o\.|yrs?\b|years?\b|yr\.|year-old|[mf]\b|"
            r"(?:y/o\s*)?(?:male|female|man|woman|gentleman|lady)\b))",
            _I,
        ),
    ),
    (AGE, "age-context", re.compile(r"\bage(?:d|\s*:)?\s*(?P<v>9\d|1[01]\d)\b", _I)),
    (
        AGE,
        "age-words",  # "ninety-one year old", "one hundred and two yo"
        re.compile(
            r"\b(?:ninety(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?"
            r"|(?:one |a )?hundred(?:(?: and)?[- ](?:one|two|three|four|five|six|seven|eight|nine|ten))?)"
            r"(?=[- ](?:years?|yrs?|y/?o)\b)",
            _I,
        ),
    ),
    (
        AGE,
        "age-decade",
        re.compile(
            r"\b(?:in\s+(?:his|her|their|the)\s+(?:early\s+|mid\s+|late\s+)?)(?P<v>(?:9\d|1[01]\d)'?s)\b"
            r"|\b(?P<w>(?:9\d|1[01]\d)'?s)(?=\s*(?:year|y/?o|old|age))",
            _I,
        ),
    ),
    (
        LOCATION,
        "street",
        re.compile(
            r"\b\d{1,6}[a-z]?(?:-\d+)?\s+(?:[A-Za-zÀ-ÿ][\w'.-]*\s+){1,4}"
            r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|"
            r"circle|cir|highway|hwy|parkway|pkwy|square|sq|trail|plaza|alley|row|crescent|close)\b\.?",
            _I,
        ),
    ),
    (
        LOCATION,
        "unit",
        re.compile(r"\b(?:apt|apartment|suite|ste|p\.?o\.? box|psc)\.?\s*#?\s*\d+[a-z]?\b|\b(?:Unit|Box) \d+\b", _I),
    ),
    (LOCATION, "military", re.compile(r"\b[ADF]PO\s+A[AEP]\s+\d{5}\b")),
    (ZIP := "ZIP", "zip-context", re.compile(r"\bzip(?:\s*code)?[\s:#]*(?P<v>\d{5}(?:-\d{4})?)\b", _I)),
    (
        HOSPITAL,
        "hospital",
        re.compile(
            r"\b(?:(?:St\.?|Saint)\s+)?(?:[A-Z][\w'&.-]*\s+){1,4}"
            r"(?i:hospital|hosp\b|medical cent(?:er|re)|med ctr|health cent(?:er|re)"
            r"|health system|clinic|nursing home|nursing facility|rehab(?:ilitation)? (?:center|hospital|facility)"
            r"|infirmary|hospice|healthcare)\b"
        ),
    ),
    (HOSPITAL, "saint", re.compile(r"\b(?i:st\.|saint|mount|mt\.) ?[A-Z][A-Za-z]{2,}(?:'s)?(?:\s+(?i:hospital))?")),
    (
        ORGANIZATION,
        "organization",
        re.compile(
            r"\b(?:[A-Z][\w&'.-]*,?\s+){1,4}(?:Inc|LLC|Ltd|Corp|Corporation|Company|Group|Systems|Technologies"
            r"|Associates|Partners|Bank|University|College|Institute|Foundation|Pharmacy)\b\.?"
        ),
    ),
    (
        ID,
        "id-context",
        re.compile(
            r"\b(?:mrn|mr|acct|account|licen[cs]e|lic|serial|s/n|policy|member|record|device|id|unit no)"
            r"\s*(?:number|no\.?|num|#|id)?\s*[:#]?\s*(?P<v>[a-z]{0,4}-?\d[\w-]{3,})",
            _I,
        ),
    ),
    (ID, "card", re.compile(r"\b(?:\d{4}[ -]){3}\d{1,4}\b")),
    (ID, "long-number", re.compile(r"(?<![\w.,/-])\d{7,}(?![\w.,/-]\d)")),
    (ID, "alnum-id", re.compile(r"\b(?:[a-z0-9]+-)*[a-z0-9]*\d[a-z0-9]*(?:-[a-z0-9]+)*\b", _I)),
    (ID, "hash-id", re.compile(r"#\s?(?P<v>\d[\d-]{3,})\b")),
]

_PHONE = re.compile(
    r"(?<![\w/.+-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?|\d{1,4}[\s.-])(?:\d{1,4}[\s.-]){0,3}\d{2,4}"
    r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w/]|[.-]\d)",
    _I,
)
_PHONE_CONTEXT = re.compile(r"(?:phone|tel|fax|cell|mobile|pager|beeper|contact|call|reach|number|#|:|@)\W{0,3}$", _I)
_PAGER = re.compile(r"\b(?:pager|beeper|pgr|bpr|ext|x)\.?\s?#?\s?(?P<v>\d-\d{4}|\d{3,6})\b", _I)
_PARTIAL_DATE = re.compile(r"(?<![\w/.:#-])(\d{1,2})/(\d{1,2})(?![\w/%]|\.\d)")
_DASH_DATE_WORDS = (
    r"on|since|from|until|till|til|thru|through|dated|date|dob|admitted|adm|discharged|d/c|bm|meeting|due|"
    r"scheduled|planned|appt|appointment|f/u|last|next|starting|started|effective|by|of|"
    # events of a stay that notes date: "EXTUBATED 4-2", "FOLEY CHANGED 9-15", "CXR 3-12"
    r"extubated|intubated|reintubated|extubation|intubation|changed|placed|inserted|removed|pulled|drawn|done|"
    r"sent|stopped|held|resumed|restarted|cultured|transferred|xfer|xferred|d/c'd|dc'd|dcd|admit|admission|"
    r"cxr|ct|mri|echo|cath|ekg|eeg|tte|tee|kub|ercp|egd|surgery|op|hd|dialysis|expired|died|born|before|"
    r"prior|post|until|transfused|seen|visit|called|dated|onset|begun|began|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thu|fri|sat|sun|today"
)
# The rule for dates written with a dash ("BM 3-12"): one of the words, a space, then the date.
_PARTIAL_DATE_DASH = re.compile(rf"\b(?:{_DASH_DATE_WORDS})\s(?P<v>(\d{{1,2}})-(\d{{1,2}}))(?![\w/-])", _I)
# The same rule, fast: find " 3-12" first (rare), then look back for the word (an alternation tried at
# every word boundary cost a tenth of find_phi). Matches cannot overlap, so the results are identical
# (a property test checks it against ``_PARTIAL_DATE_DASH``).
_DASH_NUMBERS = re.compile(r"\s(?P<v>(\d{1,2})-(\d{1,2}))(?![\w/-])", _I)
_DASH_WORD_BEFORE = re.compile(rf"\b(?:{_DASH_DATE_WORDS})\Z", _I)
_DASH_LOOKBACK = 16  # longer than the longest word ("reintubated"), so \b sees the real preceding character
# "ON THE 12TH,", "since the 3rd": a day of the month alone, closed by punctuation or a time.
_ORDINAL_DATE = re.compile(
    r"\b(?:on|since|until|till|by|from|before|after)\s+the\s+(?P<v>(?:[12]?\d|3[01])(?:st|nd|rd|th))"
    r"(?=\s*(?:[.,;:)]|$|at\b|@|of\b))",
    _I | re.M,
)
# Dash dates also stand alone in brackets ("ECHO (3-29)") or before a time ("3-12 AT 1400").
_DASH_DATE_PAREN = re.compile(r"\((\d{1,2})-(\d{1,2})\)")
_DASH_DATE_AT = re.compile(r"-(\d{1,2}) ?(?:at|@) ?\d{3,4}\b", _I)  # the month is looked for before the dash
_DASH_MONTH_BEFORE = re.compile(r"(?<![\w/.:#-])(\d{1,2})\Z")
_SLASH_DATE_RANGE = re.compile(r"(\d{1,2})/(\d{1,2})(?![\w/%]|\.\d)")
# After a range of numbers ("GIVEN 1-2 UNITS", "X 2-3 EPISODES"): counts and units, not a date.
_DASH_NOT_AFTER = re.compile(
    r"\s?(?:x\b|\+|%|/|u\b|units?|mg|mcg|meq|gm?\b|ml|cc|l\b|lpm|liters?|mm|cm|in\b|inch|hours?|hrs?|h\b|"
    r"days?|d\b|wks?|weeks?|months?|mos?\b|min|mins|minutes?|sec|seconds?|times|beats?|bpm|breaths?|words?|"
    r"assist|person|people|stools?|episodes?|loose|bags?|tabs?|puffs?|amps?|doses?|drops?|sprays?|liter|point|"
    r"pvcs?|runs?|strength|sem|murmur|pillows?|flights?|steps?|feet|ft|yards?|blocks?|to\s+\d|or\s+\d|more|"
    r"shift|am\b|pm\b)",
    _I,
)


def _dash_dates(text: str) -> Iterator[re.Match[str]]:
    """Matches of ``_PARTIAL_DATE_DASH``'s date part, as ``_PARTIAL_DATE_DASH.finditer`` would find them."""
    for m in _DASH_NUMBERS.finditer(text):
        start = m.start()
        if _DASH_WORD_BEFORE.search(text[max(0, start - _DASH_LOOKBACK) : start]):
            yield m


# "CT HEAD 11-3", "CT abd/pelvis 9-11", "vanco level 8-16": a test and its site, or a drug level, before a
# dash date. Sites are listed (a free word would take "CT OUTPUT 2-3"); dash-date checks still apply.
_DASH_TEST_BEFORE = re.compile(
    r"(?:\b(?:ct|cxr|cta|mri|mra|kub|us|u/s|echo|xray|x-ray|films?|angio|dopplers?|ultrasound)"
    r"(?:\s(?:head|chest|abd|abdomen|pelvis|abd/pelvis|abdomen/pelvis|c/a/p|a/p|torso|neck|brain|spine|"
    r"c-spine|t-spine|l-spine|sinus|sinuses|le|ue|les|ues|bilat|leg|legs|arm|hip|knee|foot|renal|liver|ruq|"
    r"carotid|carotids|head/neck|w/contrast|w/o|contrast|non-contrast|noncontrast|portable|port|pa/lat)){1,2}"
    r"|\b(?:level|levels|trough|peak))\Z",
    _I,
)
_DASH_TEST_LOOKBACK = 48


def _dash_dates_after_test(text: str) -> Iterator[re.Match[str]]:
    """Dash dates ("3-12") after a test and its site or a drug level, that ``_dash_dates`` does not take."""
    for m in _DASH_NUMBERS.finditer(text):
        start = m.start()
        window = text[max(0, start - _DASH_TEST_LOOKBACK) : start]
        if _DASH_TEST_BEFORE.search(window) and not _DASH_WORD_BEFORE.search(window[-_DASH_LOOKBACK:]):
            yield m


_NOT_DATE_BEFORE = re.compile(
    r"(?:pain|strength|power|motor|murmur|grade|score|scale|gcs|ratio|bp|sbp|map|abg|peep|ps|cpap|bipap|psv|"
    r"x|of|ie|i:e|sem|rate|vent|set|hr|rr|mm|pupils|perrl|perrla|out of|and)\W{0,3}$",
    _I,
)
_NOT_DATE_AFTER = re.compile(
    r"^[^\w.;:!?\n]{0,2}(?:murmur|sem|hsm|strength|power|pain|scale|tab|tabs|ns|nacl|strength|mm|cm|pupils|ratio|"
    r"systolic|diastolic|holosystolic|units?|mg|ml|l|%|score)\b",
    _I,
)
_STREET_NOT = re.compile(
    r"\b(?:with|by|to|and|of|the|in|at|for|from|on|seen|given|mg|mcg|meq|ml|cc|units?|kcl|iv|po|dr\.?\s*$)\b", _I
)
_COMMA_GAP = re.compile(r",?\s{1,2}")
_NAME_GAP = re.compile(r"\.?,?\s{1,2}|-")
_SENTENCE_GAP = re.compile(r"[\n.;:!?]")
_HOSPITAL_HEADS = frozenset(["general", "rehab", "memorial", "regional"])
_PLACE_VERBS = frozenset(
    [
        "lives",
        "live",
        "living",
        "resides",
        "reside",
        "resident",
        "home",
        "moved",
        "visiting",
        "native",
        "born",
        "originally",
        "returned",
        "travelled",
        "traveled",
        "vacationing",
        "vacation",
        "relocated",
        "lived",
        "resided",
        "stays",
        "staying",
    ]
)
# "X from <place>": "PT IS FROM NAHANT", "family from Quincy".
_FROM_PLACE = frozenset(["is", "was", "he", "she", "family", "originally", "wife", "husband", "son", "daughter"])
_MOVE_VERBS = frozenset(
    [
        "transferred",
        "transfer",
        "transfered",
        "admitted",
        "d/c",
        "dc",
        "discharged",
        "sent",
        "returned",
        "going",
        "back",
        "came",
        "arrived",
    ]
)
# A capitalised unknown word here is a drug or product, not a name: "started on Precedex", "Keppra 500 mg".
_DRUG_CONTEXT = frozenset(
    [
        "on",
        "started",
        "start",
        "restarted",
        "held",
        "hold",
        "given",
        "give",
        "d/c",
        "dc",
        "changed",
        "change",
        "increased",
        "decreased",
        "weaned",
        "wean",
        "titrated",
        "continue",
        "continued",
        "received",
        "took",
        "bolus",
        "gtt",
        "to",
        "of",
        "and",
        "or",
    ]
)
# "Isosource held", "Primacor increased": a capitalised unknown word before these is a drug or product.
_DRUG_AFTER = frozenset(
    [
        "held",
        "given",
        "started",
        "stopped",
        "restarted",
        "increased",
        "decreased",
        "weaned",
        "titrated",
        "gtt",
        "drip",
        "infusion",
        "infusing",
        "bolus",
        "dose",
        "level",
        "levels",
        "tabs",
        "nebs",
        "neb",
        "po",
        "iv",
        "sq",
        "prn",
        "changed",
        "discontinued",
    ]
)
_DOSE_AFTER = re.compile(r"\s*(?:\d|gtt|drip|level|dose)", re.I)
_FRACTIONS = {(1, 2), (1, 3), (2, 3), (1, 4), (3, 4), (1, 8), (5, 5), (4, 5), (3, 5)}
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿĀ-ž][A-Za-zÀ-ÖØ-öø-ÿĀ-ž'’-]*")

# --------------------------------------------------------------------------- name context
_TITLES = frozenset(
    [
        "dr",
        "dr.",
        "drs",
        "doctor",
        "mr",
        "mr.",
        "mrs",
        "mrs.",
        "ms",
        "ms.",
        "miss",
        "mx",
        "prof",
        "prof.",
        "professor",
        "rev",
        "rev.",
        "sr.",
        "nurse",
        "attending",
        "resident",
        "intern",
        "fellow",
        "np",
        "rn",
    ]
)
_RELATIONS = frozenset(
    [
        "wife",
        "husband",
        "spouse",
        "son",
        "sons",
        "daughter",
        "daughters",
        "dtr",
        "brother",
        "brothers",
        "bro",
        "sister",
        "sisters",
        "sis",
        "mother",
        "father",
        "mom",
        "dad",
        "mum",
        "friend",
        "niece",
        "nephew",
        "grandson",
        "granddaughter",
        "grandmother",
        "grandfather",
        "grandma",
        "grandpa",
        "aunt",
        "uncle",
        "cousin",
        "partner",
        "fiance",
        "fiancee",
        "girlfriend",
        "boyfriend",
        "neighbor",
        "neighbour",
        "hcp",
        "proxy",
        "guardian",
        "sibling",
        "stepson",
        "stepdaughter",
        "stepmother",
        "stepfather",
        "caregiver",
        "roommate",
    ]
)
_VERBS = frozenset(
    [
        "paged",
        "called",
        "notified",
        "informed",
        "per",
        "named",
        "contact",
        "contacted",
        "d/w",
        "c/w",
        "covering",
        "pt",
        "pt.",
        "patient",
    ]
)
_VERB_PAIRS = frozenset(
    tuple(p.split())
    for p in (
        "seen by",
        "spoke with",
        "spoke to",
        "talked to",
        "talked with",
        "discussed with",
        "met with",
        "evaluated by",
        "examined by",
        "reviewed with",
        "updated by",
        "name is",
        "speaking with",
        "given to",
        "report to",
        "reported to",
        "endorsed to",
        "signed out to",
        "handed off to",
        "d/w",
        "spoke w",
        "talked w",
        "met w",
        "discussed w",
        "reviewed w",
        "meeting w",
        "mtg w",
    )
)
# Roles before a staff name ("SW Deborah", "RT Kim", "case management (Joy)").
_ROLES = frozenset(
    [
        "sw",
        "rt",
        "ot",
        "cm",
        "pcp",
        "pharmacist",
        "chaplain",
        "interpreter",
        "physician",
        "surgeon",
        "manager",
        "management",
        "coordinator",
        "worker",
        "therapist",
        "nutritionist",
        "dietitian",
        "ho",  # house officer
        "md",
        "pa",
    ]
)
# Function words: never names, even after a name context.
_FUNCTION = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "without",
        "into",
        "onto",
        "over",
        "under",
        "about",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "am",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "he",
        "she",
        "him",
        "her",
        "his",
        "hers",
        "they",
        "them",
        "their",
        "we",
        "us",
        "our",
        "you",
        "your",
        "i",
        "me",
        "my",
        "not",
        "no",
        "yes",
        "all",
        "any",
        "some",
        "each",
        "every",
        "both",
        "either",
        "neither",
        "here",
        "there",
        "when",
        "where",
        "who",
        "whom",
        "whose",
        "which",
        "what",
        "why",
        "how",
        "if",
        "then",
        "than",
        "so",
        "too",
        "very",
        "also",
        "just",
        "only",
        "still",
        "again",
        "up",
        "down",
        "out",
        "off",
        "re",
        "per",
        "via",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "might",
        "must",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "called",
        "aware",
        "at",
        "bedside",
        "visited",
        "visiting",
        "updated",
        "stayed",
        "came",
        "left",
        "home",
        "today",
        "tonight",
        "tomorrow",
        "yesterday",
    ]
)
_AFTER_TITLES = frozenset(["md", "m.d.", "rn", "r.n.", "np", "pa-c", "lpn", "cna", "phd", "dds", "md.", "rn."])
# Words that say the word before them is a person: "KWAME ASKING FOR HER SON", "Bronislawa denies pain".
# Used after a sentence start or "pt", where a drug or an abbreviation would take other verbs.
_PERSON_PREDICATES = frozenset(
    [
        "asking",
        "asked",
        "asks",
        "states",
        "stated",
        "stating",
        "says",
        "said",
        "c/o",
        "complains",
        "complaining",
        "complained",
        "denies",
        "denying",
        "reports",
        "reporting",
        "requests",
        "requesting",
        "wants",
        "wanted",
        "wishes",
        "refuses",
        "refusing",
        "agrees",
        "agreed",
        "verbalizes",
        "verbalized",
        "verbalizing",
        "understands",
        "tearful",
        "crying",
        "upset",
        "anxious",
        "slept",
        "sleeping",
        "resting",
        "visited",
        "visiting",
        "called",
        "calling",
        "spoke",
        "spent",
        "stayed",
        "arrived",
        "brought",
        "feels",
        "felt",
        "knows",
        "nodding",
        "mouthing",
        "answering",
        "yelling",
        "screaming",
        "ambulated",
        "ambulating",
        "tolerating",
        "lives",
    ]
)
# "X (DTR)", "X, pt's brother", "X (PT'S SON)": a relation right after says the word before is a name.
_RELATION_AFTER = re.compile(r"\s?(?:\(|,\s?|-\s?)(?:(?:pt|patient|his|her)(?:'s|’s|s)?\s)?(?P<rel>[a-z]+)\b", re.I)
_POSSESSIVE = ("'s", "'S", "’s", "’S")
_UNIT_AFTER = re.compile(
    r",?\s(?:from|in|of)\s(?:the\s)?(?:(?:iv|picc|icu|rapid response|code|social work|case management|transport)\s)?"
    r"(?:team|admitting|pharmacy|radiology|blood bank|lab|dept|department|office|nutrition|respiratory|rt|pt|ot)\b",
    re.I,
)
# "Okonkwo (cardiology fellow)", "KATHY (SW)": a bracket that ends with a role or a title.
_ROLE_AFTER = re.compile(r"\s?\(((?:[a-z]+[ -]){0,2})([a-z]+)\)", re.I)
# "discussed pt with X"
_DISCUSSED_WHAT = frozenset(["pt", "patient", "case", "plan", "this", "situation", "care", "results", "status"])
_STAFF_QUALIFIERS = frozenset(
    [
        "night",
        "day",
        "evening",
        "eve",
        "primary",
        "charge",
        "float",
        "resource",
        "floor",
        "oncoming",
        "covering",
        "admitting",
        "next",
        "previous",
        "prior",
        "unit",
        "team",
        "travel",
        "agency",
        "staff",
        "triage",
        "pool",
        "care",  # "WOUND CARE RN", "CRITICAL CARE RN"
        "wound",
        "ostomy",
        "icu",
        "picu",
        "nicu",
        "clinic",
        "home",
        "dialysis",
        "study",
        "research",
        "student",
    ]
)
_FAMILY_VERBS = frozenset(
    [
        "see",
        "call",
        "update",
        "meet",
        "ask",
        "tell",
        "inform",
        "notify",
        "page",
        "contact",
        "visit",
        "support",
        "teach",
        "reassure",
        "educate",
        "instruct",
        "help",
        "involve",
        "include",
        "encourage",
    ]
)
# "FAMILY (X AND Y)", "ADEYEMI'S FAMILY": group words that say a person is near.
_GROUPS = frozenset(["family", "children", "kids", "parents", "visitors", "siblings", "grandchildren"])
# "SW DEB IN TO SEE FAMILY": these words before "family" are verbs, not surnames.
_BEFORE_FAMILY_NOT = frozenset(["to", "will", "would", "can", "could", "pls", "please", "and", "or", "did", "not"])
_VOWELS = frozenset("aeiouyàáâãäåèéêëìíîïòóôõöùúûüý")


# Word parts of medicine (diseases, procedures, specialties, drug stems): an unknown word that begins or
# ends with one is a clinical word, not a name ("HEPATOLOGY", "PNEUMOBOOTS", "ACYCLOVIR").
_CLINICAL_SUFFIX = re.compile(
    r"(?:ology|ologist|itis|osis|emia|penia|pathy|ectomy|otomy|ostomy|plasty|scopy|graphy|algia|uria|oxia|ous|"
    r"mycin|cillin|floxacin|azole|statin|prazole|parin|xaban|dipine|tidine|setron|azepam|azolam|profen|fungin|"
    r"rudin|troban|vir|sartan|olol|pril|amide|amine|tube|tubes|feed|feeds|line|lines|stick|sticks)$"
)
_CLINICAL_PREFIX = re.compile(
    r"^(?:neuro|cardio|pneumo|hyper|hypo|gastro|hemo|nephro|pulmo|broncho|tachy|brady|postop|preop|periop)"
)


def _namelike(lw: str) -> bool:
    """Spelled like a name rather than an abbreviation or a clinical word: 4+ letters, 2+ vowels, no digit."""
    return (
        len(lw) >= 4
        and sum(c in _VOWELS for c in lw) >= 2
        and lw.replace("'", "").replace("-", "").isalpha()
        and _CLINICAL_SUFFIX.search(lw) is None
        and _CLINICAL_PREFIX.match(lw) is None
    )


# Clinical head nouns: "Parkinson's disease", "Foley catheter", "Jackson-Pratt drain".
_CLINICAL_HEADS = frozenset(
    [
        "disease",
        "syndrome",
        "sign",
        "signs",
        "palsy",
        "criteria",
        "test",
        "tests",
        "drain",
        "catheter",
        "lymphoma",
        "tube",
        "tubes",
        "procedure",
        "maneuver",
        "manoeuvre",
        "score",
        "scale",
        "reflex",
        "phenomenon",
        "classification",
        "disorder",
        "sarcoma",
        "tumor",
        "tumour",
        "fracture",
        "operation",
        "repair",
        "anastomosis",
        "bag",
        "mask",
        "collar",
        "stockings",
        "boots",
        "ulcer",
        "ulcers",
    ]
)

Case = Literal["upper", "mixed"]


@dataclass(slots=True)
class _Tok:
    start: int
    end: int
    word: str
    lower: str
    cap: bool
    sent_start: bool
    kind: str  # strong | weak | unknown | stop
    named: bool  # in a first- or last-name list
    caps: bool  # written in a line of capitals: case tells nothing


def _english(lw: str, lex: Lexicon) -> bool:
    """An ordinary English word, or a regular inflection of one (web2 lists only base forms)."""
    if lw in lex.english:
        return True
    for suffix, repl in (
        ("ies", "y"),
        ("es", ""),
        ("s", ""),
        ("ed", ""),
        ("ed", "e"),
        ("ing", ""),
        ("ing", "e"),
        ("ly", ""),
        ("er", ""),
        ("ers", ""),
    ):
        if lw.endswith(suffix) and len(lw) - len(suffix) >= 3 and lw[: -len(suffix)] + repl in lex.english:
            return True
    return False


def _classify(lw: str, word: str, lex: Lexicon, caps_note: bool) -> str:
    if lw in lex.clinical or lw in _RELATIONS or lw in _FUNCTION:
        return "stop"
    first = lw in lex.first_names
    last = lw in lex.last_names
    if not caps_note and word.isupper() and len(word) <= 4:
        return "weak" if first or last else "stop"  # abbreviations in mixed-case text
    english = _english(lw, lex)
    if first or last:
        if len(lw) <= 2 or lw in lex.ambiguous_first:
            return "weak"
        if english:
            # first names that web2 lists as proper nouns too ("Mary") stay names
            return "strong" if first and lw in lex.proper and lw not in lex.common else "weak"
        return "strong"
    if "-" in lw:
        parts = [p for p in lw.split("-") if p]
        if any(p in lex.clinical and len(p) > 3 for p in parts):
            return "stop"  # "Wolff-Parkinson-White", "Jackson-Pratt", "Passy-Muir": an eponym
        kinds = [_classify(p, p, lex, True) for p in parts]
        if parts and "stop" not in kinds and "strong" in kinds:
            return "strong"
    return "stop" if english else "unknown"


def _is_upper_note(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.7


_KIND_CACHE: dict[tuple[str, bool], str] = {}


def _kind(word: str, lex: Lexicon, caps: bool) -> str:
    key = (word, caps)
    kind = _KIND_CACHE.get(key)
    if kind is None:
        if len(_KIND_CACHE) > 200_000:
            _KIND_CACHE.clear()
        kind = _KIND_CACHE[key] = _classify(word.lower(), word, lex, caps)
    return kind


_WORD_INFO: dict[tuple[str, bool], tuple[str, str, bool]] = {}


def _word_info(word: str, lex: Lexicon, caps: bool) -> tuple[str, str, bool]:
    """(lower, kind, named) of a word, cached: a note's words are mostly seen before."""
    key = (word, caps)
    info = _WORD_INFO.get(key)
    if info is None:
        if len(_WORD_INFO) > 200_000:
            _WORD_INFO.clear()
        lw = word.lower()
        info = _WORD_INFO[key] = (lw, _kind(word, lex, caps), lw in lex.first_names or lw in lex.last_names)
    return info


def _tokens(text: str, lex: Lexicon) -> list[_Tok]:
    words: list[tuple[int, int, str]] = []
    for m in _WORD.finditer(text):
        word = m.group(0)
        start, end = m.span()
        if word[-1] in "'’-" and len(word) > 1:
            word, end = word[:-1], end - 1
        elif len(word) > 2 and word[-1] in "sS" and word[-2] in "'’":
            word, end = word[:-2], end - 2
        words.append((start, end, word))
    # capitals context: share of upper-case letters among the five words either side
    n = len(words)
    total = [0] * (n + 1)
    upper = [0] * (n + 1)
    cased = [0] * (n + 1)  # words with a capital letter
    for k, (_, _, w) in enumerate(words):
        total[k + 1] = total[k] + len(w)
        upper[k + 1] = upper[k] + (len(w) if w.isupper() else 0)
        cased[k + 1] = cased[k] + (not w.islower())
    out: list[_Tok] = []
    info = _word_info
    # case tells nothing in a line of capitals, nor in a note typed in lower case (under 5 % of its words
    # with a capital: mixed-case notes have 12 % and more, sentence starts and abbreviations)
    lower_note = cased[n] <= 0.05 * n
    for k, (start, end, word) in enumerate(words):
        lo = k - 5 if k > 5 else 0
        hi = k + 6 if k + 6 < n else n
        letters = total[hi] - total[lo]
        caps = letters > 0 and ((upper[hi] - upper[lo]) > 0.7 * letters or lower_note)
        before = text[start - 3 if start > 3 else 0 : start].rstrip(" \t")
        sent_start = not before or before[-1] in ".!?:\n*-•>"
        lw, kind, named = info(word, lex, caps)
        out.append(_Tok(start, end, word, lw, word[:1].isupper(), sent_start, kind, named, caps))
    return out


def _candidate(tok: _Tok, after_title: bool) -> bool:
    """Can this token be a name when context says a name follows or precedes?"""
    caps_note = tok.caps
    if tok.kind == "stop":
        return after_title and (tok.cap or caps_note) and tok.named and len(tok.word) > 2 and tok.lower not in _FUNCTION
    if tok.kind == "strong":
        return True
    if caps_note:
        return (tok.kind == "weak" and after_title) or (tok.kind == "unknown" and len(tok.word) > 1)
    return tok.cap


def _context_candidate(tok: _Tok, lex: Lexicon, relation: bool = False) -> bool:
    """After a strong name context (relation, role, title suffix, "name is"): is this token a name?"""
    if not (tok.cap or tok.caps) or tok.lower in _FUNCTION or tok.lower in _TITLES or tok.lower in _PERSON_PREDICATES:
        return False  # "WIFE STATES", "SON ASKING": what the relative does
    if tok.caps and tok.lower in _CUE_NOT_NAMES:
        return False  # "WIFE SAID", "SON GIVEN UPDATE": census surnames that are ordinary words there
    if tok.kind == "stop":  # an English word: only a first name written with a capital in mixed case
        if relation and tok.lower in lex.ambiguous_first and tok.lower in lex.first_names:
            return True  # "HUSBAND ART", "SON FRANK": a first name that is also a clinical word
        return not tok.caps and tok.lower in lex.first_names and len(tok.word) > 2
    return len(tok.word) > 1 and not (tok.kind == "unknown" and tok.word.isupper() and not tok.caps)


def _person_word(tok: _Tok, lex: Lexicon, *, surnames: bool) -> bool:
    """Can this token be a name when the words after it say a person ("X asking", "X's wife", "X (DTR)")?

    Unknown words must be spelled like names; ordinary words count only as first names (or, with
    ``surnames``, as surnames), clinical words only as first names that are also words ("Frank").
    """
    if not (tok.cap or tok.caps) or tok.lower in _FUNCTION or tok.lower in _TITLES or len(tok.word) < 3:
        return False
    if tok.kind == "strong":
        return True
    if tok.kind == "unknown":
        return _namelike(tok.lower)
    if tok.lower in lex.first_names:
        return tok.kind == "weak" or tok.lower in lex.ambiguous_first
    return surnames and tok.kind == "weak" and tok.lower in lex.last_names


def _lower_name(tok: _Tok, lex: Lexicon, *, first_only: bool) -> bool:
    """A name typed in lower case after a strong cue ("dr smith", "wife rose", "rosemary, his wife").

    Only listed names (or, with ``first_only`` false, unknown words spelled like names); never a
    function word, a verb of the person, a relation, a title or a clinical word.
    """
    lw = tok.lower
    if not tok.word.islower() or len(lw) < 3 or lw in _FUNCTION or lw in _PERSON_PREDICATES or lw in lex.clinical:
        return False
    if lw in _RELATIONS or lw in _TITLES or lw in _CUE_NOT_NAMES:
        return False
    if first_only:
        return lw in lex.first_names
    return tok.named or (tok.kind == "unknown" and _namelike(lw))


# Listed names that follow "wife" or "dr" as ordinary words ("dr rounds", "WIFE SAID").
_CUE_NOT_NAMES = frozenset(
    [
        "said",
        "says",
        "rounds",
        "note",
        "notes",
        "orders",
        "team",
        "office",
        "given",
        "went",
        "works",
        "later",
        "going",
        "hopes",
        "angry",
        "doing",
        "gone",
        "done",
    ]
)
# "WIFE WILL CALL", "son may visit": a modal before a verb is no name ("DAUGHTER WILL AT BEDSIDE" is one).
_MODALS = frozenset(["will", "may", "can", "must", "shall"])
_BASE_VERBS = frozenset(
    [
        "call",
        "visit",
        "be",
        "come",
        "bring",
        "stay",
        "return",
        "speak",
        "talk",
        "update",
        "meet",
        "need",
        "want",
        "follow",
        "go",
        "arrive",
        "discuss",
        "decide",
        "sign",
        "consider",
        "try",
        "see",
        "have",
        "take",
        "drive",
        "fly",
        "let",
        "make",
        "give",
        "get",
        "ask",
        "phone",
        "contact",
        "notify",
        "pick",
        "check",
        "not",
    ]
)
# Titles that mark a lower-case word after them as a name ("dr smith"); "ms contin", "mr mod" are no titles.
_LOWER_TITLES = frozenset(["dr", "drs", "doctor", "mrs"])
# "Seraphina is a 66 yo F": words that are the subject of an age without naming anyone.
_AGE_SUBJECT_NOT = frozenset(
    [
        "pt",
        "patient",
        "this",
        "she",
        "he",
        "who",
        "baby",
        "infant",
        "child",
        "woman",
        "man",
        "gentleman",
        "lady",
        "male",
        "female",
        "resident",
        "veteran",
        "boy",
        "girl",
        "twin",
        "client",
        "person",
        "individual",
    ]
)


def _placeish(tok: _Tok, lex: Lexicon) -> bool:
    return (tok.cap or tok.caps) and tok.lower not in _FUNCTION and tok.lower not in lex.clinical and tok.kind != "stop"


def _initial(text: str, tok: _Tok) -> bool:
    return len(tok.word) == 1 and tok.word.isupper() and text[tok.end : tok.end + 1] in (".", " ", ",")


_PREDICATE_AFTER = re.compile(
    r",?\s{1,2}(?:" + "|".join(re.escape(w) for w in sorted(_PERSON_PREDICATES, key=len, reverse=True)) + r")\b", re.I
)


# "KWAKU REMAINS DNR", "ANSELM KEEPS ASKING": verbs whose subject is mostly the patient, but which a drug
# can take too ("LEVOPHED REMAINS AT 0.1"); taken only for unknown words spelled like names, and not when a
# number follows the verb or a drug verb comes within three words after it (``_DRUG_STATE``).
_SUBJECT_VERBS = frozenset(
    [
        "remains",
        "remained",
        "keeps",
        "kept",
        "went",
        "refused",
        "ate",
        "walked",
        "woke",
        "awoke",
        "became",
        "appears",
        "appeared",
        "seems",
        "seemed",
        "looks",
        "looked",
        "follows",
        "followed",
        "opens",
        "opened",
        "moves",
        "moving",
        "nodded",
        "nods",
        "smiled",
        "smiling",
        "grimaced",
        "grimacing",
        "responds",
        "responded",
        "pulled",
        "pulling",
        "tried",
        "trying",
        "had",
        "has",
        "got",
        "did",
        "doing",
    ]
)
_DRUG_STATE = frozenset(
    _DRUG_AFTER
    | {"at", "off", "infusing", "running", "hung", "d/c'd", "dc'd", "weaning", "mg", "effect", "relief", "helped"}
    | {"helping", "worked", "working"}
)
_SUBJECT_AFTER = re.compile(
    r",?\s{1,2}(?:" + "|".join(sorted(_SUBJECT_VERBS, key=len, reverse=True)) + r")\b((?:\W{1,3}[\w/']+){0,3})", re.I
)
# "MARK BELL TO BE CALLED", "KWAME AWARE OF PLAN": someone to call, or who knows.
_CALL_AFTER = re.compile(
    r"\s(?:to be (?:called|notified|updated|paged|contacted)|(?:to|will) (?:call|visit)|aware)\b", re.I
)
_CUE_NEXT = _PERSON_PREDICATES | _SUBJECT_VERBS | {"from", "in", "of", "c", "is", "was", "to", "will", "aware"}
# "Seraphina is a 66 yo F": the subject of an age is a person.
_AGE_AFTER = re.compile(r"\s(?:is|was)\s(?:a|an)\s\d{1,3}\s?-?(?:yo\b|y/o|y\.o\.|year|yr)", re.I)


def _person_cue(text: str, toks: list[_Tok], i: int, lex: Lexicon) -> bool:
    """The words right after token ``i`` say it names a person.

    "X's wife" / "X's family"; "X (DTR)", "X, pt's brother"; and, at the start of a sentence or
    clause or after "pt", "X asking / states / c/o / denies …" (verbs whose subject is a person).
    """
    tok, nxt = toks[i], toks[i + 1]
    after = text[tok.end : tok.end + 2]
    if after in _POSSESSIVE and (nxt.lower in _RELATIONS or nxt.lower in _GROUPS) and nxt.start - tok.end <= 4:
        return _person_word(tok, lex, surnames=True)
    if not ("(" in after or "," in after or "-" in after or nxt.lower in _CUE_NEXT):
        return False  # fast exit: none of the rules below can match
    m = _RELATION_AFTER.match(text, tok.end)
    # "X (DTR)", "X (PT'S SON)", "X, pt's brother"; a bare ", son" may start a new clause
    if (
        m is not None
        and m.group("rel").lower() in _RELATIONS
        and ("(" in text[tok.end : m.start("rel")] or m.start("rel") > tok.end + 3)
    ):
        return _person_word(tok, lex, surnames=True) or _lower_name(tok, lex, first_only=True)
    m2 = _ROLE_AFTER.match(text, tok.end)
    if m2 is not None:
        last = m2.group(2).lower()
        if (
            (last in _ROLES or last in _TITLES or last in _AFTER_TITLES or last in _RELATIONS)
            and not any(w in _FUNCTION for w in m2.group(1).lower().split())
            and (len(last) > 2 or tok.kind != "unknown")  # "XOPENEX (RT)": given by RT, or on the right
        ):
            return _person_word(tok, lex, surnames=True)
    before = text[toks[i - 1].end : tok.start] if i > 0 else ""
    subject = tok.sent_start or "," in before or (i > 0 and toks[i - 1].lower in ("pt", "patient") and len(before) <= 2)
    if _UNIT_AFTER.match(text, tok.end) is not None:  # "Sue from IV team", "TOM IN ADMITTING"
        return tok.kind != "unknown" and _person_word(tok, lex, surnames=False)  # "CANCIDAS FROM PHARMACY"
    if _CALL_AFTER.match(text, tok.end) is not None:
        # a subject, or a surname after a first name that starts the sentence ("MARK BELL TO BE CALLED")
        first_before = i > 0 and before == " " and toks[i - 1].sent_start and toks[i - 1].lower in lex.first_names
        return (subject or first_before) and _person_word(tok, lex, surnames=True)
    if _PREDICATE_AFTER.match(text, tok.end) is None and _AGE_AFTER.match(text, tok.end) is None:
        m3 = _SUBJECT_AFTER.match(text, tok.end)
        if m3 is None or tok.kind != "unknown" or not subject:
            return False
        following = re.findall(r"[\w/'.]+", m3.group(1).lower())
        if (following and following[0][:1].isdigit()) or not _DRUG_STATE.isdisjoint(following):
            return False  # "PROPOFOL REMAINS 20 MCG", "LEVOPHED REMAINS AT 0.1", "NEPRO HAS BEEN HELD"
        return _person_word(tok, lex, surnames=False)
    return subject and _person_word(tok, lex, surnames=False)


def _names(text: str, toks: list[_Tok], lex: Lexicon, cfg: DeidConfig) -> list[PhiSpan]:
    n = len(toks)
    flagged = [False] * n
    rule = [""] * n

    # gap(i): the text between token i and token i + 1 ('' after the last), sliced once
    gaps = [text[a.end : b.start] for a, b in itertools.pairwise(toks)] + [""]
    gap = gaps.__getitem__

    def mark(i: int, why: str) -> None:
        if not flagged[i] and toks[i].lower not in _TITLES:
            flagged[i], rule[i] = True, why

    for i, tok in enumerate(toks):
        if (
            tok.kind == "stop"
            and tok.sent_start
            and (tok.cap or tok.caps)
            and tok.lower not in lex.clinical
            and tok.lower not in _FUNCTION
            and tok.lower not in _AGE_SUBJECT_NOT
            and _AGE_AFTER.match(text, tok.end) is not None
        ):
            mark(i, "age-subject")  # "Seraphina is a 66 yo F": a name that web2 lists as a word
            continue
        if tok.kind == "stop" and not tok.named:
            continue  # an ordinary or clinical word that is no name: no rule below can mark it
        lw = tok.lower
        nxt = toks[i + 1] if i + 1 < n else None
        if lw in _MODALS and nxt is not None and nxt.lower in _BASE_VERBS:
            continue  # "WIFE WILL CALL", "son may visit"
        # eponym followed by a clinical head noun ("Parkinson's disease") is never a name
        if nxt is not None and nxt.lower in _CLINICAL_HEADS and len(gap(i)) <= 3 and tok.kind != "unknown":
            continue
        t = i - 1  # the title, past any initials ("Dr. J. Lee")
        while t > 0 and _initial(text, toks[t]) and len(gap(t - 1)) <= 3:
            t -= 1
        title_before = t >= 0 and (toks[t].lower in _TITLES or toks[t].lower + "." in _TITLES)
        title_before = title_before and len(gap(t)) <= 3 and "\n" not in gap(t)
        if title_before and (
            _candidate(tok, True) or (toks[t].lower in _LOWER_TITLES and _lower_name(tok, lex, first_only=False))
        ):
            mark(i, "title")
            continue
        ctx = strong_ctx = relation = False
        if i > 0 and len(gap(i - 1)) <= 4 and not _SENTENCE_GAP.search(gap(i - 1)) and ")" not in gap(i - 1):
            prev = toks[i - 1].lower
            pair = (toks[i - 2].lower, prev) if i > 1 else ("", prev)
            relation = prev in _RELATIONS or (prev in _ROLES and prev not in ("md", "pa", "ho"))
            strong_ctx = relation or prev in _ROLES or pair in _VERB_PAIRS or (prev in _GROUPS and "(" in gap(i - 1))
            if prev == "with" and i > 2 and toks[i - 2].lower in _DISCUSSED_WHAT:  # "discussed pt with X"
                strong_ctx = strong_ctx or (toks[i - 3].lower, "with") in _VERB_PAIRS
            ctx = prev in _VERBS
        if nxt is not None and _COMMA_GAP.fullmatch(gap(i)) and "\n" not in gap(i):
            if nxt.lower in _AFTER_TITLES and tok.lower not in _STAFF_QUALIFIERS:
                strong_ctx = True  # "KATHY RN", but not "NIGHT RN"
            if (
                nxt.lower in _ROLES
                and "," in gap(i)
                and tok.lower not in _STAFF_QUALIFIERS
                and not (tok.kind == "unknown" and len(tok.word) <= 3)
            ):
                strong_ctx = True  # "per Sue, RT, pt to remain on CPAP", but not "HOME WITH VNA, CM"
            if (
                nxt.lower == "family"
                and (tok.kind != "stop" or tok.lower in lex.last_names)
                and tok.lower not in _FAMILY_VERBS
                and not (i > 0 and toks[i - 1].lower in _BEFORE_FAMILY_NOT)
            ):
                strong_ctx = strong_ctx or tok.lower not in _FUNCTION
        if strong_ctx and (
            _context_candidate(tok, lex, relation)
            or (relation and toks[i - 1].word.islower() and _lower_name(tok, lex, first_only=True))
        ):
            mark(i, "context")
            continue
        if (
            ctx
            and _candidate(tok, False)
            and (
                tok.kind != "unknown"
                or (tok.cap and not tok.word.isupper())
                or (tok.caps and len(tok.word) >= 5 and _namelike(tok.lower))
            )
        ) or (  # "PAGED GRACE": a first name that is also a word, after a verb that takes a person
            ctx
            and tok.caps
            and tok.lower in lex.ambiguous_first
            and tok.lower in lex.first_names
            and toks[i - 1].lower not in ("pt", "pt.", "patient", "per")
            and gap(i - 1) == " "
            and tok.lower not in ("will", "may")
        ):
            mark(i, "context")
            continue
        if (  # "call Mark Bell today": a first name and a surname, both capitalised mid-sentence
            tok.kind == "weak"
            and tok.cap
            and not tok.caps
            and not tok.sent_start
            and tok.lower in lex.first_names
            and tok.lower in lex.ambiguous_first
            and nxt is not None
            and nxt.cap
            and not nxt.caps
            and gap(i) == " "
            and nxt.lower in lex.last_names
            and nxt.lower not in _FUNCTION
            and nxt.lower not in lex.clinical
            and len(nxt.word) > 2
        ):
            mark(i, "first-last")
            mark(i + 1, "first-last")
            continue
        if nxt is not None and (tok.kind != "strong" or lw in lex.states) and _person_cue(text, toks, i, lex):
            mark(i, "person-cue")
            continue
        if tok.kind == "strong":
            if (tok.caps and len(tok.word) < 3) or lw in lex.states:
                continue  # "FLORIDA", "GEORGIA": a state is a name only by context
            if not tok.caps and not tok.cap and (len(tok.word) < 4 or lw not in lex.first_names):
                continue  # lower case in mixed-case text: only first names count without context
            mark(i, "dictionary")
        elif (
            cfg.unknown_capitalised
            and tok.kind == "unknown"
            and tok.cap
            and not tok.caps
            and not tok.sent_start
            and len(tok.word) > 1
            and not tok.word.isupper()
            and not (cfg.drug_context and i > 0 and toks[i - 1].lower in _DRUG_CONTEXT)
            and not (cfg.drug_context and _DOSE_AFTER.match(text, tok.end))
            and not (cfg.drug_context and nxt is not None and nxt.lower in _DRUG_AFTER and len(gap(i)) <= 2)
        ):
            mark(i, "capitalised")

    # Extend flagged names over neighbouring name-like tokens and initials (both directions).
    changed = True
    while changed:
        changed = False
        for i in range(n):
            if not flagged[i]:
                continue
            for j in (i - 1, i + 1):
                if not 0 <= j < n or flagged[j]:
                    continue
                g = gap(min(i, j))
                if not _NAME_GAP.fullmatch(g) or "\n" in g:
                    continue
                tj = toks[j]
                if _initial(text, tj) or (
                    (tj.kind == "strong" and (tj.cap or tj.caps))
                    or (tj.kind == "unknown" and (tj.cap or tj.caps) and not tj.sent_start)
                    or (tj.kind == "weak" and tj.cap and not tj.caps and not tj.sent_start)
                    or (  # "SUE GREEN": a surname that is also a word, right after a first name
                        j == i + 1
                        and g == " "
                        and (tj.cap or tj.caps)
                        and (
                            toks[i].lower in lex.first_names
                            or (toks[i].kind == "unknown" and _namelike(toks[i].lower) and rule[i] != "propagated")
                        )
                        and tj.lower not in ("will", "may")
                        and tj.lower in lex.last_names
                        and tj.lower not in _FUNCTION
                        and tj.lower not in lex.clinical
                        and tj.lower not in lex.common
                        and len(tj.word) > 2
                    )
                    or (  # "FRANK SULLIVAN": a first name that is also a word, right before a surname
                        j == i - 1
                        and g == " "
                        and (tj.cap or tj.caps)
                        and tj.lower in lex.first_names
                        and tj.lower not in _FUNCTION
                        and tj.lower not in _RELATIONS  # "SON" is a census first name too
                        and (tj.kind != "stop" or tj.lower in lex.ambiguous_first)
                        and len(tj.word) > 2
                        and rule[i] != "propagated"
                    )
                ):
                    if tj.kind == "unknown" and tj.caps and len(tj.word) < 3:
                        continue
                    if tj.lower not in _TITLES:
                        mark(j, "extension")
                        changed = True

    # Coordination: "DAUGHTERS NGOZI AND ADAEZE", "ADAEZE AND NGOZI (DAUGHTERS)": the other side of "and".
    for i in range(n - 2):
        if toks[i + 1].lower not in ("and", "&") or flagged[i] == flagged[i + 2]:
            continue
        j = i + 2 if flagged[i] else i
        if rule[i if flagged[i] else i + 2] in ("dictionary", "propagated"):
            continue  # only a name that context found vouches for its neighbour
        if gap(i) == " " and gap(i + 1) == " " and _person_word(toks[j], lex, surnames=False):
            mark(j, "coordination")

    # Propagate: a name found anywhere in the note is a name everywhere in it.
    found = {toks[i].lower for i in range(n) if flagged[i] and len(toks[i].word) > 2}
    for i, tok in enumerate(toks):
        if not flagged[i] and tok.lower in found and (tok.cap or tok.caps) and tok.kind != "stop":
            if tok.kind == "weak" and (
                tok.lower in ("will", "may", "can", "must")
                or (tok.sent_start and i + 1 < n and toks[i + 1].lower in ("to", "and", "or"))
            ):
                continue  # "Will continue to monitor", "Hope to extubate": an ambiguous word needs context here
            mark(i, "propagated")

    spans: list[PhiSpan] = []
    i = 0
    while i < n:
        if flagged[i]:
            j = i
            while j + 1 < n and flagged[j + 1] and _NAME_GAP.fullmatch(gap(j)) and "\n" not in gap(j):
                j += 1
            end = toks[j].end
            if len(toks[j].word) == 1 and text[end : end + 1] == ".":
                end += 1
            spans.append(PhiSpan(toks[i].start, end, NAME, rule[i]))
            i = j + 1
        else:
            i += 1
    return spans


# Clinical words that are also city names but that "from"/"in" does not make a place ("clots in Foley").
_CLINICAL_NOT_PLACE = frozenset(["foley", "levin", "aki", "pa", "osh", "mao", "vaso", "bari", "salem"])
_EPONYM_HEADS = _CLINICAL_HEADS | {"j", "shunt", "sump", "stool", "coma", "chart"}


def _clinical_place(toks: list[_Tok], i: int, lex: Lexicon) -> bool:
    """An eponym of the allow-list used as the city it is named after: "called from Denver", "lives in Bristol"."""
    tok = toks[i]
    if tok.lower not in lex.clinical or tok.lower in _CLINICAL_NOT_PLACE or tok.lower not in lex.cities:
        return False
    if i == 0 or toks[i - 1].lower not in ("from", "in", "near") or not (tok.cap or tok.caps):
        return False
    return i + 1 == len(toks) or toks[i + 1].lower not in _EPONYM_HEADS


def _word_before_noun(text: str, toks: list[_Tok], i: int, lex: Lexicon) -> bool:
    """Token ``i`` is followed by an ordinary word that it qualifies ("ORANGE JUICE", "Mobile chair")."""
    if i + 1 >= len(toks) or text[toks[i].end : toks[i + 1].start] != " ":
        return False
    head = toks[i + 1].lower
    return _english(head, lex) and head not in lex.first_names and head not in _FUNCTION and head not in _HOSPITAL_HEADS


def _places(text: str, toks: list[_Tok], lex: Lexicon, cfg: DeidConfig) -> list[PhiSpan]:
    spans: list[PhiSpan] = []
    i = 0
    n = len(toks)
    while i < n:
        hit = 0
        if toks[i].lower not in lex.city_first or not (toks[i].cap or toks[i].caps):
            i += 1
            continue
        for size in (3, 2, 1):
            if i + size > n:
                continue
            chunk = toks[i : i + size]
            if size > 1 and any(text[a.end : b.start] not in (" ", "-") for a, b in itertools.pairwise(chunk)):
                continue
            if not all(t.cap for t in chunk) and not chunk[0].caps:
                continue
            name = text[chunk[0].start : chunk[-1].end].lower()
            if not (name in lex.cities or (cfg.countries and name in lex.countries)) or name in lex.states:
                continue
            after = toks[i + size] if i + size < n else None
            if after is not None and after.lower in _EPONYM_HEADS and text[chunk[-1].end : after.start] == " ":
                continue  # "Allen test", "Miami J collar", "Denver shunt": an eponym
            if all(t.kind == "stop" for t in chunk) and not (size == 1 and _clinical_place(toks, i, lex)):
                continue
            if size == 1 and (len(name) < 4 or (not chunk[0].caps and chunk[0].word.isupper())):
                continue
            after_place_word = i > 0 and toks[i - 1].lower in ("in", "from", "to", "near")
            if size == 1 and _english(name, lex) and (not after_place_word or _word_before_noun(text, toks, i, lex)):
                continue
            spans.append(PhiSpan(chunk[0].start, chunk[-1].end, LOCATION, "city"))
            hit = size
            break
        i += hit or 1
    for i, tok in enumerate(toks):
        head = toks[i + 1] if i + 1 < n else None
        if (
            i == 0
            or not (tok.cap or tok.caps)
            or tok.lower in _FUNCTION
            or (
                tok.kind == "stop"
                and tok.lower not in lex.cities
                # "HEBREW REHAB", "Lutheran Hospital": a proper noun that is a word too, before a head
                and not (tok.lower in lex.proper and head is not None and head.lower in _HOSPITAL_HEADS)
            )
        ):
            continue
        prev = toks[i - 1]
        if tok.lower in _HOSPITAL_HEADS or tok.lower in _MONTH_WORDS:
            continue  # "ADMITTED IN DECEMBER": a date (``_months_alone``), not a place
        if (
            head is not None
            and head.lower in _HOSPITAL_HEADS
            and text[tok.end : head.start] == " "
            and tok.lower not in lex.clinical
            and (head.cap or head.caps)
        ):
            spans.append(PhiSpan(tok.start, head.end, HOSPITAL, "hospital-head"))
            continue
        if prev.lower in ("in", "from", "to", "near", "at") and i > 1 and len(tok.word) > 1:
            if tok.lower in lex.clinical and not _clinical_place(toks, i, lex):
                continue
            if tok.word.isupper() and len(tok.word) <= 5 and (tok.caps or len(tok.word) <= 4):
                # "TRANSFERRED TO MGH", "admitted to BI": an acronym after a movement verb is a hospital,
                # unless it names a kind of care or unit ("TO SNF", "FROM CVICU")
                if (
                    tok.kind == "unknown"
                    and tok.lower not in _CARE_SETTINGS
                    and text[prev.end : tok.start] == " "
                    and (toks[i - 2].lower in _MOVE_VERBS or (toks[i - 2].lower in _TREATED and prev.lower == "at"))
                ):
                    spans.append(PhiSpan(tok.start, tok.end, HOSPITAL, "move-acronym"))
                continue
            if len(tok.word) < 3 or tok.lower in _PLACE_VERBS or tok.lower in _CARE_SETTINGS:
                continue  # "transfer to floor", "d/c to rehab": a kind of place, not a place
            if tok.kind == "stop" and _word_before_noun(text, toks, i, lex):
                continue  # "SWITCHED TO ORANGE JUICE": an ordinary word before a noun, not a town
            state = tok.lower in lex.states or (tok.lower in lex.countries and not cfg.countries)
            if not state and (  # Safe Harbor keeps states (and, by default, countries)
                toks[i - 2].lower in _PLACE_VERBS
                or (prev.lower == "from" and toks[i - 2].lower in _FROM_PLACE)  # "PT IS FROM NAHANT"
                or (
                    not _english(tok.lower, lex)  # "resident X in to see pt"
                    and any(  # "LIVES ALONE IN X", "LIVES W/ WIFE IN X"
                        toks[k].lower in _PLACE_VERBS and not _SENTENCE_GAP.search(text, toks[k].end, prev.start)
                        for k in range(max(0, i - 5), i - 2)
                    )
                )
            ):
                spans.append(PhiSpan(tok.start, tok.end, LOCATION, "place-context"))
            elif (
                toks[i - 2].lower in _MOVE_VERBS
                or (
                    toks[i - 2].lower in ("c", "c'd")
                    and text[toks[i - 2].start - 2 : toks[i - 2].start].lower() == "d/"
                )
            ) and not (tok.word.isupper() and not tok.caps):
                j = i
                while j + 1 < n and text[toks[j].end : toks[j + 1].start] == " " and _placeish(toks[j + 1], lex):
                    j += 1
                spans.append(PhiSpan(tok.start, toks[j].end, HOSPITAL, "move-context"))
    # "Springfield, IL 62701": a capitalised place before a state code.
    for m in re.finditer(
        r"\b([A-Z][A-Za-z.'-]+(?:\s[A-Z][A-Za-z.'-]+){0,2}),?\s+([A-Z]{2})\b(\s+\d{5}(?:-\d{4})?)?", text
    ):
        code, zip_ = m.group(2), m.group(3)
        if code not in lex.state_codes or (code in _CLINICAL_STATE_CODES and not zip_):
            continue
        if m.group(1).lower() in lex.clinical:
            continue
        if m.group(1).isupper() and not zip_ and m.group(1).lower() not in lex.cities:
            continue  # in capitals any words before "VT" or "PA" would do: "3-4 BEAT RUNS OF VT"
        spans.append(PhiSpan(m.start(1), m.end(1), LOCATION, "city-state"))
        if zip_:
            spans.append(PhiSpan(m.start(3) + len(zip_) - len(zip_.lstrip()), m.end(3), LOCATION, "zip"))
    return spans


# Kinds of care and units that follow movement verbs like hospitals do ("D/C TO SNF", "FROM CVICU").
_CARE_SETTINGS = frozenset(
    [
        "icu",
        "micu",
        "sicu",
        "ccu",
        "csru",
        "cvicu",
        "tsicu",
        "nicu",
        "picu",
        "pacu",
        "nsicu",
        "ticu",
        "ctic",
        "cticu",
        "cvu",
        "cvru",
        "ncu",
        "pcu",
        "imcu",
        "bmt",
        "ed",
        "er",
        "ew",
        "ir",
        "or",
        "ct",
        "mri",
        "cath",
        "ep",
        "hd",
        "ecf",
        "ltc",
        "ltac",
        "ltach",
        "snf",
        "ltcf",
        "alf",
        "vna",
        "nh",
        "osh",
        "ob",
        "ld",
        "lnd",
        "mfm",
        "gyn",
        "ent",
        "cmu",
        "sdu",
        "stepdown",
        "floor",
        "rehab",
        "home",
        "hospice",
        "pt",
        "ot",
    ]
)
# "CATH AT MGH", "FOLLOWED AT BI": what is done at a hospital.
_TREATED = frozenset(["seen", "followed", "treated", "done", "cath", "cathed", "hospitalized", "admitted", "stay"])

_CLINICAL_STATE_CODES = frozenset(
    [
        "CO",
        "CT",
        "MD",
        "PA",
        "ME",
        "OR",
        "IN",
        "OK",
        "HI",
        "DE",
        "LA",
        "MS",
        "NE",
        "SC",
        "SD",
        "ND",
        "NM",
        "MA",
        "MN",
        "GA",
        "AL",
        "VA",
        "ID",
    ]
)


def _phones(text: str) -> list[PhiSpan]:
    spans: list[PhiSpan] = []
    for m in _PHONE.finditer(text):
        s = m.group(0)
        digits = sum(c.isdigit() for c in s)
        if not 7 <= digits <= 15:
            continue
        groups = re.findall(r"\d+", s.split("x")[0].split("X")[0])
        context = bool(_PHONE_CONTEXT.search(text[max(0, m.start() - 14) : m.start()]))
        lead = s[0] in "+(" or (s[0] == "0" and len(groups) > 2)
        nanp = [len(g) for g in groups] == [3, 3, 4]  # "781 555 1234": a North American number
        if " " in s.strip() and not re.search(r"[-.()]", s) and not (lead or context or nanp) and len(groups) < 4:
            continue
        if len(groups) == 2 and not (len(groups[0]) == 3 and len(groups[1]) == 4) and not (lead or context):
            continue
        if re.fullmatch(r"\d{1,2}[.-]\d{1,2}[.-]\d{2,4}", s.strip()):
            continue
        spans.append(PhiSpan(m.start(), m.end(), PHONE, "phone"))
    spans.extend(PhiSpan(m.start("v"), m.end("v"), PHONE, "pager") for m in _PAGER.finditer(text))
    return spans


_ORDINAL_SUFFIXES = frozenset(["st", "nd", "rd", "th"])


def _ordinal_dates(text: str) -> list[PhiSpan]:
    return [PhiSpan(m.start("v"), m.end("v"), DATE, "date-ordinal") for m in _ORDINAL_DATE.finditer(text)]


def _date_word_before(text: str, start: int) -> str:
    """The date word ("on", "since", "extubated") right before ``start``, or ''."""
    m = _DASH_WORD_BEFORE.search(text[max(0, start - _DASH_LOOKBACK) : start].rstrip(" "))
    return m.group(0).lower() if m is not None and text[start - 1 : start] == " " else ""


def _month_day(month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= 31


def _partial_dates(text: str) -> list[PhiSpan]:
    spans: list[PhiSpan] = []
    dash = itertools.chain(_dash_dates(text), _dash_dates_after_test(text)) if "-" in text else iter(())
    for pattern, matches in ((_PARTIAL_DATE, _PARTIAL_DATE.finditer(text)), (_PARTIAL_DATE_DASH, dash)):
        for m in matches:
            g = 2 if pattern is _PARTIAL_DATE_DASH else 1
            a, b = int(m.group(g)), int(m.group(g + 1))
            if not _month_day(a, b):
                continue
            if pattern is _PARTIAL_DATE_DASH and _DASH_NOT_AFTER.match(text, m.end("v")):
                continue  # "GIVEN 1-2 UNITS", "LOOSE STOOL X 2-3 THIS SHIFT"
            fraction = (a, b) in _FRACTIONS and not (m.group(g)[0] == "0" or m.group(g + 1)[0] == "0")
            word = _date_word_before(text, m.start(g)) if fraction or b == 10 else ""
            dated = bool(word) and word not in ("of", "by", "x")  # "on 8/10", "admitted 3/4"
            # "until 3/4", "since 3-4" and "02/03" are dates; "of 3/4", "on 1/2 NS" are not
            if fraction and (not dated or word in ("on", "post", "prior", "before", "held")):
                continue
            if (
                pattern is _PARTIAL_DATE
                and b == 10
                and not dated
                and re.search(r"pain|relief|/10|scale", text[max(0, m.start() - 60) : m.end() + 30], _I)
            ):
                continue
            if pattern is _PARTIAL_DATE and (
                _NOT_DATE_BEFORE.search(text[max(0, m.start() - 12) : m.start()])
                or _NOT_DATE_AFTER.search(text[m.end() : m.end() + 14])
            ):
                continue
            v = "v" if pattern is _PARTIAL_DATE_DASH else 0
            spans.append(PhiSpan(m.start(v), m.end(v), DATE, "date-partial"))
    if "-" in text:
        for s in list(spans):  # "12/3-12/5": the second date follows the first and a dash
            second = _SLASH_DATE_RANGE.match(text, s.end + 1) if text[s.end : s.end + 1] == "-" else None
            if second is not None and _month_day(int(second.group(1)), int(second.group(2))):
                spans.append(PhiSpan(second.start(), second.end(), DATE, "date-partial"))
        alone = [(m.start(1), m.end(2), m.group(1), m.group(2), m.start()) for m in _DASH_DATE_PAREN.finditer(text)]
        for m in _DASH_DATE_AT.finditer(text):
            month = _DASH_MONTH_BEFORE.search(text, max(0, m.start() - 3), m.start())
            if month is not None:
                alone.append((month.start(), m.end(1), month.group(1), m.group(1), month.start()))
        for start, end, a_, b_, ctx in alone:
            a, b = int(a_), int(b_)
            if _month_day(a, b) and not _NOT_DATE_BEFORE.search(text[max(0, ctx - 12) : ctx]):
                spans.append(PhiSpan(start, end, DATE, "date-partial"))
    return spans


# A month named alone ("ADMITTED IN DECEMBER", "last January"): an element of a date (Safe Harbor keeps
# only the year). "May" and "March" are also a verb: only after a word that introduces a time.
_MONTHS_ALONE = frozenset(
    ["january", "february", "april", "june", "july", "august", "september", "october", "november", "december"]
)
_MONTHS_VERBS = frozenset(["may", "march"])
_BEFORE_MONTH = frozenset(
    [
        *("in", "since", "until", "till", "by", "during", "from", "early", "mid", "late", "last", "next", "this"),
        *("of", "through", "thru", "before", "after", "end", "beginning", "around", "back"),
    ]
)
_MONTH_PREFIXES = ("mid-", "early-", "late-")


def _months_alone(toks: list[_Tok], gaps_ok: Iterable[bool]) -> list[PhiSpan]:
    spans: list[PhiSpan] = []
    for i, (tok, gap_ok) in enumerate(zip(toks, gaps_ok, strict=True)):
        lw = tok.lower
        for prefix in _MONTH_PREFIXES:  # "mid-December": the month is the PHI
            if lw.startswith(prefix):
                lw = lw[len(prefix) :]
        if not (tok.cap or tok.caps or lw != tok.lower):
            continue  # "august company" in lower case is an adjective
        offset = len(tok.lower) - len(lw)
        if lw in _MONTHS_ALONE or (
            lw in _MONTHS_VERBS and (offset or (i > 0 and gap_ok and toks[i - 1].lower in _BEFORE_MONTH))
        ):
            spans.append(PhiSpan(tok.start + offset, tok.end, DATE, "month"))
    return spans


def _valid_numeric_date(s: str) -> bool:
    parts = [int(p) for p in re.findall(r"\d+", s)[:3]]
    if len(parts) < 3:
        return False
    if parts[0] > 31:  # y-m-d
        return _month_day(parts[1], parts[2])
    a, b = parts[0], parts[1]
    return _month_day(a, b) or _month_day(b, a)


# Cheap gates: a pattern runs only when the note holds one of its key words (a set lookup over the
# tokens, computed once) or characters; most notes skip most patterns.
_GATE_WORDS: dict[str, frozenset[str]] = {
    # every spelling _MONTH accepts: a date-text match holds one as a whole token, or as a part of a
    # hyphenated token ("mid-January 5"), which ``_gate_words`` adds (the gate used to hold fragments of
    # the pattern, "jan", "uary", and so skipped "January 3rd")
    "date-text": frozenset(
        [
            "jan",
            "january",
            "feb",
            "february",
            "mar",
            "march",
            "apr",
            "april",
            "may",
            "jun",
            "june",
            "jul",
            "july",
            "aug",
            "august",
            "sep",
            "sept",
            "september",
            "oct",
            "october",
            "nov",
            "november",
            "dec",
            "december",
        ]
    ),
    "holiday": frozenset(
        [
            "christmas",
            "thanksgiving",
            "easter",
            "new",
            "halloween",
            "independence",
            "memorial",
            "labor",
            "labour",
            "valentine",
            "xmas",
        ]
    ),
    "unit": frozenset(["apt", "apartment", "suite", "ste", "p", "po", "box", "psc", "unit"]),
    "zip-context": frozenset(["zip"]),
    "ssn-context": frozenset(["ssn"]),
    "age-context": frozenset(["age", "aged"]),
    "age-words": frozenset(["ninety", "hundred"]),
    "hospital": frozenset(
        [
            "hospital",
            "hosp",
            "medical",
            "med",
            "health",
            "clinic",
            "nursing",
            "rehab",
            "rehabilitation",
            "infirmary",
            "hospice",
            "healthcare",
        ]
    ),
    "saint": frozenset(["st", "saint", "mount", "mt"]),
    "organization": frozenset(
        [
            "inc",
            "llc",
            "ltd",
            "corp",
            "corporation",
            "company",
            "group",
            "systems",
            "technologies",
            "associates",
            "partners",
            "bank",
            "university",
            "college",
            "institute",
            "foundation",
            "pharmacy",
        ]
    ),
    "id-context": frozenset(
        [
            "mrn",
            "mr",
            "acct",
            "account",
            "license",
            "licence",
            "lic",
            "serial",
            "s",
            "n",
            "policy",
            "member",
            "record",
            "device",
            "id",
            "unit",
        ]
    ),
    "url": frozenset(["http", "https", "www"]),
    "domain": frozenset(["com", "org", "net", "edu", "gov", "info", "biz", "io"]),
    "military": frozenset(["apo", "fpo", "dpo"]),
}
_DIGITS = re.compile(r"\d+")
_AGE_NUMBER = re.compile(r"(?<!\d)(?:9\d|1[01]\d)(?!\d)")
_GATE_CHARS = {"email": "@", "ipv4": ".", "ipv6": ":", "ssn": "-", "hash-id": "#"}
# Cheap searches that every match of the rule implies (a rule is skipped when its gate finds nothing).
_GATE_RE = {
    "ipv4": re.compile(r"\d\.\d{1,3}\.\d"),
    "ipv6": re.compile(r"[0-9a-f]:[0-9a-f]{1,4}:[0-9a-f]", _I),
    "ssn": re.compile(r"\d-\d\d-\d"),
}


# Leading words that a hospital's or company's name in capitals does not start with ("TRANSFERRED FROM").
_NOT_IN_NAME = (
    _FUNCTION
    | _MOVE_VERBS
    | _PLACE_VERBS
    | {"pt", "pt's", "patient", "osh", "seen", "followed", "outside", "local", "another", "other", "previous"}
    | {"prior", "same", "area", "different", "community", "rehab", "nursing", "va", "acute", "chronic"}
)


def _patterns(text: str, words: frozenset[str] | set[str] = frozenset()) -> list[PhiSpan]:
    spans: list[PhiSpan] = []
    runs = [len(r) for r in _DIGITS.findall(text)]
    numbers = {"long-number": max(runs, default=0) >= 7, "card": runs.count(4) >= 3}
    ages = bool(_AGE_NUMBER.search(text))
    for label, rule, pattern in _PATTERNS:
        if not numbers.get(rule, True) or (label == AGE and not ages and rule != "age-words"):
            continue
        gate = _GATE_WORDS.get(rule)
        if gate is not None and words and gate.isdisjoint(words):
            continue
        char = _GATE_CHARS.get(rule)
        if char is not None and char not in text:
            continue
        gate_re = _GATE_RE.get(rule)
        if gate_re is not None and gate_re.search(text) is None:
            continue
        for m in pattern.finditer(text):
            v: int | str = 0
            for name in pattern.groupindex:
                if m.group(name) is not None:
                    v = name
            start, end = m.span(v)
            s = m.group(v)
            lead = len(s) - len(s.lstrip(" \t:#"))
            start += lead
            if start >= end:
                continue
            if rule == "date-numeric" and not _valid_numeric_date(s):
                continue
            if rule == "ipv6" and not (re.search(r"[a-f]", s, _I) or s.count(":") >= 4):
                continue
            if rule == "alnum-id" and (
                s.isdigit()
                or sum(c.isdigit() for c in s) < 5
                or not any(c.isalpha() for c in s)
                or (s[-1] in "sS" and s[:-1].replace("-", "").isdigit())
                or all(p[-1:] in ("s", "S") and p[:-1].isdigit() for p in s.split("-"))  # "SBP 90S-100S"
                or _TIMES.fullmatch(s) is not None  # "AC 500x14", "4x4": a setting or a size
            ):
                continue
            if rule == "street" and _STREET_NOT.search(s):
                continue
            if rule in ("hospital", "organization"):
                parts = list(re.finditer(r"[\w'&.-]+", s))
                k = 0
                while k < len(parts) - 1 and parts[k].group(0).lower().rstrip(".") in _NOT_IN_NAME:
                    k += 1
                if k == len(parts) - 1 and len(parts) > 1:
                    continue  # "in the hospital"
                if rule == "organization" and re.search(r"\b(?:blood|food|tissue|eye|sperm|milk) bank\b", s, _I):
                    continue  # "called Blood Bank for FFP"
                start += parts[k].start() - lead
            if rule == "date-text" and re.match(r"(?:may|mar)\b", s, _I) and not s[0].isupper():
                continue
            spans.append(PhiSpan(start, end, LOCATION if label == "ZIP" else label, rule))
    return spans


_TIMES = re.compile(r"\d+(?:\.\d+)?[xX]\d+(?:\.\d+)?(?:[xX]\d+)?(?:cm|mm|cc|ml)?", _I)


def _resolve(spans: Iterable[PhiSpan]) -> list[PhiSpan]:
    """Merge overlapping spans; the longest wins the label."""
    ordered = sorted(spans, key=lambda s: (s.start, -(s.end - s.start), s.rule == "city"))
    out: list[PhiSpan] = []
    for s in ordered:
        if out and s.start < out[-1].end:
            last = out[-1]
            if s.end > last.end:
                keep = last if (last.end - last.start) >= (s.end - s.start) else s
                out[-1] = PhiSpan(last.start, s.end, keep.label, keep.rule)
            continue
        out.append(s)
    return out


_WORD_PARTS = re.compile(r"[-'’]")


def _gate_words(toks: list[_Tok]) -> set[str]:
    """The note's lower-case tokens, and the parts of hyphenated ones: what the word gates look up."""
    words = {t.lower for t in toks} or {""}
    words.update(p for w in [w for w in words if "-" in w or "'" in w or "’" in w] for p in _WORD_PARTS.split(w))
    return words


def find_phi(text: str, *, config: DeidConfig | None = None, lexicon: Lexicon | None = None) -> list[PhiSpan]:
    """Return the PHI spans of ``text``, sorted and non-overlapping, offsets into ``text``."""
    cfg = config or DeidConfig()
    lex = lexicon or load_lexicon()
    toks = _tokens(text, lex)
    words = _gate_words(toks)
    found = _patterns(text, words) + _phones(text) + _partial_dates(text) + _places(text, toks, lex, cfg)
    if "the" in words and not _ORDINAL_SUFFIXES.isdisjoint(words):  # "12TH" gives the token "TH"
        found += _ordinal_dates(text)
    if not _MONTH_WORDS.isdisjoint(words):
        found += _months_alone(toks, [i > 0 and text[toks[i - 1].end : t.start] == " " for i, t in enumerate(toks)])
    found += _names(text, toks, lex, cfg)
    return _resolve(found)


_MONTH_WORDS = _MONTHS_ALONE | _MONTHS_VERBS


# --------------------------------------------------------------------------- replacement
def date_shift_days(key: bytes, patient_key: str, max_days: int = 365) -> int:
    """Per-patient keyed offset in ``[-max_days, max_days]``, never 0 (HMAC-SHA256 of the patient key)."""
    digest = hmac.new(key, patient_key.encode("utf-8"), hashlib.sha256).digest()
    offset = int.from_bytes(digest[:4], "big") % (2 * max_days) - max_days
    return offset if offset < 0 else offset + 1


_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH_FULL = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip


def _style(word: str, template: str) -> str:
    if template.isupper():
        return word.upper()
    if template[:1].isupper():
        return word.capitalize()
    return word.lower()


def _ordinal(day: int) -> str:
    return "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def shift_date_text(s: str, days: int) -> str | None:
    """Shift a date written in one of the recognised formats by ``days``, keeping its format."""
    m = re.fullmatch(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(.*)", s, re.S)
    if m:
        d = date(int(m[1]), int(m[3]), int(m[4])) + timedelta(days)
        return f"{d.year:04d}{m[2]}{d.month:0{len(m[3])}d}{m[2]}{d.day:0{len(m[4])}d}{m[5]}"
    m = re.fullmatch(r"(\d{1,2})([-/.])(\d{1,2})(?:\2(\d{4}|\d{2}))?(.*)", s, re.S)
    if m:
        year = int(m[4]) if m[4] else 2001
        if m[4] and len(m[4]) == 2:
            year += 2000 if year < 50 else 1900
        month_first = m[2] != "." and int(m[1]) <= 12
        mo, dy = (int(m[1]), int(m[3])) if month_first else (int(m[3]), int(m[1]))
        d = date(year, mo, dy) + timedelta(days)
        first, second = (d.month, d.day) if month_first else (d.day, d.month)
        out = f"{first:0{len(m[1])}d}{m[2]}{second:0{len(m[3])}d}"
        if m[4]:
            out += m[2] + (f"{d.year:04d}" if len(m[4]) == 4 else f"{d.year % 100:02d}")
        return out + m[5]
    m = re.fullmatch(rf"({_MONTH})(\.?\s+)(\d{{1,2}})({_ORD})((?:,?\s+)(\d{{4}}))?(.*)", s, re.S | _I)
    if m:
        mo = _MONTHS.index(m[1][:3].lower()) + 1
        year = int(m[6]) if m[6] else 2001
        d = date(year, mo, int(m[3])) + timedelta(days)
        name = _MONTH_FULL[d.month - 1] if len(m[1]) > 3 else _MONTHS[d.month - 1]
        out = _style(name, m[1]) + m[2] + str(d.day) + (_ordinal(d.day) if m[4] else "")
        if m[5]:
            out += m[5][: len(m[5]) - 4] + str(d.year)
        return out + m[7]
    return None


def _keyed(key: bytes, label: str, value: str) -> int:
    return int.from_bytes(hmac.new(key, f"{label}\x00{value.lower()}".encode(), hashlib.sha256).digest()[:8], "big")


_SURROGATE_FIRST = ["Alex", "Jordan", "Casey", "Morgan", "Taylor", "Jamie", "Robin", "Avery", "Riley", "Quinn"]
_SURROGATE_LAST = ["Ashdown", "Brennick", "Calloway", "Dunmore", "Everly", "Fairholt", "Garrow", "Hadley"]


def _surrogate(label: str, original: str, key: bytes, days: int | None) -> str:
    h = _keyed(key, label, original)
    if label == DATE and days is not None:
        try:
            shifted = shift_date_text(original, days)
        except ValueError:
            shifted = None
        return shifted if shifted is not None else "[DATE]"
    if label == NAME:
        parts = original.split()
        pool = _SURROGATE_LAST if len(parts) == 1 else _SURROGATE_FIRST
        words = [pool[(h >> (4 * k)) % len(pool)] for k in range(len(parts))]
        if len(parts) > 1:
            words[-1] = _SURROGATE_LAST[h % len(_SURROGATE_LAST)]
        return " ".join(_style(w, p) for w, p in zip(words, parts, strict=True))
    if label in (PHONE, ID, SSN, AGE) or (label == LOCATION and original.strip().isdigit()):
        digits = str(h).rjust(len(original), "7")
        it = iter(digits)
        out = "".join(next(it) if c.isdigit() else c for c in original)
        return "90+" if label == AGE else out
    if label == EMAIL:
        return f"user{h % 100000}@example.org"
    if label in (URL, IP):
        return f"[{label}]"
    return f"[{label}]"


def deidentify(
    text: str,
    *,
    mode: Literal["tag", "surrogate"] = "tag",
    key: bytes | None = None,
    patient_key: str | None = None,
    spans: list[PhiSpan] | None = None,
    config: DeidConfig | None = None,
) -> DeidResult:
    """Replace PHI with ``[LABEL]`` tags, or with format-keeping surrogates.

    Surrogates need ``key`` (a secret); with ``patient_key`` too, dates are shifted by that
    patient's keyed offset so that intervals between them survive.
    """
    found = find_phi(text, config=config) if spans is None else spans
    if mode == "surrogate" and not key:
        raise ValueError("surrogate mode needs a secret key (bytes) for keyed surrogates")
    days = date_shift_days(key, patient_key) if key and patient_key else None
    pieces: list[str] = []
    pos = 0
    for s in found:
        pieces.append(text[pos : s.start])
        original = text[s.start : s.end]
        pieces.append(f"[{s.label}]" if mode == "tag" or key is None else _surrogate(s.label, original, key, days))
        pos = s.end
    pieces.append(text[pos:])
    return DeidResult("".join(pieces), found)
