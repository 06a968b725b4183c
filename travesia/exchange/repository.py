"""The only SQL of the exchange with partners."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from travesia.models import (
    BiometricSample,
    Document,
    Encounter,
    ExportJob,
    PartnerKey,
    PartnerRequest,
    Person,
    SharingAgreement,
)


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)


def agreement_by_name(session: Session, name: str) -> SharingAgreement | None:
    return session.execute(select(SharingAgreement).where(SharingAgreement.name == name)).scalar_one_or_none()


def agreement(session: Session, agreement_id: uuid.UUID) -> SharingAgreement | None:
    return session.get(SharingAgreement, agreement_id)


def agreements(session: Session) -> Sequence[SharingAgreement]:
    return session.execute(select(SharingAgreement).order_by(SharingAgreement.name)).scalars().all()


def key_by_digest(session: Session, digest: str) -> PartnerKey | None:
    return session.execute(select(PartnerKey).where(PartnerKey.digest == digest)).scalar_one_or_none()


def key(session: Session, key_id: uuid.UUID) -> PartnerKey | None:
    return session.get(PartnerKey, key_id)


def requests_since(session: Session, key_id: uuid.UUID, since: datetime) -> int:
    stmt = select(func.count()).where(PartnerRequest.key_id == key_id, PartnerRequest.at > since)
    return int(session.execute(stmt).scalar_one())


def job(session: Session, job_id: uuid.UUID) -> ExportJob | None:
    return session.get(ExportJob, job_id)


def queued_jobs(session: Session) -> Sequence[uuid.UUID]:
    return session.execute(select(ExportJob.id).where(ExportJob.state == "queued")).scalars().all()


def live_persons(session: Session, person_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Persons still holding personal data (retention anonymises; merged ids answer for the person they joined)."""
    stmt = select(Person.id).where(Person.id.in_(person_ids), Person.anonymised_at.is_(None))
    return set(session.execute(stmt).scalars())


def latest_encounters(session: Session, person_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Encounter]:
    """Each person's most recent registration, with its documents: what a partner receives about them."""
    newest = (
        select(Encounter.person_id, func.max(Encounter.occurred_at).label("at"))
        .where(Encounter.person_id.in_(person_ids))
        .group_by(Encounter.person_id)
        .subquery()
    )
    stmt = (
        select(Encounter)
        .join(newest, (Encounter.person_id == newest.c.person_id) & (Encounter.occurred_at == newest.c.at))
        .options(selectinload(Encounter.documents))
    )
    return {row.person_id: row for row in session.execute(stmt).scalars()}


def samples_of_persons(session: Session, person_ids: Sequence[uuid.UUID], modalities: set[str]) -> Sequence[tuple]:
    """(person, sample) for the persons' samples of the given modalities, newest capture first."""
    if not modalities:
        return []
    stmt = (
        select(Encounter.person_id, BiometricSample)
        .join(BiometricSample, BiometricSample.encounter_id == Encounter.id)
        .where(Encounter.person_id.in_(person_ids), BiometricSample.modality.in_(modalities))
        .order_by(BiometricSample.captured_at.desc())
    )
    return session.execute(stmt).all()


def persons_by_document(session: Session, number: str, limit: int) -> list[uuid.UUID]:
    """``number`` as stored (enrolment.rules.document_number)."""
    stmt = (
        select(Encounter.person_id)
        .join(Document, Document.encounter_id == Encounter.id)
        .where(Document.number == number)
        .distinct()
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def persons_for_export(
    session: Session,
    *,
    registered_from: datetime | None,
    registered_to: datetime | None,
    nationality: str | None,
    station_id: uuid.UUID | None,
    limit: int,
) -> list[uuid.UUID]:
    stmt = select(Encounter.person_id).distinct()
    if registered_from is not None:
        stmt = stmt.where(Encounter.occurred_at >= registered_from)
    if registered_to is not None:
        stmt = stmt.where(Encounter.occurred_at < registered_to)
    if nationality is not None:
        stmt = stmt.where(Encounter.nationality == nationality)
    if station_id is not None:
        stmt = stmt.where(Encounter.station_id == station_id)
    return list(session.execute(stmt.order_by(Encounter.person_id).limit(limit)).scalars())
