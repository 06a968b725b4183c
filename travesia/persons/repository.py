"""The only SQL of the person page: what it gathers about one person across the domains, in a few queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from travesia.models import Alert, BiometricSample, Document, Encounter, Person, Station


def merged_from(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(Person.id).where(Person.merged_into_id == person_id)
    return list(session.execute(stmt).scalars())


def stations(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Station]:
    rows = session.execute(select(Station).where(Station.id.in_(list(ids)))).scalars()
    return {s.id: s for s in rows}


def documents(session: Session, encounter_ids: list[uuid.UUID]) -> Sequence[Document]:
    stmt = select(Document).where(Document.encounter_id.in_(encounter_ids)).order_by(Document.position)
    return session.execute(stmt).scalars().all()


def faces(session: Session, encounter_ids: list[uuid.UUID]) -> list[tuple[uuid.UUID, uuid.UUID, object]]:
    """(sample id, encounter id, captured at) of each face image, oldest first."""
    stmt = (
        select(BiometricSample.id, BiometricSample.encounter_id, BiometricSample.captured_at)
        .where(BiometricSample.encounter_id.in_(encounter_ids), BiometricSample.modality == "face")
        .order_by(BiometricSample.captured_at)
    )
    return [(a, b, c) for a, b, c in session.execute(stmt)]


def face_image(session: Session, sample_id: uuid.UUID) -> tuple[uuid.UUID, bytes, str] | None:
    stmt = select(BiometricSample.encounter_id, BiometricSample.image, BiometricSample.image_format).where(
        BiometricSample.id == sample_id, BiometricSample.modality == "face"
    )
    row = session.execute(stmt).first()
    return (row[0], row[1], row[2]) if row else None


def alerts(session: Session, encounter_ids: list[uuid.UUID]) -> Sequence[Alert]:
    stmt = select(Alert).where(Alert.encounter_id.in_(encounter_ids)).order_by(Alert.created_at)
    return session.execute(stmt).scalars().all()


def group_members(session: Session, group_ids: list[uuid.UUID]) -> Sequence[Encounter]:
    stmt = select(Encounter).where(Encounter.group_id.in_(group_ids)).order_by(Encounter.occurred_at)
    return session.execute(stmt).scalars().all()
