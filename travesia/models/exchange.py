"""Data-sharing agreements with partner states and agencies, their API keys, the queries they made, export jobs."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from travesia.models.base import Base, created_at, uuid_pk

INT_ID = BigInteger().with_variant(Integer, "sqlite")


class SharingAgreement(Base):
    """What may be exchanged with a partner, as data: every export, inbound query and import is checked here."""

    __tablename__ = "sharing_agreements"

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(64), unique=True)
    partner: Mapped[str] = mapped_column(String(200))
    purposes: Mapped[list[str]] = mapped_column(JSON)
    legal_basis: Mapped[str] = mapped_column(Text)
    directions: Mapped[list[str]] = mapped_column(JSON)  # export, query, import
    fields: Mapped[list[str]] = mapped_column(JSON)  # exchange.records.FIELDS
    modalities: Mapped[list[str]] = mapped_column(JSON)  # face, finger
    retention_days: Mapped[int]  # how long the partner may keep what it receives
    rate_per_minute: Mapped[int] = mapped_column(default=60)
    max_records: Mapped[int] = mapped_column(default=10_000)  # per export or answer
    valid_from: Mapped[date]
    expires_on: Mapped[date]
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at()
    suspended_at: Mapped[datetime | None]


class PartnerKey(Base):
    """A partner's API key, bound to one agreement (stored as its SHA-256)."""

    __tablename__ = "partner_keys"
    __table_args__ = (Index("ix_partner_keys_agreement", "agreement_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sharing_agreements.id"))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None]


class PartnerRequest(Base):
    """One inbound request by a partner key: the rate limit counts these, the audit trail names them."""

    __tablename__ = "partner_requests"
    __table_args__ = (Index("ix_partner_requests_key_at", "key_id", "at"),)

    id: Mapped[int] = mapped_column(INT_ID, primary_key=True, autoincrement=True)
    key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partner_keys.id"))
    kind: Mapped[str] = mapped_column(String(16))  # query, export
    at: Mapped[datetime] = created_at()


class ExportJob(Base):
    """A bulk export under an agreement, run in the background; the file is kept in the data folder."""

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_state", "state"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    agreement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sharing_agreements.id"))
    requested_by: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(8))  # nist, jsonl
    criteria: Mapped[dict[str, object]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(8), default="queued")  # queued, running, done, failed
    records: Mapped[int] = mapped_column(default=0)
    size: Mapped[int] = mapped_column(default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    finished_at: Mapped[datetime | None]
