"""What comes in and goes out of the exchange: agreements, partner queries and their answers, export jobs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from travesia.core.errors import N_, RuleProblem
from travesia.enrolment.schemas import Country
from travesia.exchange.records import DIRECTIONS, FIELDS, MODALITIES

FIELD_LABELS = {
    "names": N_("names"),
    "birth_date": N_("date of birth"),
    "sex": N_("sex"),
    "nationality": N_("nationality"),
    "country_of_birth": N_("country of birth"),
    "documents": N_("documents"),
    "phone": N_("phone"),
    "languages": N_("languages"),
    "route": N_("route"),
    "encounter": N_("place and date of registration"),
}
MODALITY_LABELS = {"face": N_("face"), "finger": N_("fingerprints")}
JOB_STATE_LABELS = {"queued": N_("queued"), "running": N_("running"), "done": N_("done"), "failed": N_("failed")}

Text100 = Field(min_length=2, max_length=100)


def _subset(values: list[str], allowed: tuple[str, ...], what: str) -> list[str]:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise RuleProblem(N_("Not allowed: %(unknown)s (allowed: %(allowed)s)."), unknown=", ".join(unknown),
                          allowed=", ".join(allowed))  # fmt: skip
    if len(set(values)) != len(values):
        raise RuleProblem(N_("A value is named twice."))
    return values


class AgreementIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$")
    partner: str = Field(min_length=2, max_length=200)
    purposes: list[str] = Field(min_length=1, max_length=10)
    legal_basis: str = Field(min_length=2, max_length=2000)
    directions: list[str] = Field(min_length=1)
    fields: list[str] = Field(default_factory=list)
    modalities: list[str] = Field(default_factory=list)
    retention_days: int = Field(ge=1, le=3650)
    rate_per_minute: int = Field(60, ge=1, le=6000)
    max_records: int = Field(10_000, ge=1, le=1_000_000)
    valid_from: date
    expires_on: date

    @field_validator("purposes")
    @classmethod
    def _purposes(cls, values: list[str]) -> list[str]:
        cleaned = [v.strip() for v in values]
        if any(not 2 <= len(v) <= 100 for v in cleaned):
            raise RuleProblem(N_("Each purpose is 2 to 100 characters."))
        return cleaned

    @field_validator("directions")
    @classmethod
    def _directions(cls, values: list[str]) -> list[str]:
        return _subset(values, DIRECTIONS, "directions")

    @field_validator("fields")
    @classmethod
    def _fields(cls, values: list[str]) -> list[str]:
        return _subset(values, FIELDS, "fields")

    @field_validator("modalities")
    @classmethod
    def _modalities(cls, values: list[str]) -> list[str]:
        return _subset(values, MODALITIES, "modalities")

    @model_validator(mode="after")
    def _period(self) -> AgreementIn:
        if self.expires_on <= self.valid_from:
            raise RuleProblem(N_("The agreement expires before it starts."))
        if not self.fields and not self.modalities:
            raise RuleProblem(N_("An agreement shares at least one field or modality."))
        return self


class AgreementOut(AgreementIn):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_by: str
    created_at: datetime
    suspended_at: datetime | None


class PartnerQueryIn(BaseModel):
    """ "Have you seen this person?": by document, by name (with birth year and nationality to narrow), or by face."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    purpose: str = Field(min_length=2, max_length=100)
    given_names: str | None = Field(None, max_length=200)
    surnames: str | None = Field(None, min_length=2, max_length=200)
    birth_year: int | None = Field(None, ge=1900, le=2100)
    nationality: Country | None = None
    document_number: str | None = Field(None, min_length=3, max_length=40, pattern=r"^[A-Za-z0-9<\- ]+$")
    face: str | None = Field(None, max_length=14_000_000, description="A face image (JPEG or PNG) in base64")

    @model_validator(mode="after")
    def _something_to_look_for(self) -> PartnerQueryIn:
        if not (self.surnames or self.document_number or self.face):
            raise RuleProblem(N_("Give surnames, a document number or a face."))
        return self


class PartnerMatch(BaseModel):
    ref: str
    score: float | None = None
    matched_on: str  # document, name, face
    record: dict[str, object]
    face: str | None = None  # base64, only where the agreement names the face


class PartnerAnswer(BaseModel):
    agreement: str
    fields: list[str]
    matches: list[PartnerMatch]


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    purpose: str = Field(min_length=2, max_length=100)
    format: Literal["nist", "jsonl"] = "nist"
    registered_from: date | None = None
    registered_to: date | None = None
    nationality: Country | None = None
    station: str | None = Field(None, max_length=32)

    @model_validator(mode="after")
    def _period(self) -> ExportIn:
        if self.registered_from and self.registered_to and self.registered_to < self.registered_from:
            raise RuleProblem(N_("The period ends before it starts."))
        return self


class ExportJobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    state: str
    format: str
    purpose: str
    records: int
    size: int
    sha256: str | None
    error: str | None
    created_at: datetime
    finished_at: datetime | None
