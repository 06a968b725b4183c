"""Pure rules of enrolment: search keys, ages, a minor's status in a group, documents checked against their MRZ."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from anyascii import anyascii

from travesia.audit.chain import canonical_json
from travesia.core.errors import N_
from travesia.enrolment.mrz import MrzFormatError, MrzProblem, parse
from travesia.enrolment.mrz_names import name_matches

ADULT_AGE = 18
CARERS = frozenset({"parent", "guardian", "head", "spouse", "partner", "grandparent", "sibling", "other_relative"})


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a name for search: 'Núñez' and 'NUNEZ' meet; other scripts are
    romanised (anyascii) so a search typed in Latin letters can find them."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", anyascii(plain).lower()).strip()


def name_key(given_names: str, surnames: str) -> str:
    return fold(f"{given_names} {surnames}")


def body_hash(payload: dict[str, object], images: Iterable[bytes] = ()) -> str:
    """What a submission was, to tell a retry (same hash) from a different body under the same id (409)."""
    digest = hashlib.sha256(canonical_json(payload).encode())
    for image in images:
        digest.update(hashlib.sha256(image).digest())
    return digest.hexdigest()


def document_number(value: str | None) -> str:
    """How a document number is stored and looked up: upper case, no spaces (dashes kept, as printed)."""
    return (value or "").upper().replace(" ", "")


def birth_text(year: int, month: int | None, day: int | None) -> str:
    if day and month:
        return f"{year:04d}-{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}" if month else f"{year:04d}"


def age_on(year: int, month: int | None, day: int | None, on: date) -> int:
    """Completed years; an unknown month or day counts as mid-year / mid-month (the usual convention)."""
    born = date(year, month or 7, day or (15 if month else 1))
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@dataclass(frozen=True)
class Member:
    age: int
    relation: str | None


class Registered(Protocol):
    """What the family rules read of a registration (an encounter row, or anything shaped like one)."""

    birth_year: int
    birth_month: int | None
    birth_day: int | None
    relation: str | None


def member_of(registered: Registered, on: date) -> Member:
    """A registration as a group member: age on the day and relation to the group's head."""
    return Member(age_on(registered.birth_year, registered.birth_month, registered.birth_day, on), registered.relation)


def child_status(child: Member, others: Iterable[Member]) -> str | None:
    """For a minor: 'accompanied' (an adult carer travels with them), 'separated' (adults, but none a parent,
    guardian or relative), 'unaccompanied' (no adult). None for adults."""
    if child.age >= ADULT_AGE:
        return None
    adults = [m for m in others if m.age >= ADULT_AGE]
    if not adults:
        return "unaccompanied"
    # Relations are to the group's head: a child of the head travels with a carer if the head is an adult;
    # anyone else is accompanied if an adult relative (not a mere companion) travels with them.
    if child.relation == "child" and any(m.relation == "head" for m in adults):
        return "accompanied"
    if any(m.relation in CARERS for m in adults) and child.relation not in (None, "companion"):
        return "accompanied"
    return "separated"


@dataclass
class CheckedDocument:
    doc_type: str
    number: str
    issuing_state: str | None
    expiry_date: date | None
    mrz_text: str | None
    mrz_format: str | None
    mismatches: list[str] = field(default_factory=list)


