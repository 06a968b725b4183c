from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from travesia.core.errors import N_

StationKind = Literal["reception", "border_post", "airport", "seaport", "shelter", "headquarters"]

KIND_LABELS = {
    "reception": N_("Reception station"),
    "border_post": N_("Border post"),
    "airport": N_("Airport"),
    "seaport": N_("Seaport"),
    "shelter": N_("Shelter"),
    "headquarters": N_("Headquarters"),
}


class StationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=2, max_length=32, pattern=r"^[A-Z0-9][A-Z0-9-]{1,31}$")
    name: str = Field(min_length=2, max_length=200)
    kind: StationKind
    country: str = Field("PA", pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    region: str | None = Field(None, max_length=100)
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    capacity: int | None = Field(None, ge=0, le=1_000_000)

    @field_validator("code", "country", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value


class StationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str
    kind: str
    country: str
    region: str | None
    latitude: float | None
    longitude: float | None
    capacity: int | None
    active: bool
