"""Encounters (immutable registrations), the documents they carry, travelling groups, persons, biometric samples."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from travesia.models.base import Base, created_at, uuid_pk


class Person(Base):
    """The resolved identity behind one or more encounters (one per encounter until identity resolution links them)."""

    __tablename__ = "persons"
    __table_args__ = (Index("ix_persons_merged_into", "merged_into_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    created_at: Mapped[datetime] = created_at()
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"))
    # Set when retention removed the person's personal data: what stays is a pseudonymous id for statistics and
    # the audit trail (privacy.service.apply_retention).
    anonymised_at: Mapped[datetime | None]


class TravelGroup(Base):
    """A family or travelling group registered together; each member's relation is on their encounter."""

    __tablename__ = "travel_groups"

    id: Mapped[uuid.UUID] = uuid_pk()
    kind: Mapped[str] = mapped_column(String(16))  # family, travelling
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"))
    created_at: Mapped[datetime] = created_at()


class Encounter(Base):
    """One registration of one person at one station at one time, with the biographics as claimed then.

    Immutable: a correction is a new encounter whose ``corrects_id`` names the old one. The id is supplied by the
    client (a station may create it offline), which makes every submission idempotent; ``body_hash`` tells a retry
    of the same submission from a different one under the same id.
    """

    __tablename__ = "encounters"
    __table_args__ = (
        Index("ix_encounters_station_time", "station_id", "occurred_at"),
        Index("ix_encounters_person", "person_id"),
        Index("ix_encounters_group", "group_id"),
        Index("ix_encounters_corrects", "corrects_id"),
        Index("ix_encounters_phone", "phone"),
        Index("ix_encounters_recorded", "recorded_at"),  # the statistics roll-ups read what is new
        # A field station numbers its registrations 1, 2, 3…; central keeps the numbers, so sync can prove that
        # every one arrived once and in order (null for registrations made at central).
        Index("ux_encounters_station_seq", "station_id", "station_seq", unique=True),
        CheckConstraint("sex IN ('F', 'M', 'X')", name="sex_code"),
        CheckConstraint("birth_precision IN ('day', 'month', 'year')", name="birth_precision"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"))
    officer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    # The person the encounter was registered under, never changed: identity decisions replay from here.
    registered_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    group_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("travel_groups.id"))
    relation: Mapped[str | None] = mapped_column(String(24))  # relation to the group's head
    corrects_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("encounters.id"))
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = created_at()
    source: Mapped[str] = mapped_column(String(16))  # web, api, import, sync
    station_seq: Mapped[int | None]
    given_names: Mapped[str] = mapped_column(String(200))
    surnames: Mapped[str] = mapped_column(String(200))
    # Accent- and case-folded name for substring search. Deliberately not indexed: a B-tree cannot serve
    # LIKE '%…%', and the index cost a third of the bulk-import rate; screening brings a real name index.
    name_key: Mapped[str] = mapped_column(String(400))
    sex: Mapped[str] = mapped_column(String(1))
    birth_year: Mapped[int] = mapped_column(Integer)
    birth_month: Mapped[int | None] = mapped_column(Integer)
    birth_day: Mapped[int | None] = mapped_column(Integer)
    birth_precision: Mapped[str] = mapped_column(String(8))
    birth_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    nationality: Mapped[str | None] = mapped_column(String(3))  # ISO 3166-1 alpha-3 (as in the MRZ)
    country_of_birth: Mapped[str | None] = mapped_column(String(3))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    route_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(40))  # digits and a leading +, as enrolment.schemas keeps it
    email: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    # Consent to biometric capture (given, refused; null when not recorded) and the biometrics not captured with
    # their reasons, as enrolment.rules.capture_record lists them; who and when are the encounter's officer and time.
    biometric_consent: Mapped[str | None] = mapped_column(String(8))
    biometric_exemptions: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list, server_default="[]")

    documents: Mapped[list[Document]] = relationship(lazy="raise", order_by="Document.position")


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_number", "number", "issuing_state"),
        Index("ix_documents_encounter", "encounter_id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    doc_type: Mapped[str] = mapped_column(String(16))  # passport, id_card, visa, birth_certificate, other
    number: Mapped[str] = mapped_column(String(40))
    issuing_state: Mapped[str | None] = mapped_column(String(3))
    expiry_date: Mapped[date | None]
    mrz_text: Mapped[str | None] = mapped_column(String(200))
    mrz_format: Mapped[str | None] = mapped_column(String(8))
    mrz_mismatches: Mapped[list[str]] = mapped_column(JSON, default=list)  # typed fields that disagree with the MRZ


class BiometricSample(Base):
    """A captured image; its template and quality come with the biometrics work."""

    __tablename__ = "biometric_samples"
    __table_args__ = (
        Index("ix_biometric_samples_encounter", "encounter_id"),
        Index("ix_biometric_samples_status", "status", "next_attempt_at"),
        CheckConstraint("modality IN ('face', 'finger')", name="modality"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    encounter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("encounters.id", ondelete="CASCADE"))
    modality: Mapped[str] = mapped_column(String(8))
    finger_position: Mapped[int | None]  # ISO/IEC 19794-4: 1 right thumb .. 10 left little
    image_format: Mapped[str] = mapped_column(String(8))  # jpeg, png, wsq
    width: Mapped[int]
    height: Mapped[int]
    image: Mapped[bytes] = mapped_column(LargeBinary)  # EXIF stripped
    capture_device: Mapped[str | None] = mapped_column(String(100))
    captured_at: Mapped[datetime]
    # The biometric step's progress, kept on the sample so that the work is recorded in the enrolment's own
    # transaction and can never be lost: pending → done | rejected (quality) | failed (retries exhausted).
    status: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None]
    quality: Mapped[int | None]
    problems: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")


class StagedImage(Base):
    """An image the officer attached to a registration form that was sent back for a correction: kept, sealed with
    the keyring and bound to that officer, so the form can show it again without a new upload. Used by the form's
    next submission, deleted with it, and swept after a day (enrolment.staging)."""

    __tablename__ = "staged_images"
    __table_args__ = (Index("ix_staged_images_created", "created_at"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = created_at()
    image_format: Mapped[str] = mapped_column(String(8))  # jpeg, png, wsq (as CleanImage)
    width: Mapped[int]
    height: Mapped[int]
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # AES-GCM, bound to the id and the officer