class DocumentProblem(ValueError):
    """A document's machine-readable zone does not hold: its problems, each translatable (mrz.MrzProblem)."""

    def __init__(self, index: int, field_name: str, problems: list[MrzProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.field = f"documents.{index}.{field_name}"
        self.problems = problems


def check_document(
    index: int,
    doc: object,
    *,
    given_names: str,
    surnames: str,
    sex: str,
    birth: tuple[int, int | None, int | None],
    nationality: str | None,
) -> CheckedDocument:
    """Fill a document from its zone, and list the typed fields that disagree with the zone (flags, not errors:
    an officer may have typed the truth). A zone with a bad check digit is an error naming line and field."""
    number = document_number(getattr(doc, "number", None))
    mrz_text = getattr(doc, "mrz", None)
    checked = CheckedDocument(
        doc_type=getattr(doc, "doc_type", None) or "other",
        number=number,
        issuing_state=getattr(doc, "issuing_state", None),
        expiry_date=getattr(doc, "expiry_date", None),
        mrz_text=None,
        mrz_format=None,
    )
    if not mrz_text:
        return checked
    try:
        zone = parse(mrz_text)
    except MrzFormatError as error:
        raise DocumentProblem(index, "mrz", error.problems) from None
    if not zone.valid:
        raise DocumentProblem(index, "mrz", zone.problems)
    checked.mrz_text = "\n".join(line for line in mrz_text.strip().upper().split())
    checked.mrz_format = zone.format
    checked.doc_type = getattr(doc, "doc_type", None) or zone.document_type
    checked.number = checked.number or zone.document_number
    checked.issuing_state = checked.issuing_state or zone.issuing_state or None
    checked.expiry_date = checked.expiry_date or zone.expiry_date
    mismatches = checked.mismatches
    if number and number != zone.document_number:
        mismatches.append("number")
    if getattr(doc, "issuing_state", None) and doc.issuing_state != zone.issuing_state:  # type: ignore[attr-defined]
        mismatches.append("issuing_state")
    if not name_matches(surnames, zone.surnames):
        mismatches.append("surnames")
    if given_names and zone.given_names and not name_matches(given_names, zone.given_names):
        mismatches.append("given_names")
    if zone.sex != "X" and sex != zone.sex:
        mismatches.append("sex")
    if nationality and zone.nationality and nationality != zone.nationality:
        mismatches.append("nationality")
    year, month, day = birth
    if zone.birth_date and (
        year != zone.birth_date.year
        or (month and month != zone.birth_date.month)
        or (day and day != zone.birth_date.day)
    ):
        mismatches.append("birth_date")
    return checked


# -- biometric capture: consent and exemptions --------------------------------------------------------------------
# No fingerprints below this age: the ridges of small children are too fine for reliable matching, and the EU's
# Eurodac recast sets the same floor. Faces have no floor.
FINGER_CAPTURE_AGE = 6


class CaptureProblem(ValueError):
    def __init__(self, field_name: str, message: str, **params: object) -> None:
        super().__init__(message % params if params else message)
        self.field = field_name
        self.message = message  # a catalogue entry; translated where it is shown
        self.params = params


TOO_YOUNG = N_("The person is %(age)s; fingerprints are taken from the age of %(floor)s.")


def capture_record(
    age: int, biometrics: object | None, has_photo: bool, finger_positions: Iterable[int]
) -> tuple[str | None, list[dict[str, object]]]:
    """Check what was captured against the consent and exemptions recorded with it, and add the exemptions the
    rules imply (a child under the capture age, a refusal). Returns the consent and the full list of exemptions;
    a contradiction is an error naming the field (an image of an exempt finger, images despite a refusal)."""
    consent = getattr(biometrics, "consent", None)
    given = list(getattr(biometrics, "exemptions", None) or [])
    exemptions: list[dict[str, object]] = []
    seen: set[tuple[str, int | None]] = set()
    for index, item in enumerate(given):
        key = (item.modality, item.finger_position)
        if key in seen:
            raise CaptureProblem(f"biometrics.exemptions.{index}", N_("This exemption is recorded twice."))
        seen.add(key)
        if item.reason == "refused" and consent != "refused":
            raise CaptureProblem(f"biometrics.exemptions.{index}.reason", N_("Consent is not recorded as refused."))
        if item.reason == "under_capture_age" and (item.modality == "face" or age >= FINGER_CAPTURE_AGE):
            raise CaptureProblem(f"biometrics.exemptions.{index}.reason", TOO_YOUNG, age=age, floor=FINGER_CAPTURE_AGE)
        exemptions.append(_exemption(item.modality, item.finger_position, item.reason, item.note, derived=False))
    if consent == "refused":
        exemptions += [
            _exemption(m, None, "refused", None, derived=True) for m in ("face", "finger") if (m, None) not in seen
        ]
    elif age < FINGER_CAPTURE_AGE and ("finger", None) not in seen:
        exemptions.append(_exemption("finger", None, "under_capture_age", None, derived=True))
    check_images(consent, exemptions, age, has_photo, finger_positions)
    return consent, exemptions


def check_images(
    consent: str | None, exemptions: list[dict[str, object]], age: int, has_photo: bool, fingers: Iterable[int]
) -> None:
    """Images may be taken only where consent and exemptions allow: at registration and when a scanner adds
    them later."""
    fingers = sorted(fingers)
    exempt = {(e["modality"], e["finger_position"]) for e in exemptions}
    if consent == "refused" and (has_photo or fingers):
        raise CaptureProblem("biometrics.consent", N_("Consent is recorded as refused, but images were supplied."))
    if age < FINGER_CAPTURE_AGE and fingers:
        raise CaptureProblem(f"fingerprint_{fingers[0]}", TOO_YOUNG, age=age, floor=FINGER_CAPTURE_AGE)
    if has_photo and ("face", None) in exempt:
        raise CaptureProblem("photo", N_("The face is recorded as exempt, but a photo was supplied."))
    for position in fingers:
        if ("finger", None) in exempt or ("finger", position) in exempt:
            raise CaptureProblem(
                f"fingerprint_{position}", N_("Finger %(position)s is recorded as exempt."), position=position
            )


# The least a field station captures: both index fingers (ISO/IEC 19794-4 positions 2 and 7), each one searched with
# its own evidence; a finger not taken is recorded as exempt with a reason, never left for the matcher to guess.
MINIMUM_FINGERS = (2, 7)


def minimum_missing(captured: Iterable[int], exemptions: Iterable[dict[str, object]]) -> list[int]:
    """The minimum's fingers neither captured nor recorded as exempt (all fingers exempt, e.g. a child: none)."""
    exempt = {e["finger_position"] for e in exemptions if e["modality"] == "finger"}
    if None in exempt:
        return []
    return [p for p in MINIMUM_FINGERS if p not in set(captured) and p not in exempt]


def _exemption(
    modality: str, position: int | None, reason: str, note: str | None, *, derived: bool
) -> dict[str, object]:
    return {"modality": modality, "finger_position": position, "reason": reason, "note": note, "derived": derived}
