"""The only SQL of programmes: flights, manifest entries, families and nationals."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from travesia.models import Document, Encounter, Flight, ManifestEntry, PathwayProgramme, PathwayReferral, TravelGroup

ACTIVE = ("placed", "held", "boarded")


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)
    session.flush()


def flight(session: Session, flight_id: uuid.UUID, *, lock: bool = False) -> Flight | None:
    stmt = select(Flight).where(Flight.id == flight_id)
    return session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()


def flights(session: Session, limit: int = 100) -> Sequence[Flight]:
    return session.execute(select(Flight).order_by(Flight.departs_on.desc()).limit(limit)).scalars().all()


def entries(session: Session, flight_id: uuid.UUID, states: Sequence[str] = ACTIVE) -> Sequence[ManifestEntry]:
    stmt = (
        select(ManifestEntry)
        .where(ManifestEntry.flight_id == flight_id, ManifestEntry.state.in_(states))
        .order_by(ManifestEntry.family_key, ManifestEntry.placed_at)
    )
    return session.execute(stmt).scalars().all()


def entries_of(session: Session, flight_id: uuid.UUID, person_ids: Iterable[uuid.UUID]) -> list[ManifestEntry]:
    stmt = select(ManifestEntry).where(
        ManifestEntry.flight_id == flight_id, ManifestEntry.person_id.in_(list(person_ids))
    )
    return list(session.execute(stmt).scalars())


def elsewhere(session: Session, flight_id: uuid.UUID, person_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Persons on another flight's manifest that has not left or been cancelled."""
    stmt = (
        select(ManifestEntry.person_id)
        .join(Flight, Flight.id == ManifestEntry.flight_id)
        .where(
            ManifestEntry.person_id.in_(list(person_ids)),
            ManifestEntry.flight_id != flight_id,
            ManifestEntry.state.in_(("placed", "held")),
            Flight.state.in_(("planned", "boarding")),
        )
    )
    return set(session.execute(stmt).scalars())


def occupied(session: Session, flight_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(ManifestEntry.flight_id == flight_id, ManifestEntry.state.in_(ACTIVE))
    return int(session.execute(stmt).scalar_one())


def family(session: Session, person_id: uuid.UUID) -> tuple[str, list[uuid.UUID]]:
    """The person's family as registered (every family group they were registered in, and everyone in it), and a
    key for it; a person registered without family is a family of one."""
    groups = list(
        session.execute(
            select(Encounter.group_id)
            .join(TravelGroup, TravelGroup.id == Encounter.group_id)
            .where(Encounter.person_id == person_id, TravelGroup.kind == "family")
            .distinct()
        ).scalars()
    )
    if not groups:
        return str(person_id), [person_id]
    members = set(session.execute(select(Encounter.person_id).where(Encounter.group_id.in_(groups))).scalars())
    return str(min(groups, key=str)), sorted(members | {person_id}, key=str)


def nationals(
    session: Session,
    country: str,
    limit: int,
    *,
    name_tokens: Sequence[str] = (),
    document: str | None = None,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[tuple[uuid.UUID, datetime]]:
    """Persons registered with this nationality, the most recently registered first, with the time of their last
    registration (the keyset cursor); narrowed to a name (every token in the name key) or a document number."""
    last = func.max(Encounter.occurred_at)
    stmt = select(Encounter.person_id, last).where(Encounter.nationality == country)
    for token in name_tokens:
        stmt = stmt.where(Encounter.name_key.contains(token, autoescape=True))
    if document:
        stmt = stmt.where(Encounter.id.in_(select(Document.encounter_id).where(Document.number == document)))
    stmt = stmt.group_by(Encounter.person_id)
    if after is not None:
        at, person = after
        stmt = stmt.having(or_(last < at, and_(last == at, Encounter.person_id < person)))
    rows = session.execute(stmt.order_by(last.desc(), Encounter.person_id.desc()).limit(limit)).all()
    return [(row[0], row[1]) for row in rows]


def latest(session: Session, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Encounter]:
    stmt = select(Encounter).where(Encounter.person_id.in_(list(person_ids))).order_by(Encounter.occurred_at)
    return {e.person_id: e for e in session.execute(stmt).scalars()}


# -- legal pathways ---------------------------------------------------------------------------------------------------
def programme(session: Session, code: str) -> PathwayProgramme | None:
    return session.get(PathwayProgramme, code)


def programmes(session: Session, active_only: bool = True) -> Sequence[PathwayProgramme]:
    stmt = select(PathwayProgramme).order_by(PathwayProgramme.code)
    if active_only:
        stmt = stmt.where(PathwayProgramme.active.is_(True))
    return session.execute(stmt).scalars().all()


def pathway_referral(session: Session, code: str, person_id: uuid.UUID) -> PathwayReferral | None:
    stmt = select(PathwayReferral).where(PathwayReferral.programme_code == code, PathwayReferral.person_id == person_id)
    return session.execute(stmt).scalar_one_or_none()


def referrals_to_export(session: Session, code: str) -> Sequence[PathwayReferral]:
    stmt = (
        select(PathwayReferral)
        .where(
            PathwayReferral.programme_code == code,
            PathwayReferral.consent == "given",
            PathwayReferral.state.in_(("referred", "accepted")),
        )
        .order_by(PathwayReferral.referred_at)
    )
    return session.execute(stmt).scalars().all()


def registrations(session: Session, person_id: uuid.UUID) -> list[Encounter]:
    stmt = select(Encounter).where(Encounter.person_id == person_id).order_by(Encounter.occurred_at)
    return list(session.execute(stmt).scalars())


def first_document(session: Session, encounter_ids: list[uuid.UUID]) -> Document | None:
    stmt = select(Document).where(Document.encounter_id.in_(encounter_ids)).order_by(Document.position).limit(1)
    return session.execute(stmt).scalar_one_or_none()
