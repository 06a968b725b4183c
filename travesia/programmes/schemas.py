"""What the programmes API takes and gives."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from travesia.core.errors import N_, RuleProblem
from travesia.enrolment.schemas import Country
from travesia.protection.schemas import hold_text

FLIGHT_KIND_LABELS = {"repatriation": N_("repatriation"), "voluntary_return": N_("assisted voluntary return")}
FLIGHT_STATE_LABELS = {
    "planned": N_("planned"),
    "boarding": N_("boarding"),
    "departed": N_("departed"),
    "cancelled": N_("cancelled"),
}
ENTRY_STATE_LABELS = {
    "placed": N_("on the manifest"),
    "held": N_("held on the ground"),
    "boarded": N_("boarded"),
    "removed": N_("removed"),
}
# Reasons the manifest's own rules give; the protection holds are labelled by protection.schemas.hold_text.
PLACEMENT_LABELS = {
    "not_medically_fit": N_("not medically fit to fly"),
    "medical_fitness_not_confirmed": N_("medical fitness not confirmed"),
    "no_consent": N_("no consent to a voluntary return"),
    "no_seats": N_("not enough seats for the family"),
    "family_member_refused": N_("a family member cannot travel (families travel together)"),
    "family_member_held": N_("a family member is held (families travel together)"),
}


def reason_text(code: str, gettext: Callable[[str], str]) -> str:
    """Why a person may not be placed or board, in the reader's language."""
    label = PLACEMENT_LABELS.get(code)
    return gettext(label) if label else hold_text(code, gettext)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class FlightIn(Strict):
    kind: Literal["repatriation", "voluntary_return"]
    departs_on: date
    destination: Country
    capacity: int = Field(ge=1, le=1000)
    operator: str = Field(min_length=1, max_length=120)

    @field_validator("departs_on")
    @classmethod
    def _not_past(cls, value: date) -> date:
        if value < date.today():
            raise RuleProblem(N_("The flight's date has passed."))
        return value


class FlightOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: str
    departs_on: date
    destination: str
    capacity: int
    operator: str
    state: str
    created_at: datetime


class PlaceIn(Strict):
    person_id: uuid.UUID
    medically_fit: bool | None = Field(None, description="Per family member at boarding; here for the person named.")
    consent: Literal["given", "refused"] | None = Field(None, description="Required for a voluntary return.")


class BulkPlaceIn(Strict):
    persons: list[PlaceIn] = Field(min_length=1, max_length=500)


class RemoveIn(Strict):
    reason: str = Field(min_length=1, max_length=1000)


class FitnessIn(Strict):
    medically_fit: bool
    consent: Literal["given", "refused"] | None = None


class PlacementOut(BaseModel):
    placed: list[uuid.UUID]
    refused: dict[str, list[str]]  # person id → reason codes


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    person_id: uuid.UUID
    family_key: str
    state: str
    medically_fit: bool | None
    consent: str | None
    placed_at: datetime
    boarded_at: datetime | None
    note: str | None


class EligibleOut(BaseModel):
    person_id: uuid.UUID
    name: str
    reasons: list[str]  # empty: eligible
    family: list[str] = []  # the other members' names: the family travels together
    last_registered: datetime | None = None  # the keyset cursor of the list
