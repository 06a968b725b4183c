"""What travels between a field station and central: the items of a batch, the acknowledgement, the feed back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from travesia.auth.schemas import USERNAME_PATTERN
from travesia.core.errors import N_, RuleProblem
from travesia.enrolment.schemas import EncounterIn
from travesia.screening.schemas import WatchlistIn
from travesia.stations.schemas import StationCreate


def _whole_base64(value: str) -> str:
    """Padded base64 only: a length that is not a multiple of 4 cannot be decoded (found by bench/fuzz.py)."""
    if len(value) % 4:
        raise RuleProblem(N_("Not complete base64: its length must be a multiple of 4."))
    return value


Base64 = Annotated[str, Field(max_length=14_000_000, pattern=r"^[A-Za-z0-9+/]*={0,2}$"), AfterValidator(_whole_base64)]


class BatchItem(BaseModel):
    """One encounter as the station stored it, with its number at the station and its images."""

    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1, le=2**62)
    recorded_at: datetime
    officer: str | None = Field(None, pattern=USERNAME_PATTERN)  # the station account that registered the person
    encounter: EncounterIn
    photo: Base64 | None = None
    fingerprints: dict[Annotated[int, Field(ge=1, le=10)], Base64] = Field(default_factory=dict)


class BatchAck(BaseModel):
    """Sent only after central's transaction committed: everything up to ``last_seq`` is durable there."""

    batch: int
    encounters: int
    stored: int
    already: int
    last_seq: int
    clock_offset_s: int


class SampleItem(BaseModel):
    """An image added at the station to a registration central already holds."""

    model_config = ConfigDict(extra="forbid")

    encounter: uuid.UUID
    sample: uuid.UUID
    modality: Literal["face", "finger"]
    position: int | None = Field(None, ge=1, le=10)
    image: Base64


class SamplesAck(BaseModel):
    batch: int
    samples: int
    stored: int  # new at central (the rest it had: a retry)


class FeedRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: datetime | None = None
    region_mark: int = Field(0, ge=0, le=2**62)  # central's last template id the station holds for its region
    lists: dict[Annotated[str, Field(max_length=64)], Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, max_length=500
    )


class AlertNotice(BaseModel):
    """What a station needs to act on an alert (hold, call the supervisor), not the evidence behind it."""

    id: uuid.UUID
    encounter_id: uuid.UUID
    kind: str
    priority: int
    state: str
    created_at: datetime


class LinkNotice(BaseModel):
    encounter_id: uuid.UUID
    person_id: uuid.UUID
    encounters: int  # how many registrations central holds for the person: more than one means seen before


class ListDelta(WatchlistIn):
    """A list as central describes it, with the entries changed since the version the station holds."""

    version: int  # central's version number
    lines: list[str]  # FollowTheMoney delta lines (ADD/MOD/DEL) since the station's version


class RegionPersonNotice(BaseModel):
    """A person registered at another station of the region: what the officer needs to ask the right question."""

    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID
    given_names: str = Field(max_length=200)
    surnames: str = Field(max_length=200)
    birth_year: int | None = Field(None, ge=1880, le=2200)
    sex: Literal["F", "M", "X"]
    nationality: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    station: str = Field(max_length=32)
    seen_at: datetime
    encounters: int = Field(ge=1)


class RegionTemplate(BaseModel):
    """One template of such a person, as central's algorithm made it (a station skips other algorithms)."""

    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1, le=2**62)  # central's template id: the station's mark
    person_id: uuid.UUID
    modality: Literal["face", "finger"]
    position: int | None = Field(None, ge=1, le=10)
    algorithm: str = Field(max_length=40)
    version: str = Field(max_length=40)
    quality: int = Field(ge=0, le=100)
    template: Annotated[str, Field(max_length=200_000, pattern=r"^[A-Za-z0-9+/]*={0,2}$")]


class Region(BaseModel):
    """Templates of the people registered in the station's region in the last ``days`` days, a page at a time
    after the station's mark; ``more``: ask again for the next page."""

    days: int
    mark: int
    more: bool
    persons: list[RegionPersonNotice]
    templates: list[RegionTemplate]


class Feed(BaseModel):
    now: datetime  # central's clock: the station's next cursor
    station: StationCreate  # central's description of the station (name, place, capacity)
    last_seq: int  # what central holds from this station (a station that lost its state learns where to go on)
    alerts: list[AlertNotice]
    links: list[LinkNotice]
    lists: list[ListDelta]
    region: Region | None = None  # None: central sends no templates (no region, or switched off)


class SyncStatus(BaseModel):
    station: str
    central_url: str | None
    registered: int
    acked_seq: int
    pending: int
    last_push_at: datetime | None
    last_pull_at: datetime | None
    last_error: str | None
    alerts: int
    region_persons: int
    key_id: str
