"""What an enrolment brings in and what it answers. Validation here is the first gate for every path: web form,
API, bulk import and (later) station sync."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from travesia.core.errors import N_, RuleProblem
from travesia.enrolment.codes import country_code, languages

Country = Annotated[str, AfterValidator(country_code)]
Sex = Literal["F", "M", "X"]
DocType = Literal["passport", "id_card", "visa", "birth_certificate", "other"]
Relation = Literal[
    "head",
    "spouse",
    "partner",
    "child",
    "parent",
    "sibling",
    "grandparent",
    "grandchild",
    "other_relative",
    "guardian",
    "companion",
]
GroupKind = Literal["family", "travelling"]

RELATION_LABELS = {
    "head": N_("First person (head)"),
    "spouse": N_("Spouse or partner"),
    "partner": N_("Spouse or partner"),
    "child": N_("Child"),
    "parent": N_("Parent"),
    "sibling": N_("Sibling"),
    "grandparent": N_("Grandparent"),
    "grandchild": N_("Grandchild"),
    "other_relative": N_("Other relative"),
    "guardian": N_("Guardian"),
    "companion": N_("Companion"),
}
CHILD_STATUS_LABELS = {
    "accompanied": N_("accompanied"),
    "separated": N_("separated child"),
    "unaccompanied": N_("unaccompanied child"),
}
BIRTH_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
CLOCK_SKEW = timedelta(hours=24)  # a station's clock may be wrong; a registration far in the future is a typo


def compact_phone(value: str) -> str:
    """A phone number as digits with its leading +, so that the same number typed two ways compares equal."""
    digits = re.sub(r"[^0-9]", "", value)
    if not 5 <= len(digits) <= 20:
        raise RuleProblem(N_("A phone number has 5 to 20 digits."))
    return ("+" if value.strip().startswith("+") else "") + digits


Phone = Annotated[str, Field(max_length=40, pattern=r"^\+?[0-9 ()\-]{5,40}$"), AfterValidator(compact_phone)]


def _language(value: str) -> str:
    code = value.strip().lower()
    if code not in languages():
        raise RuleProblem(N_("Not an ISO 639 language code (two or three letters, e.g. es, ht)."))
    return code


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    doc_type: DocType | None = None  # filled from the MRZ when absent
    number: str | None = Field(None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9<\- ]+$")
    issuing_state: Country | None = None
    expiry_date: date | None = None
    mrz: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _number_or_zone(self) -> DocumentIn:
        if not self.number and not self.mrz:
            raise RuleProblem(N_("Give the document number or its machine-readable zone."))
        return self


ExemptionReason = Literal[
    "under_capture_age", "injured", "amputated", "bandaged", "skin_condition", "disability", "refused", "other"
]
EXEMPTION_LABELS = {
    "under_capture_age": N_("under the capture age"),
    "injured": N_("injured"),
    "amputated": N_("amputated"),
    "bandaged": N_("bandaged"),
    "skin_condition": N_("skin condition"),
    "disability": N_("disability"),
    "refused": N_("consent refused"),
    "other": N_("other reason"),
}


FINGER_LABELS = {  # ISO/IEC 19794-4 finger positions
    1: N_("Right thumb"),
    2: N_("Right index"),
    3: N_("Right middle"),
    4: N_("Right ring"),
    5: N_("Right little"),
    6: N_("Left thumb"),
    7: N_("Left index"),
    8: N_("Left middle"),
    9: N_("Left ring"),
    10: N_("Left little"),
}
SLAP_LABELS = {  # the same standard's codes for several fingers pressed at once (the 4-4-2 flat capture)
    13: N_("Right four fingers at once"),
    14: N_("Left four fingers at once"),
    15: N_("Both thumbs at once"),
}
FINGER_CODES = (*FINGER_LABELS, *SLAP_LABELS)  # what an image field may carry: one finger, or a slap split on arrival


class ExemptionIn(BaseModel):
    """A biometric not captured, and why: a finger (``finger_position``), all fingers (no position), or the face."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    modality: Literal["face", "finger"]
    finger_position: int | None = Field(
        None, ge=1, le=10, description="ISO/IEC 19794-4: 1 right thumb .. 10 left little"
    )
    reason: ExemptionReason
    note: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _position_for_fingers_only(self) -> ExemptionIn:
        if self.modality == "face" and self.finger_position is not None:
            raise RuleProblem(N_("A face exemption has no finger position."))
        return self


class BiometricsIn(BaseModel):
    """Consent to biometric capture (after the purpose was explained) and the exemptions recorded at capture."""

    model_config = ConfigDict(extra="forbid")

    consent: Literal["given", "refused"]
    exemptions: list[ExemptionIn] = Field(default_factory=list, max_length=11)


class GroupRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    kind: GroupKind = "family"
    relation: Relation


class EncounterIn(BaseModel):
    """One person's registration. ``id`` is made by the client (UUID), so a retried submission is recognised."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID
    station: str | None = Field(None, max_length=32, description="Station code; default: the officer's station.")
    occurred_at: datetime | None = Field(None, description="When the person was registered; default: now.")
    given_names: str = Field("", max_length=200)
    surnames: str = Field(min_length=1, max_length=200)
    sex: Sex
    birth_date: str = Field(description="YYYY-MM-DD, YYYY-MM or YYYY")
    birth_estimated: bool = False
    nationality: Country | None = None
    country_of_birth: Country | None = None
    languages: list[Annotated[str, AfterValidator(_language)]] = Field(default_factory=list, max_length=10)
    route_countries: list[Country] = Field(default_factory=list, max_length=30)
    phone: Phone | None = None
    email: str | None = Field(None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    documents: list[DocumentIn] = Field(default_factory=list, max_length=5)
    group: GroupRef | None = None
    corrects: uuid.UUID | None = None
    notes: str | None = Field(None, max_length=2000)
    biometrics: BiometricsIn | None = None

    @field_validator("birth_date")
    @classmethod
    def _birth(cls, value: str) -> str:
        match = BIRTH_DATE.match(value.strip())
        if not match:
            raise RuleProblem(N_("Write the birth date as YYYY-MM-DD, YYYY-MM or YYYY."))
        year, month, day = (int(p) if p else None for p in match.groups())
        if not 1900 <= year <= date.today().year:  # type: ignore[operator]
            raise RuleProblem(N_("The birth year is out of range."))
        try:
            born = date(year, month or 1, day or 1)  # type: ignore[arg-type]
        except ValueError:
            raise RuleProblem(N_("Not a calendar date.")) from None
        if born > date.today():
            raise RuleProblem(N_("The birth date is in the future."))
        return value.strip()

    @field_validator("occurred_at")
    @classmethod
    def _occurred(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise RuleProblem(N_("Give a time zone (e.g. 2024-03-01T10:00:00-05:00)."))
        value = value.astimezone(UTC)
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise RuleProblem(N_("The registration time is in the future."))
        return value

    def birth_parts(self) -> tuple[int, int | None, int | None, str]:
        year, month, day = (int(p) if p else None for p in BIRTH_DATE.match(self.birth_date).groups())  # type: ignore[union-attr]
        precision = "day" if day else "month" if month else "year"
        return year, month, day, precision  # type: ignore[return-value]


class DocumentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    doc_type: str
    number: str
    issuing_state: str | None
    expiry_date: date | None
    mrz_format: str | None
    mrz_mismatches: list[str]


class ExemptionOut(BaseModel):
    modality: str
    finger_position: int | None
    reason: str
    note: str | None
    derived: bool = Field(description="True when the rules recorded it (age, refused consent), not the officer.")


class BiometricsOut(BaseModel):
    consent: str | None = Field(description="given, refused, or null when not recorded")
    exemptions: list[ExemptionOut]


class EncounterOut(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    group_id: uuid.UUID | None
    relation: str | None
    station: str
    occurred_at: datetime
    recorded_at: datetime
    given_names: str
    surnames: str
    sex: str
    birth_date: str
    birth_estimated: bool
    nationality: str | None
    country_of_birth: str | None
    languages: list[str]
    route_countries: list[str]
    documents: list[DocumentOut]
    child_status: str | None = Field(None, description="accompanied, separated or unaccompanied (minors only)")
    corrects: uuid.UUID | None
    biometrics: BiometricsOut
    replayed: bool = Field(False, description="True when this answers a retry of an earlier identical submission.")


class EncounterSummary(BaseModel):
    id: uuid.UUID
    person_id: uuid.UUID
    station: str
    occurred_at: datetime
    given_names: str
    surnames: str
    sex: str
    birth_date: str
    nationality: str | None


class EncounterPage(BaseModel):
    items: list[EncounterSummary]
    next_cursor: str | None


class PersonOut(BaseModel):
    id: uuid.UUID
    encounters: list[EncounterSummary]


class GroupMember(BaseModel):
    encounter_id: uuid.UUID
    person_id: uuid.UUID
    relation: str | None
    given_names: str
    surnames: str
    sex: str
    birth_date: str
    child_status: str | None


class GroupOut(BaseModel):
    id: uuid.UUID
    kind: str
    members: list[GroupMember]
