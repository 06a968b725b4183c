"""Protection: vulnerability flags, trafficking screenings, asylum claims, referrals, cases with notes and
follow-ups, safe-conduct passes. Anything here that is open holds a person back from a repatriation manifest
(the non-refoulement gate, ``protection.rules.holds``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from travesia.models.base import Base, created_at, uuid_pk
from travesia.models.vocabulary import (
    CaseKind,
    CaseState,
    ClaimState,
    FlagKind,
    FlagSource,
    ReferralKind,
    ReferralState,
    one_of,
)


class ProtectionFlag(Base):
    """A vulnerability: derived at registration (a child alone, an older person alone) or recorded by an officer
    (pregnancy, disability by the Washington Group short set, a serious medical condition, a survivor of violence).
    Closed, never deleted, with who and why."""

    __tablename__ = "protection_flags"
    __table_args__ = (
        Index("ix_protection_flags_person", "person_id", "closed_at"),
        Index("ix_protection_flags_queue", "closed_at", "recorded_at"),
        CheckConstraint(one_of("kind", FlagKind), name="kind"),
        CheckConstraint(one_of("source", FlagSource), name="source"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    encounter_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("encounters.id"))
    kind: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(8))
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)  # e.g. the Washington Group answers
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # None: derived by the system
    recorded_at: Mapped[datetime] = created_at()
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    close_reason: Mapped[str | None] = mapped_column(Text)


class TraffickingScreening(Base):
    """A structured interview on the IOM/UNODC indicators, scored into refer / watch / none with its reasons."""

    __tablename__ = "trafficking_screenings"
    __table_args__ = (
        Index("ix_trafficking_screenings_person", "person_id"),
        CheckConstraint("outcome IN ('refer', 'watch', 'none')", name="outcome"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    answers: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    interviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = created_at()


class AsylumClaim(Base):
    """An intention to seek asylum, recorded by any officer at any step, and the claim it becomes: referred to the
    national refugee authority, then pending, granted or refused, appealed, finally refused or withdrawn.
    ``history`` keeps every state with its date and who recorded it."""

    __tablename__ = "asylum_claims"
    __table_args__ = (
        Index("ix_asylum_claims_person", "person_id", "state"),
        CheckConstraint(one_of("state", ClaimState), name="state"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    state: Mapped[str] = mapped_column(String(16))
    authority: Mapped[str | None] = mapped_column(String(120))  # e.g. ONPAR, Panama's refugee office
    authority_ref: Mapped[str | None] = mapped_column(String(60))
    history: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = created_at()


class Referral(Base):
    """A referral to a partner (a trafficking-victim service, the refugee authority, child protection, medical,
    psychosocial, legal aid, shelter) with the person's consent as recorded."""

    __tablename__ = "protection_referrals"
    __table_args__ = (
        Index("ix_protection_referrals_person", "person_id", "state"),
        CheckConstraint(one_of("kind", ReferralKind), name="kind"),
        CheckConstraint(one_of("state", ReferralState), name="state"),
        CheckConstraint("consent IN ('given', 'refused', 'not_able')", name="consent"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("protection_cases.id"))
    kind: Mapped[str] = mapped_column(String(20))
    partner: Mapped[str] = mapped_column(String(120))
    consent: Mapped[str] = mapped_column(String(10))  # not_able: a child or a person who cannot consent now
    state: Mapped[str] = mapped_column(String(8), default="open")
    opened_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = created_at()
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class ProtectionCase(Base):
    __tablename__ = "protection_cases"
    __table_args__ = (
        Index("ix_protection_cases_queue", "state", "assigned_to_id"),
        Index("ix_protection_cases_person", "person_id"),
        CheckConstraint(one_of("kind", CaseKind), name="kind"),
        CheckConstraint(one_of("state", CaseState), name="state"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    kind: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(8), default="open")
    assigned_to_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    opened_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = created_at()
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)


class CaseNote(Base):
    """A case note; ``visibility`` names who may read it: the protection team, or the case's officer only."""

    __tablename__ = "protection_case_notes"
    __table_args__ = (
        Index("ix_protection_case_notes_case", "case_id"),
        CheckConstraint("visibility IN ('protection', 'assigned')", name="visibility"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("protection_cases.id"))
    text: Mapped[str] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = created_at()


class FollowUp(Base):
    __tablename__ = "protection_follow_ups"
    __table_args__ = (Index("ix_protection_follow_ups_due", "done_at", "due_on"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("protection_cases.id"))
    due_on: Mapped[date]
    what: Mapped[str] = mapped_column(String(300))
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))


class SafeConductPass(Base):
    """A signed safe-conduct pass. The QR carries only the pass number, validity, route code and a name initial
    block; the signature and key id make it verifiable offline with the public key."""

    __tablename__ = "safe_conduct_passes"
    __table_args__ = (Index("ix_safe_conduct_passes_person", "person_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id"))  # the photo and name shown
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    route: Mapped[list[str]] = mapped_column(JSON, default=list)
    destination: Mapped[str] = mapped_column(String(120))
    key_id: Mapped[str] = mapped_column(String(32))
    token: Mapped[str] = mapped_column(Text)  # what the QR holds: payload and signature
    issued_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = created_at()
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
