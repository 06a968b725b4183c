"""What travels between a field station and central: the items of a batch, the acknowledgement, the feed back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from travesia.enrolment.schemas import EncounterIn
from travesia.screening.schemas import WatchlistIn
from travesia.stations.schemas import StationCreate

Base64 = Annotated[str, Field(max_length=14_000_000, pattern=r"^[A-Za-z0-9+/]*={0,2}$")]


class BatchItem(BaseModel):
    """One encounter as the station stored it, with its number at the station and its images."""

    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1)
    recorded_at: datetime
    officer: str | None = Field(None, max_length=200)
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


class Feed(BaseModel):
    now: datetime  # central's clock: the station's next cursor
    station: StationCreate  # central's description of the station (name, place, capacity)
    last_seq: int  # what central holds from this station (a station that lost its state learns where to go on)
    alerts: list[AlertNotice]
    links: list[LinkNotice]
    lists: list[ListDelta]


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
    key_id: str
