"""Watchlists (persons and lost or stolen documents), their versions, screening state per encounter, and alerts
with their review trail."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from travesia.core.db import utcnow
from travesia.models.base import Base, created_at, uuid_pk
from travesia.models.vocabulary import AlertKind, AlertState, one_of


class Watchlist(Base):
    """A list as its owner gives it: who owns it, on what legal basis, how sensitive it is, and the score over which
    a candidate becomes an alert. ``name`` is the dataset name of the yente-compatible ``/match/{dataset}``."""

    __tablename__ = "watchlists"
    __table_args__ = (
        CheckConstraint("kind IN ('persons', 'documents')", name="kind"),
        CheckConstraint("sensitivity IN ('internal', 'restricted', 'secret')", name="sensitivity"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16), default="persons")
    owner: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    sensitivity: Mapped[str] = mapped_column(String(16), default="restricted")
    threshold: Mapped[float] = mapped_column(Float, default=0.7)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = created_at()


class WatchlistVersion(Base):
    """One import: the delta it made, and whether the enrolled population has been re-screened against it."""

    __tablename__ = "watchlist_versions"
    __table_args__ = (UniqueConstraint("watchlist_id", "number"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    watchlist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("watchlists.id"))
    number: Mapped[int]
    file_name: Mapped[str] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))  # full (absent entries removed), delta (only what is given)
    added: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    removed: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = created_at()
    rescreened_at: Mapped[datetime | None]
    rescreened: Mapped[int] = mapped_column(default=0)


class WatchlistEntry(Base):
    """A listed person (FollowTheMoney properties as given) or a lost or stolen document. ``id`` is ours and
    unique across lists (the name analysis is cached by it); ``external_id`` is the list's own. A removed entry is
    kept (``removed_version``) so that alerts raised on it still show what it said; listed again, the same row
    comes back (one row per listed person, whatever their history, which ``WatchlistChange`` keeps)."""

    __tablename__ = "watchlist_entries"
    __table_args__ = (
        UniqueConstraint("watchlist_id", "external_id"),
        Index("ix_watchlist_entries_document", "document_key"),
        Index("ix_watchlist_entries_changed", "watchlist_id", "changed_version"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    watchlist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("watchlists.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    schema: Mapped[str] = mapped_column(String(40))
    caption: Mapped[str] = mapped_column(String(300))
    properties: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(300))
    content_hash: Mapped[str] = mapped_column(String(64))
    document_key: Mapped[str | None] = mapped_column(String(40))  # documents: the number, letters and digits only
    document_state: Mapped[str | None] = mapped_column(String(3))
    added_version: Mapped[int]
    changed_version: Mapped[int]
    removed_version: Mapped[int | None]


class WatchlistChange(Base):
    """What one version did to one entry: added, changed, removed, or listed again after a removal. The entry row
    holds only its latest state; this is its history, and a version's list of changes."""

    __tablename__ = "watchlist_changes"
    __table_args__ = (
        Index("ix_watchlist_changes_entry", "entry_id"),
        CheckConstraint("change IN ('added', 'changed', 'removed', 'relisted')", name="change"),
    )

    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("watchlist_versions.id"), primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("watchlist_entries.id"), primary_key=True)
    change: Mapped[str] = mapped_column(String(8))
    content_hash: Mapped[str] = mapped_column(String(64))  # the entry's content after the change


class Screening(Base):
    """The screening step's state for one encounter (the encounter itself is immutable): due, done, or failed
    with a retry time. ``outcome`` is what the registration officer may see: clear, or review pending."""

    __tablename__ = "screenings"
    __table_args__ = (
        Index("ix_screenings_due", "status", "next_attempt_at"),
        CheckConstraint("status IN ('pending', 'done', 'failed')", name="status"),
    )

    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    outcome: Mapped[str | None] = mapped_column(String(8))  # clear, review
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    screened_at: Mapped[datetime | None]
    candidates: Mapped[int] = mapped_column(default=0)


class Alert(Base):
    """Evidence for a human: never a decision. ``dedupe_key`` makes a retried or repeated screening idempotent
    (one alert per encounter, kind and counterpart)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_queue", "state", "priority", "created_at"),
        Index("ix_alerts_encounter", "encounter_id"),
        CheckConstraint(one_of("state", AlertState), name="state"),
        CheckConstraint(one_of("kind", AlertKind), name="kind"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("watchlist_entries.id"))
    other_encounter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("encounters.id"))
    score: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)  # 1 most urgent
    explanation: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default="open")
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    proposed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    proposed_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertReview(Base):
    """Each step of an alert's review: who, what, why, when."""

    __tablename__ = "alert_reviews"
    __table_args__ = (Index("ix_alert_reviews_alert", "alert_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    alert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    reviewer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(16))  # take, propose, confirm, dismiss, return
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
