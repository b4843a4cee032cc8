"""HL7 v2 ADT → FHIR Patient/Encounter with location history, on synthetic messages."""

from __future__ import annotations

from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.records.hl7v2 import Encoding, Hl7ParseError, apply_adt, parse_message, split_messages


def adt(
    event: str,
    when: str,
    pv1_3: str = "4WEST^401^B^HOSP",
    pv1_6: str = "",
    extra: str = "",
    pid_name: str = "Doe^Jane^Q",
    pv1_44: str = "",
    pv1_45: str = "",
) -> str:
    """A minimal ADT message (standard separators); PV1-19 is visit V100."""
    pv1 = ["PV1", "1", "I", pv1_3, "", "", pv1_6] + [""] * 12 + ["V100"] + [""] * 24 + [pv1_44, pv1_45]
    segments = [
        ["MSH", "^~\\&", "ADT", "HOSP", "HYG", "HYG", when, "", f"ADT^{event}", f"CTRL{when}", "P", "2.5"],
        ["EVN", event, when],
        ["PID", "1", "", "12345^^^HOSP^MR", "", pid_name, "", "19800102", "F"],
        pv1,
    ]
    text = "\r".join("|".join(s) for s in segments)
    return text + ("\r" + extra if extra else "") + "\r"


def run(*messages: str) -> tuple[dict[str, Any], dict[str, Any]]:
    encounter: dict[str, Any] | None = None
    patient: dict[str, Any] = {}
    for m in messages:
        patient, encounter = apply_adt(parse_message(m), encounter)
    assert encounter is not None
    return patient, encounter


def validate(*resources: dict[str, Any]) -> None:
    for r in resources:
        get_fhir_model_class(r["resourceType"]).model_validate(r)


def test_admit_transfer_discharge_keeps_location_history() -> None:
    patient, enc = run(
        adt("A01", "202401011200", pv1_44="202401011155"),
        adt("A02", "202401021230", pv1_3="ICU^1^A^HOSP", pv1_6="4WEST^401^B^HOSP"),
        adt("A02", "202401031000", pv1_3="4EAST^12^^HOSP"),
        adt("A03", "202401051200"),
    )
    validate(patient, enc)
    assert enc["status"] == "finished"
    assert enc["period"] == {"start": "2024-01-01T11:55:00+00:00", "end": "2024-01-05T12:00:00+00:00"}
    history = [(loc["location"]["display"], loc["status"], loc["period"]) for loc in enc["location"]]
    assert history == [
        (
            "4WEST, room 401, bed B",
            "completed",
            {"start": "2024-01-01T11:55:00+00:00", "end": "2024-01-02T12:30:00+00:00"},
        ),
        ("ICU, room 1, bed A", "completed", {"start": "2024-01-02T12:30:00+00:00", "end": "2024-01-03T10:00:00+00:00"}),
        ("4EAST, room 12", "completed", {"start": "2024-01-03T10:00:00+00:00", "end": "2024-01-05T12:00:00+00:00"}),
    ]
    assert [loc["physicalType"]["coding"][0]["code"] for loc in enc["location"]] == ["bd", "bd", "ro"]
    assert enc["subject"]["reference"] == f"Patient/{patient['id']}"
    assert patient["name"] == [{"family": "Doe", "given": ["Jane", "Q"]}]
    assert patient["birthDate"] == "1980-01-02" and patient["gender"] == "female"


def test_open_encounter_has_one_active_location_and_input_is_not_modified() -> None:
    _, first = run(adt("A01", "202401011200"))
    snapshot = repr(first)
    _, after = apply_adt(parse_message(adt("A02", "202401011300", pv1_3="ICU^1^A")), first)
    assert repr(first) == snapshot
    assert after["status"] == "in-progress"
    assert [loc["status"] for loc in after["location"]] == ["completed", "active"]
    assert "end" not in after["period"]
    # the same transfer again changes nothing
    _, again = apply_adt(parse_message(adt("A02", "202401011400", pv1_3="ICU^1^A")), after)
    assert again["location"] == after["location"]


def test_transfer_without_known_encounter_uses_prior_location() -> None:
    _, enc = run(adt("A02", "202401021230", pv1_3="ICU^1^A", pv1_6="4WEST^401^B"))
    assert [loc["location"]["display"] for loc in enc["location"]] == ["4WEST, room 401, bed B", "ICU, room 1, bed A"]
    assert enc["location"][0]["period"] == {"end": "2024-01-02T12:30:00+00:00"}
    validate(enc)


def test_register_and_update() -> None:
    _, enc = run(adt("A04", "202401011200"))
    assert enc["status"] == "arrived"
    patient, enc2 = apply_adt(parse_message(adt("A08", "202401011300", pid_name="Roe^Jane")), enc)
    assert patient["name"][0]["family"] == "Roe"
    assert enc2["location"] == enc["location"] and enc2["status"] == "arrived"
    validate(patient, enc2)


