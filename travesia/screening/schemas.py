"""What screening takes in and gives out: lists, imports, the yente-compatible match call, alerts and reviews."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from travesia.core.errors import N_, RuleProblem
from travesia.models.vocabulary import AlertKind

ALERT_KIND_LABELS = {
    "watchlist": N_("Possible match on a watchlist"),
    "lost_document": N_("Document reported lost or stolen"),
    "same_biometrics": N_("Same biometrics under a different identity"),
    "same_document": N_("Same document used by a different person"),
    "same_identity": N_("Same identity claimed with different biometrics"),
}
ALERT_STATE_LABELS = {
    "open": N_("open"),
    "under_review": N_("under review"),
    "confirmed": N_("confirmed"),
    "dismissed": N_("dismissed"),
}
# The queue's order in words (screening.service.alert_priority).
PRIORITY_LABELS = {
    1: N_("urgent, a child"),
    2: N_("urgent"),
    3: N_("a child"),
    4: N_("normal"),
}
REVIEW_ACTION_LABELS = {
    "take": N_("took it for review"),
    "propose": N_("proposed to confirm"),
    "confirm": N_("confirmed (second analyst)"),
    "return": N_("sent it back"),
    "dismiss": N_("dismissed: not a match"),
}
# The explanation's fields and comparison levels (scoring.py) and a list entry's properties (FollowTheMoney), in words.
FEATURE_LABELS = {
    "name": N_("name"),
    "name_frequency": N_("how common the name is"),
    "name_script": N_("name as read in Latin letters"),
    "birth": N_("date of birth"),
    "nationality": N_("nationality"),
    "sex": N_("sex"),
    "document": N_("document"),
    "face": N_("face"),
    "finger": N_("fingerprint"),
    "biometrics": N_("biometrics"),
    "splink": N_("record linkage"),
}
LEVEL_LABELS = {
    "exact": N_("exact"),
    "strong": N_("strong"),
    "close": N_("close"),
    "partial": N_("partial"),
    "weak": N_("weak"),
    "subset": N_("every part found, one or more left out"),
    "script_strong": N_("strong, across two scripts"),
    "script_close": N_("close, across two scripts"),
    "script_fair": N_("fair, across two scripts"),
    "script_partial": N_("partial, across two scripts"),
    "script_weak": N_("weak, across two scripts"),
    "across_scripts": N_("written in two scripts"),
    # a biometric term's strength (biometrics.evidence.strength; its calibrated bits in words)
    "very_strong_for": N_("strongly for the same person"),
    "for": N_("for the same person"),
    "neutral": N_("neither way"),
    "against": N_("against the same person"),
    "very_strong_against": N_("strongly against the same person"),
    "not_among_nearest": N_("not among the nearest faces"),
    "rare": N_("rare"),
    "common": N_("common"),
    "same_date": N_("same date"),
    "day_month_swapped": N_("day and month swapped"),
    "same_year": N_("same year"),
    "same_year_other_day": N_("same year, another day"),
    "year_near": N_("a year apart"),
    "year_slip": N_("same day and month, the year one off"),
    "year_known_same": N_("same year (one side gives only the year)"),
    "year_known_near": N_("a year apart (one side gives only the year)"),
    "year_known_different": N_("different year (one side gives only the year)"),
    "different_year": N_("different year"),
    "match": N_("same"),
    "same": N_("same"),
    "different": N_("different"),
    "unknown": N_("not known on one side"),
    "very_close": N_("very close"),
    "near": N_("near"),
    "moderate": N_("moderate"),
    "reported_lost": N_("reported lost or stolen"),
}
PROPERTY_LABELS = {
    "alias": N_("Other names"),
    "birthDate": N_("Date of birth"),
    "birthPlace": N_("Place of birth"),
    "nationality": N_("Nationality"),
    "citizenship": N_("Citizenship"),
    "country": N_("Country"),
    "gender": N_("Sex"),
    "topics": N_("Topics"),
    "passportNumber": N_("Passport number"),
    "idNumber": N_("Identity number"),
    "number": N_("Number"),
    "notes": N_("Notes"),
    "sourceUrl": N_("Source address"),
}
OUTCOME_LABELS = {
    "pending": N_("Screening in progress"),
    "clear": N_("Screening: nothing to review"),
    "review": N_("Screening: a review by an analyst is pending"),
    "failed": N_("Screening failed and will be retried"),
}


class WatchlistIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$", description="Dataset name, as in /match/{dataset}.")
    title: str = Field(min_length=2, max_length=200)
    kind: Literal["persons", "documents"] = "persons"
    owner: str = Field(min_length=2, max_length=200)
    legal_basis: str = Field(min_length=2, max_length=2000)
    sensitivity: Literal["internal", "restricted", "secret"] = "restricted"
    threshold: float = Field(0.7, gt=0, le=1)


class WatchlistOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    title: str
    kind: str
    owner: str
    legal_basis: str
    sensitivity: str
    threshold: float
    version: int


class VersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    file_name: str
    file_sha256: str
    mode: str
    added: int
    changed: int
    removed: int
    unchanged: int
    imported_by: str
    imported_at: datetime
    rescreened_at: datetime | None
    rescreened: int


class ChangeOut(BaseModel):
    """One entry's change in one version: the list's id, what the entry says now, and what happened to it."""

    external_id: str
    caption: str
    change: Literal["added", "changed", "removed", "relisted"]
    content_hash: str


# -- yente-compatible matching ----------------------------------------------------------------------------------
class EntityQuery(BaseModel):
    model_config = ConfigDict(extra="allow")

    schema_: str = Field(alias="schema")
    properties: dict[str, list[str] | str]

    @field_validator("schema_")
    @classmethod
    def person_only(cls, value: str) -> str:
        if value not in ("Person", "LegalEntity", "Thing"):
            raise RuleProblem(N_("Only Person entities can be matched against Travesía's lists."))
        return value


class MatchRequest(BaseModel):
    queries: dict[str, EntityQuery] = Field(min_length=1, max_length=100)


class MatchResult(BaseModel):
    id: str
    caption: str
    schema_: str = Field(serialization_alias="schema")
    properties: dict[str, list[str]]
    datasets: list[str]
    score: float
    match: bool
    features: dict[str, float]
    explanations: dict[str, Any]


class MatchResponse(BaseModel):
    status: int = 200
    results: list[MatchResult]
    total: dict[str, Any]
    query: dict[str, Any]


# -- alerts ------------------------------------------------------------------------------------------------------
class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: Literal["take", "propose", "confirm", "dismiss", "return"]
    reason: str | None = Field(None, max_length=2000)


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    reviewer_id: uuid.UUID
    action: str
    reason: str | None
    at: datetime


class AlertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    encounter_id: uuid.UUID
    kind: str
    entry_id: uuid.UUID | None
    other_encounter_id: uuid.UUID | None
    score: float
    priority: int
    state: str
    explanation: list[dict[str, Any]]
    assigned_to_id: uuid.UUID | None
    proposed_by_id: uuid.UUID | None
    decided_by_id: uuid.UUID | None
    decided_at: datetime | None
    reason: str | None
    created_at: datetime


class ScreeningOutcomeOut(BaseModel):
    """What the registration officer sees: whether a review is pending, never the list or the entry."""

    status: str
    outcome: str | None
    label: str


# -- the analyst's queue -------------------------------------------------------------------------------------------
QueueSort = Literal["priority", "age"]


class QueueFilter(BaseModel):
    """What the analyst's queue shows: every filter optional, combined with AND; ``after`` is the keyset cursor of
    the last row of the previous page (opaque to the caller)."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["active", "decided", "open", "under_review", "confirmed", "dismissed"] = "active"
    kind: AlertKind | None = None
    watchlist: str | None = Field(None, max_length=100)
    station: str | None = Field(None, max_length=32)
    holder: Literal["mine", "nobody"] | None = None
    since: date | None = None
    until: date | None = None
    sort: QueueSort = "priority"
    after: str | None = Field(None, max_length=120, pattern=r"^[0-9]+~[0-9T:.+\-]+~[0-9a-f-]{36}$")
    limit: int = Field(50, ge=1, le=200)

    @field_validator("after")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None:
            priority, at, last = value.split("~")
            int(priority), datetime.fromisoformat(at), uuid.UUID(last)  # a ValueError: "not a valid cursor"
        return value


@dataclass(frozen=True)
class QueueRow:
    """One alert as the queue shows it: what it is about, where, since when, and who holds it."""

    alert_id: uuid.UUID
    kind: str
    state: str
    priority: int
    score: float
    created_at: datetime
    person_id: uuid.UUID
    person_name: str
    station: str
    registered_at: datetime
    watchlist: str | None
    entry: str | None
    holder: str | None
    proposed: bool
