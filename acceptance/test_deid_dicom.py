"""DICOM PS3.15 Annex E Basic Profile on deid-data's dicom-cookies: every attribute of Table E.1-1.

Each cookie gets every attribute of the table added (with a value of its VR, a sequence holding a
patient name inside) unless it already has it; after de-identification each attribute must show
the action the table names (combinations resolved as ``resolve_action`` documents).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from hygeia.governance.deid.dicom import deidentify_dataset, keyed_uid, load_profile, resolve_action

KEY = b"acceptance-secret-key-0123456789"
VALUES: dict[str, object] = {
    "PN": "Doe^Jane", "LO": "SECRET-LO", "SH": "SECRET", "LT": "secret text", "ST": "secret text",
    "UT": "secret text", "UC": "secret", "CS": "SECRET", "DA": "20200102", "TM": "101112", "DT": "20200102101112",
    "AS": "045Y", "IS": "7", "DS": "1.5", "AE": "SECRETAE", "UR": "http://secret.example", "UI": "1.2.3.4.5.6",
    "US": 7, "SS": 7, "UL": 7, "SL": 7, "FL": 1.5, "FD": 1.5, "AT": 0x00100010, "OB": b"\x01\x02", "OW": b"\x01\x02",
    "UN": b"\x01\x02",
}  # fmt: skip


def concrete(tag: str) -> int:
    group, element = tag.strip("()").upper().split(",")
    return int(group.replace("X", "0") + ("0010" if element == "XXXX" else element.replace("X", "0")), 16)


def add_all(ds: Dataset, rows: list[tuple[int, str]]) -> dict[int, object]:
    originals: dict[int, object] = {}
    for tag, _ in rows:
        if tag in ds:
            originals[tag] = ds[tag].value
            continue
        vr = dictionary_VR(tag).split(" or ")[0]
        if vr == "SQ":
            item = Dataset()
            item.PatientName = "Doe^Jane"
            ds.add_new(tag, vr, Sequence([item]))
        else:
            ds.add_new(tag, vr, VALUES.get(vr, "SECRET"))
        originals[tag] = ds[tag].value
    return originals


def test_every_basic_profile_attribute_on_every_cookie(reference: Callable[..., Path]) -> None:
    profile = load_profile(reference("privacy", "dicom", "ps3.15_tableE1-1_basic_profile_rev2024b.csv"))
    rules = list(profile.exact.values()) + [r for _, _, r in profile.wildcard]
    assert profile.private is not None and profile.private.action == "X"
    assert len(rules) + 1 == 621  # and the private-attributes row
    cookies = sorted(reference("privacy", "dicom", "dicom-cookies").glob("*.dcm"))
    assert cookies
    checked = 0
    for path in cookies:
        ds = pydicom.dcmread(path)
        ds.add_new(0x00091010, "LO", "private secret")
        rows = [(concrete(r.tag), r.tag) for r in rules]
        originals = add_all(ds, rows)
        out, report = deidentify_dataset(ds, profile, KEY)
        assert 0x00091010 not in out and report.private_removed >= 1
        for tag, name in rows:
            rule = profile.rule(tag)
            assert rule is not None
            before = originals[tag]
            vr = ds[tag].VR
            action = resolve_action(rule, vr)
            where = f"{path.name} {name} {rule.name} ({rule.action} → {action})"
            if action == "X":
                assert tag not in out, where
                checked += 1
                continue
            assert tag in out, where
            after = out[tag].value
            if action == "Z":
                assert after in ("", b"", None) or (vr == "SQ" and len(after) == 0), where
            elif action == "K":
                if vr == "SQ":
                    assert all("PatientName" not in item for item in after), where
                else:
                    assert after == before, where
            elif action == "D":
                assert after not in ("", b"", None) and after != before, where
            elif action == "U":
                if vr == "SQ":
                    assert all("PatientName" not in item for item in after), where
                else:
                    assert str(after) == keyed_uid(KEY, str(before)), where
            checked += 1
        assert out.PatientIdentityRemoved == "YES"
    assert checked == 620 * len(cookies)


def test_uids_consistent_across_study(reference: Callable[..., Path]) -> None:
    profile = load_profile(reference("privacy", "dicom", "ps3.15_tableE1-1_basic_profile_rev2024b.csv"))
    cookies = sorted(reference("privacy", "dicom", "dicom-cookies").glob("*.dcm"))
    by_study: dict[str, set[str]] = {}
    for path in cookies:
        ds = pydicom.dcmread(path)
        out, report = deidentify_dataset(ds, profile, KEY)
        assert out.StudyInstanceUID.startswith("2.25.") and len(out.StudyInstanceUID) <= 64
        assert out.StudyInstanceUID == keyed_uid(KEY, ds.StudyInstanceUID)
        assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
        by_study.setdefault(ds.StudyInstanceUID, set()).add(out.StudyInstanceUID)
        assert "PatientName" not in out or str(out.PatientName) in ("", "ANONYMOUS")
        if "ConversionType" in ds:
            assert report.burned_in_suspected
    assert all(len(v) == 1 for v in by_study.values())


@pytest.mark.parametrize("action", ["X/Z", "X/D", "X/Z/D", "X/Z/U*", "Z/D"])
def test_combinations_resolve(action: str) -> None:
    from hygeia.governance.deid.dicom import ProfileRule

    assert resolve_action(ProfileRule("(0010,0010)", "n", action, False), "PN") in ("X", "Z")
    assert resolve_action(ProfileRule("(0010,0010)", "n", action, True), "PN") in ("Z", "D")