def test_pv2_admit_reason_and_class() -> None:
    _, enc = run(adt("A01", "202401011200", extra="PV2|||^Chest pain"))
    assert enc["reasonCode"] == [{"text": "Chest pain"}]
    assert enc["class"]["code"] == "IMP"


def test_split_messages_tolerates_mllp_and_newlines() -> None:
    a, b = adt("A01", "202401011200"), adt("A03", "202401021200")
    framed = f"\x0b{a}\x1c\r\x0b{b.replace(chr(13), chr(10))}\x1c\r"
    parts = split_messages(framed)
    assert len(parts) == 2
    assert [parse_message(p).event for p in parts] == ["A01", "A03"]
    with pytest.raises(Hl7ParseError, match="before the first MSH"):
        split_messages("PID|1\r" + a)


def test_custom_separators_and_escapes() -> None:
    msg = (
        "MSH#$*!@#ADT#HOSP#HYG#HYG#202401011200##ADT$A01#1#P#2.5\r"
        "PID#1##77$$$HOSP##O!F!Brien Smith$Ann##19700101#F\r"
        "PV1#1#I#W1$2$3"
    )
    parsed = parse_message(msg)
    assert parsed.family == "O#Brien Smith" and parsed.given == ("Ann",)
    assert parsed.location is not None and parsed.location.bed == "3"
    enc = Encoding("|", "^", "~", "\\", "&")
    assert enc.unescape(r"a\F\b\S\c\T\d\R\e\E\f\X41\\.br\g\H\h") == "a|b^c&d~e\\fA\ngh"


@pytest.mark.parametrize(
    ("message", "where"),
    [
        ("", "MSH"),
        ("PID|1", "MSH"),
        ("MSH|^~\\&|A|B|C|D|202401011200||ORU^R01|1|P|2.5\rPID|1||1", "MSH-9"),
        ("MSH|^~\\&|A|B|C|D|202401011200||ADT^A05|1|P|2.5\rPID|1||1", "MSH-9"),
        ("MSH|^^\\&|A|B|C|D|202401011200||ADT^A01|1|P|2.5", "MSH-2"),
        ("MSH|^~\\&|A|B|C|D|2024-01-01||ADT^A01|1|P|2.5", "MSH-7"),
        ("MSH|^~\\&|A|B|C|D|202401011200||ADT^A01|1|P|2.5\rPV1|1|I|W", "PID"),
        ("MSH|^~\\&|A|B|C|D|202401011200||ADT^A01|1|P|2.5\rPID|1||^^^H\rPV1|1|I|W", "PID-3"),
        ("MSH|^~\\&|A|B|C|D|202401011200||ADT^A01|1|P|2.5\rPID|1||1||D||19801345\rPV1|1|I|W", "PID-7"),
        ("MSH|^~\\&|A|B|C|D|202401011200||ADT^A01|1|P|2.5\rPID|1||1", "PV1"),
        ("MSH|^~\\&|A|B|C|D|202401011200||ADT^A02|1|P|2.5\rPID|1||1\rPV1|1|I|", "PV1-3"),
        ("MSH|^~\\&|A|B|C|D|202401011200||ADT^A01|1|P|2.5\rPID|1||1\rPV1|1|I|W|" + "|" * 40 + "2024x", "PV1-44"),
        ("MSH|^~\\&|A|B|C|D|202401011200||ADT^A01|1|P|2.5\rpid|1||1", "pid"),
    ],
)
def test_errors_name_segment_and_field(message: str, where: str) -> None:
    with pytest.raises(Hl7ParseError) as info:
        parse_message(message)
    assert info.value.where == where
    assert str(info.value).startswith(f"{where}: ")


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(TEXT)
def test_escape_round_trip(text: str) -> None:
    enc = Encoding()
    escaped = enc.escape_text(text)
    assert not any(ch in escaped for ch in "|^~&\r\n")
    assert enc.unescape(escaped) == text


@given(family=TEXT, given_name=TEXT)
@settings(max_examples=60)
def test_names_survive_a_message(family: str, given_name: str) -> None:
    enc = Encoding()
    name = f"{enc.escape_text(family)}^{enc.escape_text(given_name)}"
    parsed = parse_message(adt("A01", "202401011200", pid_name=name))
    assert parsed.family == family.strip()
    assert parsed.given == ((given_name.strip(),) if given_name.strip() else ())
    patient, _ = apply_adt(parsed, None)
    assert patient["id"] == "hl7-p-HOSP-12345"


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_garbage_raises_only_parse_errors(garbage: str) -> None:
    for candidate in (garbage, "MSH|^~\\&|" + garbage, adt("A01", "202401011200")[:60] + garbage):
        try:
            message = parse_message(candidate)
        except Hl7ParseError:
            continue
        apply_adt(message, None)


@given(st.binary(max_size=200))
@settings(max_examples=100)
def test_split_messages_never_crashes(data: bytes) -> None:
    try:
        parts = split_messages(data.decode("latin-1"))
    except Hl7ParseError:
        return
    assert all(p.startswith("MSH") for p in parts)
