"""Biometric templates (encrypted), the 1:N index's generation, and the candidates a search found."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from travesia.core.db import utcnow
from travesia.models.base import Base, uuid_pk

INT_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite's INTEGER PRIMARY KEY is its rowid


class BiometricTemplate(Base):
    """A template made from one sample (or, later, one watchlist entry's image) by a named algorithm and version;
    at a field station also a template central sent of a person registered in the station's region (``region``,
    subject: central's person id, no sample).
    The template itself is AES-256-GCM ciphertext bound to this row's subject; ``key_id`` says which key, so a
    rotation finds what it has left to re-encrypt. A re-extraction retires the old row instead of changing it."""

    __tablename__ = "biometric_templates"
    __table_args__ = (
        Index("ix_biometric_templates_subject", "subject_kind", "subject_id"),
        Index("ix_biometric_templates_live", "modality", "retired_at"),
        Index("ix_biometric_templates_key", "key_id"),
        CheckConstraint("modality IN ('face', 'finger')", name="modality"),
        CheckConstraint("subject_kind IN ('encounter', 'watchlist', 'region')", name="subject_kind"),
    )

    # An integer key: the in-process index stores it as a compact label and loads what is newer than its mark.
    id: Mapped[int] = mapped_column(INT_ID, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[uuid.UUID]
    sample_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("biometric_samples.id", ondelete="CASCADE"))
    modality: Mapped[str] = mapped_column(String(8))
    finger_position: Mapped[int | None]
    algorithm: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    quality: Mapped[int]
    quality_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    key_id: Mapped[str] = mapped_column(String(16))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class BiometricIndexState(Base):
    """Bumped whenever live templates are retired or removed, so every process knows its in-memory index (and
    the file persisted beside the database) must be rebuilt rather than just topped up."""

    __tablename__ = "biometric_index_state"

    modality: Mapped[str] = mapped_column(String(8), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=0)


class BiometricCandidate(Base):
    """A scored candidate from a 1:N search for an encounter: evidence for screening and identity resolution,
    never a decision by itself."""

    __tablename__ = "biometric_candidates"
    __table_args__ = (
        Index("ix_biometric_candidates_probe", "encounter_id"),
        CheckConstraint("modality IN ('face', 'finger', 'fused')", name="modality"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="CASCADE"))
    modality: Mapped[str] = mapped_column(String(8))
    candidate_kind: Mapped[str] = mapped_column(String(16))  # encounter, watchlist, region (a person from central)
    candidate_id: Mapped[uuid.UUID]
    score: Mapped[float] = mapped_column(Float)  # face: distance; finger: Bozorth3, summed; fused: bits
    rank: Mapped[int]
    # fused only: each modality's bits and how the fingers were counted (biometrics.evidence.Evidence.as_json)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
