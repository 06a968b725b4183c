"""What the programmes API takes and gives."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from travesia.enrolment.schemas import Country


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
            raise ValueError("the flight's date has passed")
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
