"""DICOM de-identification: PS3.15 Annex E Basic Application Level Confidentiality Profile.

Driven by the machine-readable Table E.1-1 (``tag,name,basic_profile,...,in_std_composite_iod``, as
published by innolitics/dicom-standard from DICOM PS3.15 2024b). Actions (PS3.15 E.3.1):

- ``D``: replace with a non-zero-length dummy value of the same VR; ``Z``: zero-length value
  (an empty sequence for SQ); ``X``: remove; ``K``: keep (a kept sequence is still cleaned inside);
  ``C``: clean — treated as ``D`` here (no cleaning of descriptions is attempted);
  ``U``: replace the UID with a keyed one, ``2.25.<128-bit integer of HMAC-SHA256(uid)>``, the same
  for the same input UID, so series and instances of a study stay linked;
- combinations name the choice an IOD forces: ``Z/D`` → ``Z``; ``X/Z``, ``X/D``, ``X/Z/D``,
  ``X/Z/U*`` → ``X`` when the attribute is in no standard composite IOD
  (``in_std_composite_iod`` = N), otherwise the least destructive value-keeping choice after
  ``X`` (``Z``, ``D``, ``Z``, ``U`` for UIDs else ``Z``), because without an IOD module table we
  cannot know whether it is Type 1, 2 or 3 there.

Private tags are removed, as are group-wildcard rows (``50xx``, ``60xx``). The actions apply at
every nesting level. Burned-in annotation is flagged (not removed): ``BurnedInAnnotation`` = YES,
or modalities and image types that usually carry text in pixels (secondary capture, ultrasound,
endoscopy, documents, derived screenshots). Patient Identity Removed is set to YES and the
method recorded (De-identification Method Code 113100, Basic Application Confidentiality Profile).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import hmac
import io
from dataclasses import dataclass, field
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag

ACTIONS = frozenset(["D", "Z", "X", "K", "C", "U", "Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"])
_BURNED_IN_MODALITIES = frozenset(["US", "SC", "ES", "XC", "OT", "DOC", "SM", "GM", "OP"])


@dataclass(frozen=True)
class ProfileRule:
    tag: str  # "(0010,0010)" or with x wildcards "(50XX,XXXX)"
    name: str
    action: str
    in_iod: bool


@dataclass(frozen=True)
class BasicProfile:
    exact: dict[int, ProfileRule]
    wildcard: list[tuple[int, int, ProfileRule]]  # (mask, value, rule)
    private: ProfileRule | None = None  # "(gggg,eeee) where gggg is odd"

    def rule(self, tag: int) -> ProfileRule | None:
        if (tag >> 16) % 2 == 1 and self.private is not None:
            return self.private
        found = self.exact.get(tag)
        if found is not None:
            return found
        for mask, value, rule in self.wildcard:
            if tag & mask == value:
                return rule
        return None


def parse_profile(text: str, source: str = "profile") -> BasicProfile:
    """Parse Table E.1-1 as CSV; a bad row raises ``ValueError`` naming its line."""
    exact: dict[int, ProfileRule] = {}
    wildcard: list[tuple[int, int, ProfileRule]] = []
    private: ProfileRule | None = None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"tag", "name", "basic_profile"} - set(reader.fieldnames or [])
    if missing:
        raise ValueError(f"{source}: missing column(s) {sorted(missing)}")
    for number, row in enumerate(reader, start=2):
        raw = (row.get("tag") or "").strip().upper()
        action = (row.get("basic_profile") or "").strip()
        if action not in ACTIONS:
            raise ValueError(f"{source}:{number}: unknown action {action!r} for {raw}")
        if "ODD" in raw:  # the private attributes row
            private = ProfileRule(raw, row.get("name") or "", action, False)
            continue
        digits = raw.strip("()").replace(",", "")
        if len(digits) != 8 or any(c not in "0123456789ABCDEFX" for c in digits):
            raise ValueError(f"{source}:{number}: bad tag {raw!r}, expected (gggg,eeee)")
        rule = ProfileRule(raw, row.get("name") or "", action, (row.get("in_std_composite_iod") or "Y") != "N")
        if "X" in digits:
            mask = int("".join("0" if c == "X" else "F" for c in digits), 16)
            value = int(digits.replace("X", "0"), 16)
            wildcard.append((mask, value, rule))
        else:
            exact[int(digits, 16)] = rule
    return BasicProfile(exact, wildcard, private)


def load_profile(path: Path) -> BasicProfile:
    return parse_profile(path.read_text(encoding="utf-8"), str(path))


def resolve_action(rule: ProfileRule, vr: str) -> str:
    """The single action applied for a table action (see the module docstring)."""
    a = rule.action
    if a == "C":
        return "D"
    if a == "Z/D":
        return "Z"
    if "/" in a:
        if not rule.in_iod:
            return "X"
        return {"X/Z": "Z", "X/D": "D", "X/Z/D": "Z", "X/Z/U*": "U" if vr == "UI" else "Z"}[a]
    return a


def keyed_uid(key: bytes, uid: str) -> str:
    """``2.25.<int>``: a UUID-derived UID (PS3.5 B.2) from HMAC-SHA256 of the original UID."""
    return "2.25." + str(int.from_bytes(hmac.new(key, uid.encode(), hashlib.sha256).digest()[:16], "big"))


_DUMMY: dict[str, object] = {
    "PN": "ANONYMOUS",
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "AS": "000Y",
    "IS": "0",
    "DS": "0",
    "CS": "ANONYMIZED",
    "AE": "ANONYMOUS",
    "UR": "http://example.org",
    "US": 0,
    "SS": 0,
    "UL": 0,
    "SL": 0,
    "UV": 0,
    "SV": 0,
    "FL": 0.0,
    "FD": 0.0,
    "AT": 0,
    "OB": b"\x00\x00",
    "OW": b"\x00\x00",
    "OF": b"\x00\x00\x00\x00",
    "OD": b"\x00" * 8,
    "OL": b"\x00" * 4,
    "OV": b"\x00" * 8,
    "UN": b"\x00\x00",
}


@dataclass
class DicomDeidReport:
    actions: dict[str, str] = field(default_factory=dict)  # tag "(gggg,eeee)" → action applied
    private_removed: int = 0
    burned_in_suspected: bool = False
    burned_in_reasons: list[str] = field(default_factory=list)


def _remap_uids(value: object, key: bytes) -> object:
    if isinstance(value, list | tuple | MultiValue):
        return [keyed_uid(key, str(v)) for v in value]
    return keyed_uid(key, str(value)) if value not in (None, "") else value


def _apply(ds: Dataset, profile: BasicProfile, key: bytes, report: DicomDeidReport, depth: int) -> None:
    for elem in list(ds):
        tag: BaseTag = elem.tag
        if tag.is_private:
            del ds[tag]
            report.private_removed += 1
            continue
        rule = profile.rule(int(tag))
        if rule is None:
            if elem.VR == "SQ":
                for item in elem.value:
                    _apply(item, profile, key, report, depth + 1)
            continue
        action = resolve_action(rule, elem.VR)
        if depth == 0:
            report.actions[rule.tag if "X" not in rule.tag.strip("()").replace(",", "") else str(Tag(tag))] = action
        if action == "X":
            del ds[tag]
        elif action == "Z":
            elem.value = Sequence() if elem.VR == "SQ" else (b"" if elem.VR in ("OB", "OW", "UN") else "")
        elif action == "D":
            if elem.VR == "SQ":
                elem.value = Sequence([Dataset()])
            elif elem.VR == "UI":
                elem.value = _remap_uids(elem.value, key)
            else:
                elem.value = _DUMMY.get(elem.VR, "ANONYMIZED")
        elif action == "U":
            if elem.VR == "SQ":
                for item in elem.value:
                    _apply(item, profile, key, report, depth + 1)
            else:
                elem.value = _remap_uids(elem.value, key)
        elif action == "K" and elem.VR == "SQ":
            for item in elem.value:
                _apply(item, profile, key, report, depth + 1)


def burned_in_annotation(ds: Dataset) -> list[str]:
    """Reasons to suspect text burned into the pixels (empty list: none found)."""
    reasons = []
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        reasons.append("BurnedInAnnotation is YES")
    modality = str(ds.get("Modality", "")).upper()
    if modality in _BURNED_IN_MODALITIES:
        reasons.append(f"modality {modality} often carries burned-in text")
    image_type = [str(v).upper() for v in (ds.get("ImageType") or [])] if "ImageType" in ds else []
    if "SECONDARY" in image_type or "SCREEN SHOT" in " ".join(image_type):
        reasons.append("ImageType marks a secondary capture or screenshot")
    if "ConversionType" in ds:
        reasons.append(f"ConversionType {ds.ConversionType} (secondary capture)")
    return reasons


def deidentify_dataset(ds: Dataset, profile: BasicProfile, key: bytes) -> tuple[Dataset, DicomDeidReport]:
    """Apply the Basic Profile to a copy of ``ds``; the input is not changed."""
    out = copy.deepcopy(ds)
    report = DicomDeidReport()
    reasons = burned_in_annotation(out)
    _apply(out, profile, key, report, 0)
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = "PS3.15 Annex E Basic Profile (Hygeia)"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator = "113100", "DCM"
    code.CodeMeaning = "Basic Application Confidentiality Profile"
    out.DeidentificationMethodCodeSequence = Sequence([code])
    meta = getattr(out, "file_meta", None)
    if meta is not None and "SOPInstanceUID" in out and "MediaStorageSOPInstanceUID" in meta:
        meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    report.burned_in_suspected = bool(reasons)
    report.burned_in_reasons = reasons
    return out, report
