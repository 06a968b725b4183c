"""Station ↔ central synchronisation: the stations' public keys and each station's progress (central side); the
sync state and what central sent back (station side). One schema serves both: a database is either one."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from travesia.models.base import Base, created_at

INT_ID = BigInteger().with_variant(Integer, "sqlite")


class StationKey(Base):
    """An Ed25519 public key a station signs its batches with. Revoked keys stay, so old batches keep their
    provenance and a revoked key is refused by name rather than as unknown."""

    __tablename__ = "station_keys"
    __table_args__ = (Index("ix_station_keys_station", "station_id"),)

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)  # first 16 hex digits of SHA-256(public key)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # 32 raw bytes
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[str | None] = mapped_column(String(200))
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class SyncCursor(Base):
    """Central: the highest station sequence number stored for a station (every lower one is stored too)."""

    __tablename__ = "sync_cursors"

    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(INT_ID, default=0)
    batches: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None]


class SyncBatch(Base):
    """Central: every signed envelope accepted (its digest is what makes a replay recognisable), in arrival order."""

    __tablename__ = "sync_batches"
    __table_args__ = (
        UniqueConstraint("digest", name="uq_sync_batches_digest"),
        Index("ix_sync_batches_station", "station_id", "id"),
    )

    id: Mapped[int] = mapped_column(INT_ID, primary_key=True, autoincrement=True)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the whole envelope
    nonce: Mapped[uuid.UUID]
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"))
    key_id: Mapped[str] = mapped_column(String(16))
    first_seq: Mapped[int] = mapped_column(INT_ID)
    last_seq: Mapped[int] = mapped_column(INT_ID)
    encounters: Mapped[int]
    stored: Mapped[int]  # new at central (the rest were already there: a retry after a lost acknowledgement)
    size: Mapped[int]  # bytes on the wire
    station_time: Mapped[datetime]  # the station's clock when it signed
    clock_offset_s: Mapped[int]  # central's clock minus the station's, applied to the times it sent
    received_at: Mapped[datetime] = created_at()


class SyncState(Base):
    """Station: one row, where central is and how far the exchange has gone."""

    __tablename__ = "sync_state"

    station_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    acked_seq: Mapped[int] = mapped_column(INT_ID, default=0)  # central holds every encounter up to here
    feed_cursor: Mapped[str | None] = mapped_column(String(40))  # central's time of its last answer
    list_versions: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # central's version of each list
    last_push_at: Mapped[datetime | None]
    last_pull_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    region_mark: Mapped[int] = mapped_column(INT_ID, default=0)  # central's last template id received


class SyncSentSample(Base):
    """Station: an image central acknowledged, sent with its registration or later (a scanner's drop folder)."""

    __tablename__ = "sync_sent_samples"

    sample_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    sent_at: Mapped[datetime] = created_at()


class SyncNotice(Base):
    """Station: what central sent back about this station's encounters (an alert, the person an encounter was
    linked to), kept as central said it, newest version of each."""

    __tablename__ = "sync_notices"
    __table_args__ = (
        UniqueConstraint("kind", "central_id", name="uq_sync_notices_kind"),
        Index("ix_sync_notices_encounter", "encounter_id"),
    )

    id: Mapped[int] = mapped_column(INT_ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # alert, link
    central_id: Mapped[str] = mapped_column(String(40))  # the alert's id, or the encounter's for a link
    encounter_id: Mapped[uuid.UUID]
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    received_at: Mapped[datetime] = created_at()


class RegionPerson(Base):
    """Station: a person central registered at another station of this station's region in the last weeks, whose
    templates central sent (``biometric_templates`` rows of kind ``region``), so that a returning person is
    recognised offline. Only what an officer needs to ask the right question; dropped when out of the window."""

    __tablename__ = "sync_region_persons"
    __table_args__ = (Index("ix_sync_region_persons_seen", "seen_at"),)

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)  # central's person id
    given_names: Mapped[str] = mapped_column(String(200))
    surnames: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int | None]
    sex: Mapped[str] = mapped_column(String(1))
    nationality: Mapped[str | None] = mapped_column(String(3))
    station: Mapped[str] = mapped_column(String(32))  # where central last registered the person in the region
    seen_at: Mapped[datetime]  # when
    encounters: Mapped[int]  # registrations central holds for the person
    received_at: Mapped[datetime] = created_at()
