from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from travesia.core.principal import Role

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(min_length=3, max_length=64, pattern=USERNAME_PATTERN)
    display_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    roles: list[Role] = Field(min_length=1)
    stations: list[str] = Field(min_length=1, description="Station codes; the first is the home station.")

    @field_validator("username", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    display_name: str | None = Field(None, min_length=1, max_length=200)
    roles: list[Role] | None = Field(None, min_length=1)
    stations: list[str] | None = Field(None, min_length=1)
    is_active: bool | None = None


class StationRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name: str


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    roles: list[Role]
    stations: list[StationRef]
    is_active: bool
    second_factor: bool
    created_at: datetime


class Me(BaseModel):
    user_id: uuid.UUID | None
    username: str
    roles: list[Role]
    station: str | None
    via: str


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100)
    days: int = Field(30, ge=1, le=365)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="Shown once; only its SHA-256 is stored.")
