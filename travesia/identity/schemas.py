"""What the identity API takes and gives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from travesia.core.errors import N_

# What the pages show for the stored codes of identity decisions.
DECISION_KIND_LABELS = {"attach": N_("attached"), "merge": N_("merged"), "split": N_("split"), "undo": N_("undone")}
DECISION_STATE_LABELS = {
    "proposed": N_("proposed"),
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "applied": N_("applied"),
    "undone": N_("undone"),
}
DECISION_SOURCE_LABELS = {
    "online": N_("at registration"),
    "batch": N_("batch resolution"),
    "manual": N_("by an analyst"),
}


class ProposalFilter(BaseModel):
    """What the analysts' list of identity proposals shows; ``after`` is the keyset cursor of the last row."""

    model_config = ConfigDict(extra="forbid")

    state: Literal["proposed", "accepted", "rejected"] = "proposed"
    source: Literal["online", "batch", "manual"] | None = None
    since: date | None = None
    until: date | None = None
    sort: Literal["score", "age"] = "score"
    after: str | None = Field(None, max_length=60, pattern=r"^[0-9.e+-]+~[0-9]+$")
    limit: int = Field(50, ge=1, le=200)


@dataclass(frozen=True)
class ProposalRow:
    """One proposal as the list shows it: the two persons by name, how strong, from where, since when."""

    decision_id: int
    kind: str
    state: str
    source: str
    score: float | None
    created_at: datetime
    from_person_id: uuid.UUID | None
    from_name: str
    from_station: str
    person_id: uuid.UUID
    name: str
    station: str


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    into: uuid.UUID
    reason: str = Field(min_length=1, max_length=2000)


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    encounter_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    reason: str = Field(min_length=1, max_length=2000)


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = Field(min_length=1, max_length=2000)


class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    state: str
    source: str
    person_id: uuid.UUID
    from_person_id: uuid.UUID | None
    encounter_ids: list[str]
    score: float | None
    evidence: list[dict[str, object]]
    author_id: uuid.UUID | None
    decided_by_id: uuid.UUID | None
    reason: str
    undoes_id: int | None
    created_at: datetime
    decided_at: datetime | None


class ReplayOut(BaseModel):
    encounters: int
    decisions: int
    differences: list[str]
