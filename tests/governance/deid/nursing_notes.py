"""Synthetic ICU nursing notes with known PHI spans, to measure recall and precision.

Written for Hygeia in the style of free-text ICU nursing progress notes: system-by-system
sections full of abbreviations (PT, SOB, NAD, HR, MAE, PERRL, CYU), drug brand names, many notes
entirely in capitals, names without titles (patients, relatives, staff first names on their own),
partial dates ("3/12", "3-12"), times, phone numbers and extensions, hospitals, towns and ages.
The name pools mix common US names with names that no census list holds, and include first names
that are ordinary words (Rose, Bill, Will): nothing here is drawn from the de-identifier's own
lexicon. Gold spans are recorded as the notes are filled, so the truth is exact.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

FIRST = [
    "Margaret",
    "John",
    "Linda",
    "Robert",
    "Patricia",
    "Michael",
    "Susan",
    "Kevin",
    "Deborah",
    "Brian",
    "Karen",
    "Paul",
    "Donna",
    "Mark",
    "Nancy",
    "Joseph",
    "Maureen",
    "Dennis",
    "Kathleen",
    "Gerald",
    "Eileen",
    "Walter",
    "Dolores",
    "Francis",
    "Bridget",
    "Stanley",
    "Lorraine",
    "Ernest",
    "Theresa",
    "Ralph",
    "Ingrid",
    "Dmitri",
    "Fatima",
    "Oluwaseun",
    "Siobhan",
    "Yusuf",
    "Anh",
    "Priya",
    "Tadeusz",
    "Leontyne",
    "Bartholomew",
    "Imelda",
    "Wojciech",
    "Ngozi",
    "Kwame",
    "Rosalind",
    "Eamon",
    "Thuy",
    "Aurelio",
    "Magdalena",
    "Ximena",
    "Giuseppe",
    "Ruth",
    "Agnes",
    "Rose",
    "Grace",
    "Will",
    "Bill",
    "Pat",
    "Sue",
    "Joy",
    "Hope",
    "Frank",
    "Carol",
]
STAFF = [
    "Kathy",
    "Deb",
    "Jen",
    "Sue",
    "Chris",
    "Mike",
    "Liz",
    "Beth",
    "Meg",
    "Lisa",
    "Amy",
    "Kim",
    "Tom",
    "Nancy",
    "Pam",
    "Jill",
    "Val",
    "Steph",
    "Becky",
    "Colleen",
    "Maura",
    "Siobhan",
    "Tanisha",
    "Ngoc",
    "Brigid",
    "Dana",
    "Sharon",
    "Kerry",
    "Nora",
    "Marybeth",
]
LAST = [
    "Sullivan",
    "Murphy",
    "O'Brien",
    "Kowalczyk",
    "Nguyen",
    "Hargreaves",
    "Delgado",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Fitzgerald",
    "McCarthy",
    "Donovan",
    "Ricci",
    "Papadopoulos",
    "Schwartz",
    "Goldberg",
    "Tran",
    "Olszewski",
    "Brennan",
    "Callahan",
    "Mahoney",
    "Costa",
    "DiMarco",
    "Szymanski",
    "Abernathy",
    "Whitcombe",
    "Adeyemi",
    "Przybylski",
    "Oyelaran",
    "Vasquez-Ruiz",
    "Thibodeau",
    "Lafleur",
    "Brown",
    "White",
    "Young",
    "Hill",
    "Green",
    "Wood",
    "King",
    "Bell",
    "Rich",
]
TOWNS = [
    "Brockton",
    "Quincy",
    "Framingham",
    "Lowell",
    "Worcester",
    "Somerville",
    "Dorchester",
    "Revere",
    "Haverhill",
    "Chelsea",
    "Malden",
    "Plymouth",
    "Weymouth",
    "Braintree",
    "Attleboro",
    "Fitchburg",
    "Nashua",
    "Providence",
    "Hyannis",
    "Gloucester",
]
HOSPITALS = [
    "{town} Hospital",
    "St. Elizabeth's",
    "{town} General",
    "{last} Rehab",
    "Mount Auburn",
    "{town} Medical Center",
    "Caritas Carney",
    "South Shore Hospital",
]
# Not PHI: drug brand names and devices that no allow-list of the de-identifier holds on purpose.
DRUGS = [
    "Precedex",
    "Cardizem",
    "Nimbex",
    "Keppra",
    "Dilantin",
    "Seroquel",
    "Ambien",
    "Flovent",
    "Vasotec",
    "Imdur",
    "Plavix",
    "Zyprexa",
    "Cellcept",
    "Bactrim",
    "Diflucan",
    "Tamiflu",
    "Unasyn",
    "Ancef",
    "Xigris",
    "Natrecor",
    "Integrilin",
    "Aggrastat",
    "Cozaar",
    "Procrit",
    "Neupogen",
    "Ensure",
    "Nepro",
    "Promote",
    "Pulmocare",
    "Impact",
    "Peptamen",
    "Isosource",
    "Jevity",
    "Boost",
    "Glucerna",
    "Nutren",
    "Vivonex",
    "Resource",
    "Replete",
    "Kefzol",
    "Vasopressin",
    "Primacor",
    "Nipride",
    "Tridil",
    "Cleviprex",
    "Brevibloc",
    "Pepcid",
    "Carafate",
    "Sucralfate",
    "Mylanta",
]
RELATIONS = [
    "wife",
    "husband",
    "son",
    "daughter",
    "dtr",
    "sister",
    "brother",
    "niece",
    "nephew",
    "mother",
    "father",
    "friend",
    "HCP",
]


@dataclass(frozen=True)
class Note:
    text: str
    spans: list[tuple[int, int, str]]  # (start, end, label)


# Sentences; {slots} are PHI (recorded as gold), <slots> are filled but not PHI.
SENTENCES = [
    "Neuro: A&O x3, MAE, PERRL 3mm brisk. Follows commands. Denies pain.",
    "Neuro: lethargic but arousable to voice, MAE weakly. Ativan 1mg IV x1 for agitation with good effect.",
    "CV: HR 80-90s NSR, no ectopy. BP 110-130/60s. K 3.6, repleted with 40 meq KCL.",
    "CV: ST 100-110s, occ PVCs. SBP 90s on Levophed 0.08 mcg/kg/min. Neo weaned off at <time>.",
    "Resp: LS clear upper, diminished bases. 2L NC, sats 95-98%. Pt c/o SOB with exertion, NAD at rest.",
    "Resp: vented on AC 500 x 14, FiO2 40%, PEEP 5. Suctioned for thick tan secretions. ABG 7.38/42/98.",
    "GI: abd soft, distended, +BS. TF at goal 60cc/hr via OGT. BM x1 OB neg.",
    "GU: foley draining CYU 30-60cc/hr. Lasix 40mg IV given at <time> with good response.",
    "ID: Tmax 101.2, pan cultured. On vanco and zosyn. WBC 14.",
    "Skin: coccyx reddened, duoderm applied. Turned q2h. Heparin SQ for DVT prophylaxis.",
    "Access: R IJ TLC, L radial aline. PICC placed by IV team, CXR confirmed placement.",
    "Endo: RISS, BS 140-180. Insulin gtt off since <time>.",
    "Code status: full code. Pt's PCP is Dr. {last} ({phone}).",
    "Social: {rel} {first} called x2, updated by RN. Phone {phone}.",
    "{rel} {first} {last} in to visit this evening, questions answered.",
    "Pt's {rel}, {first}, is HCP and would like a call with any changes at {phone}.",
    "Seen by Dr. {last}, plan to diurese and repeat echo.",
    "Dr. {last} aware of low UO, 500cc NS bolus given.",
    "{staff} RN aware.",
    "Report given to {staff}.",
    "Discussed pt with {staff} in admitting, bed requested on <unit>.",
    "{staff} from IV team placed 20g in L forearm.",
    "Covering MD {first} {last} notified of SBP 80s.",
    "Pt is a {age} yo M admitted {date} with urosepsis.",
    "Pt is a {age} y/o F transferred from {hospital} on {date} for management of CHF.",
    "Lives in {town} with {rel}. Retired machinist.",
    "Plan: family meeting {date} at <time> with Dr. {last}.",
    "Plan: f/u CXR in AM, d/c to {hospital} when bed available.",
    "Mr. {last} resting comfortably at this time.",
    "Mrs. {last} anxious overnight, reassured.",
    "{first} asking for her {rel} repeatedly.",
    "{last} family in this afternoon, upset about plan. SW {first} {last} paged.",
    "{rel} {first} at bedside most of shift, very supportive.",
    "Pt states her name is {first} and she is in the hospital, disoriented to date.",
    "Case management ({first}) working on screening for rehab.",
    "Per {staff}, RT, pt to remain on CPAP overnight.",
    "Discussed with Dr. {last} and Dr. {last}, will hold heparin until <time>.",
    "Pt wants {rel} {first} to be called at {phone} if any changes.",
    "Orig admitted to {hospital} on {date}, intubated there and transferred here.",
    "Last BM {date}.",
    "Started on <drug> this am, <drug> held for SBP 90s.",
    "TF changed to <drug> at 40cc/hr, residuals < 30cc. <drug> 2 gm IV q8h.",
    "Will continue to monitor closely. Will update family.",
    "Hct 27.8 from 30.1, transfused 1 unit PRBC at <time>. Pt tolerated well.",
    "Pain: 4/10, given morphine 2mg IV with relief to 2/10.",
    "Pt's {rel} {first} from {town} will visit on {date}.",
    "Called blood bank ext {ext} re: type and cross.",
    "Pt {first} {last} identified by name band and DOB {dob}.",
]

NOT_PHI = {
    "time": lambda r: f"{r.randint(0, 23):02d}{r.choice(['00', '15', '30', '45'])}",
    "unit": lambda r: r.choice(["7 North", "the floor", "CCU", "tele"]),
    "drug": lambda r: r.choice(DRUGS),
}


def _phone(r: random.Random) -> str:
    return r.choice(
        [
            f"617-{r.randint(200, 999)}-{r.randint(0, 9999):04d}",
            f"({r.randint(200, 999)}) {r.randint(200, 999)}-{r.randint(0, 9999):04d}",
            f"{r.randint(200, 999)}-{r.randint(0, 9999):04d}",
        ]
    )


def _date(r: random.Random) -> str:
    m, d = r.randint(1, 12), r.randint(1, 28)
    return r.choice([f"{m}/{d}", f"{m}-{d}", f"{m}/{d}/{r.randint(2001, 2012)}", f"{m:02d}/{d:02d}"])


def _fill(slot: str, r: random.Random, people: dict[str, str]) -> tuple[str, str]:
    """One slot's value and label ('' when it is not PHI)."""
    if slot in NOT_PHI:
        return NOT_PHI[slot](r), ""
    if slot == "first":
        return r.choice([people["first"], people["rel_first"], r.choice(FIRST)]), "NAME"
    if slot == "last":
        return r.choice([people["last"], r.choice(LAST)]), "NAME"
    if slot == "staff":
        return r.choice(STAFF), "NAME"
    if slot == "rel":
        return r.choice(RELATIONS), ""
    if slot == "phone":
        return _phone(r), "PHONE"
    if slot == "ext":
        return str(r.randint(2000, 9999)), "PHONE"
    if slot in ("date", "dob"):
        return (
            _date(r) if slot == "date" else f"{r.randint(1, 12)}/{r.randint(1, 28)}/{r.randint(1915, 1960)}"
        ), "DATE"
    if slot == "age":
        age = r.randint(48, 99)
        return str(age), ("AGE" if age > 89 else "")
    if slot == "town":
        return r.choice(TOWNS), "LOCATION"
    if slot == "hospital":
        return r.choice(HOSPITALS).format(town=r.choice(TOWNS), last=r.choice(LAST)), "HOSPITAL"
    raise KeyError(slot)


_SLOT = re.compile(r"\{(\w+)\}|<(\w+)>")


def make_note(r: random.Random) -> Note:
    people = {"first": r.choice(FIRST), "last": r.choice(LAST), "rel_first": r.choice(FIRST)}
    header = r.choice(["NPN 7P-7A", "Nursing Progress Note 0700-1900", "MICU NSG NOTE", "CCU Nursing Progress Note"])
    chosen = r.sample(SENTENCES, r.randint(7, 12))
    text = header + "\n"
    spans: list[tuple[int, int, str]] = []
    for sentence in chosen:
        pos = 0
        for m in _SLOT.finditer(sentence):
            text += sentence[pos : m.start()]
            value, label = _fill(m.group(1) or m.group(2), r, people)
            if label:
                spans.append((len(text), len(text) + len(value), label))
            text += value
            pos = m.end()
        text += sentence[pos:] + r.choice([" ", " ", "\n"])
    if r.random() < 0.4:
        text = text.upper()
    return Note(text, spans)


def make_notes(count: int, seed: int = 2008) -> list[Note]:
    rng = random.Random(seed)
    return [make_note(rng) for _ in range(count)]
