"""The only SQL of enrolment. Every read of encounters is scoped here by the station rule of core.scope."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, and_, delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from travesia.core.principal import Principal
from travesia.core.scope import station_scope
from travesia.models import BiometricSample, Document, Encounter, Person, StagedImage, SyncState, TravelGroup


def _scoped(stmt: Select, principal: Principal) -> Select:
    scope = station_scope(principal)
    return stmt if scope is None else stmt.where(Encounter.station_id.in_(scope))


def local_station_code(session: Session) -> str | None:
    """The station this database belongs to when it runs as a field station (``travesia serve --station``)."""
    return session.execute(select(SyncState.station_code).limit(1)).scalar_one_or_none()


def last_station_seq(session: Session, station_id: uuid.UUID) -> int:
    """The highest number taken: here, or at central (a station restored from an old backup must not reuse numbers
    central already holds, or its new registrations would never be sent)."""
    stmt = select(func.coalesce(func.max(Encounter.station_seq), 0)).where(Encounter.station_id == station_id)
    acked = select(func.coalesce(func.max(SyncState.acked_seq), 0))
    return max(int(session.execute(stmt).scalar_one()), int(session.execute(acked).scalar_one()))


def existing_hashes(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = session.execute(select(Encounter.id, Encounter.body_hash).where(Encounter.id.in_(list(ids))))
    return {row.id: row.body_hash for row in rows}


def persons_of_encounters(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    rows = session.execute(select(Encounter.id, Encounter.person_id).where(Encounter.id.in_(list(ids))))
    return {row.id: row.person_id for row in rows}


def known_groups(session: Session, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    return set(session.execute(select(TravelGroup.id).where(TravelGroup.id.in_(list(ids)))).scalars())


def encounter(session: Session, encounter_id: uuid.UUID, principal: Principal | None = None) -> Encounter | None:
    stmt = select(Encounter).where(Encounter.id == encounter_id).options(selectinload(Encounter.documents))
    if principal is not None:
        stmt = _scoped(stmt, principal)
    return session.execute(stmt).scalar_one_or_none()


def group(session: Session, group_id: uuid.UUID) -> TravelGroup | None:
    return session.get(TravelGroup, group_id)


def documents_of(session: Session, encounter_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Document]]:
    out: dict[uuid.UUID, list[Document]] = {}
    ids = list(encounter_ids)
    if not ids:
        return out
    for doc in session.execute(select(Document).where(Document.encounter_id.in_(ids))).scalars():
        out.setdefault(doc.encounter_id, []).append(doc)
    return out


def group_members(session: Session, group_id: uuid.UUID) -> list[Encounter]:
    stmt = select(Encounter).where(Encounter.group_id == group_id).order_by(Encounter.recorded_at)
    return list(session.execute(stmt).scalars())


def person(session: Session, person_id: uuid.UUID) -> Person | None:
    return session.get(Person, person_id)


def current_person_id(session: Session, person_id: uuid.UUID) -> uuid.UUID | None:
    """The person a (possibly merged) person id stands for now; None when there is no such person."""
    person = session.get(Person, person_id)
    if person is None:
        return None
    seen: set[uuid.UUID] = set()
    while person.merged_into_id and person.id not in seen:
        seen.add(person.id)
        following = session.get(Person, person.merged_into_id)
        if following is None:
            break
        person = following
    return person.id


def person_in_scope(session: Session, person_id: uuid.UUID, scope: frozenset[uuid.UUID] | None) -> bool:
    """Whether the person has a registration at one of these stations (None: any registration at all)."""
    stmt = select(Encounter.id).where(Encounter.person_id == person_id).limit(1)
    if scope is not None:
        stmt = stmt.where(Encounter.station_id.in_(scope))
    return session.execute(stmt).first() is not None


def person_encounters(session: Session, person_id: uuid.UUID, principal: Principal) -> list[Encounter]:
    stmt = select(Encounter).where(Encounter.person_id == person_id).order_by(Encounter.occurred_at)
    return list(session.execute(_scoped(stmt, principal)).scalars())


def latest_encounters(session: Session, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Encounter]:
    """Each person's most recent registration (the name and details a list shows for them)."""
    ids = list(person_ids)
    if not ids:
        return {}
    stmt = select(Encounter).where(Encounter.person_id.in_(ids)).order_by(Encounter.occurred_at)
    return {e.person_id: e for e in session.execute(stmt).scalars()}


def adults_of_nationality(session: Session, nationality: str, born_before: int, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(Encounter.person_id)
        .where(Encounter.nationality == nationality, Encounter.birth_year < born_before)
        .order_by(Encounter.occurred_at.desc(), Encounter.person_id)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)


def search(
    session: Session,
    principal: Principal,
    *,
    name_tokens: Sequence[str] = (),
    document: str | None = None,
    station_id: uuid.UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = 50,
) -> list[Encounter]:
    """Newest first, keyset-paginated on (occurred_at, id) so deep pages stay fast."""
    stmt = select(Encounter).order_by(Encounter.occurred_at.desc(), Encounter.id.desc()).limit(limit)
    for token in name_tokens:
        stmt = stmt.where(Encounter.name_key.contains(token, autoescape=True))
    if document:
        stmt = stmt.where(Encounter.id.in_(select(Document.encounter_id).where(Document.number == document)))
    if station_id:
        stmt = stmt.where(Encounter.station_id == station_id)
    if since:
        stmt = stmt.where(Encounter.occurred_at >= since)
    if until:
        stmt = stmt.where(Encounter.occurred_at < until)
    if after:
        at, last_id = after
        stmt = stmt.where(or_(Encounter.occurred_at < at, and_(Encounter.occurred_at == at, Encounter.id < last_id)))
    return list(session.execute(_scoped(stmt, principal)).scalars())


def captured_biometrics(session: Session, encounter_id: uuid.UUID) -> set[tuple[str, int | None]]:
    """(modality, finger position) of the images an encounter already has."""
    rows = session.execute(
        select(BiometricSample.modality, BiometricSample.finger_position).where(
            BiometricSample.encounter_id == encounter_id
        )
    )
    return {(row.modality, row.finger_position) for row in rows}


def records_of_person(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    """The registrations, their groups and the persons merged into this one (all stations: for the auditor)."""
    persons = [person_id, *session.execute(select(Person.id).where(Person.merged_into_id == person_id)).scalars()]
    rows = session.execute(select(Encounter.id, Encounter.group_id).where(Encounter.person_id.in_(persons))).all()
    groups = {row.group_id for row in rows if row.group_id}
    return [*persons[1:], *(row.id for row in rows), *groups]


# -- images kept across a form's correction ----------------------------------------------------------------------
def staged_image(session: Session, image_id: uuid.UUID, user_id: uuid.UUID, since: datetime) -> StagedImage | None:
    stmt = select(StagedImage).where(
        StagedImage.id == image_id, StagedImage.user_id == user_id, StagedImage.created_at >= since
    )
    return session.execute(stmt).scalar_one_or_none()


def delete_staged(session: Session, ids: Iterable[uuid.UUID]) -> None:
    session.execute(delete(StagedImage).where(StagedImage.id.in_(list(ids))))


def delete_staged_before(session: Session, cutoff: datetime) -> int:
    return session.execute(delete(StagedImage).where(StagedImage.created_at < cutoff)).rowcount or 0
