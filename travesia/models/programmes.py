"""Programmes: repatriation and voluntary-return flights, and their manifests."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from travesia.models.base import Base, created_at, uuid_pk


class Flight(Base):
    __tablename__ = "flights"
    __table_args__ = (
        Index("ix_flights_date", "departs_on"),
        CheckConstraint("kind IN ('repatriation', 'voluntary_return')", name="kind"),
        CheckConstraint("state IN ('planned', 'boarding', 'departed', 'cancelled')", name="state"),
        CheckConstraint("capacity > 0", name="capacity"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(16))
    departs_on: Mapped[date]
    destination: Mapped[str] = mapped_column(String(3))  # ISO 3166-1 alpha-3
    capacity: Mapped[int]
    operator: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(10), default="planned")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()


class ManifestEntry(Base):
    """One person on one flight. A family is placed, held and removed together (``family_key``); the gate is
    checked at placement and again at boarding."""

    __tablename__ = "manifest_entries"
    __table_args__ = (
        UniqueConstraint("flight_id", "person_id", name="one_seat_per_person"),
        Index("ix_manifest_entries_person", "person_id", "state"),
        CheckConstraint("state IN ('placed', 'removed', 'boarded', 'held')", name="state"),
        CheckConstraint("consent IS NULL OR consent IN ('given', 'refused')", name="consent"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    flight_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flights.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    family_key: Mapped[str] = mapped_column(String(40))  # the family's group id, or the person's own id
    state: Mapped[str] = mapped_column(String(8), default="placed")
    medically_fit: Mapped[bool | None]
    consent: Mapped[str | None] = mapped_column(String(10))  # voluntary return: given, refused
    placed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = created_at()
    boarded_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)  # why removed or held


class PathwayProgramme(Base):
    """A legal pathway (Safe Mobility, a labour mobility scheme) with its eligibility rules kept as data and the
    fields its partner may receive under the data-sharing agreement."""

    __tablename__ = "pathway_programmes"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    partner: Mapped[str] = mapped_column(String(200))
    agreement: Mapped[str] = mapped_column(String(200))  # the data-sharing agreement's reference and legal basis
    rules: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    export_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = created_at()


class PathwayReferral(Base):
    __tablename__ = "pathway_referrals"
    __table_args__ = (
        UniqueConstraint("programme_code", "person_id", name="one_referral_per_programme"),
        CheckConstraint("state IN ('referred', 'accepted', 'declined', 'withdrawn')", name="state"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    programme_code: Mapped[str] = mapped_column(ForeignKey("pathway_programmes.code"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    state: Mapped[str] = mapped_column(String(10), default="referred")
    declared: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # family ties and the like, as told
    checks: Mapped[list[str]] = mapped_column(JSON, default=list)  # the rules met, as evaluated at referral
    consent: Mapped[str] = mapped_column(String(10))
    referred_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    referred_at: Mapped[datetime] = created_at()
