"""The only SQL of station sync, central side and station side."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from travesia.models import (
    Alert,
    BiometricSample,
    BiometricTemplate,
    Encounter,
    IdentityDecision,
    RegionPerson,
    Screening,
    Station,
    StationKey,
    SyncBatch,
    SyncCursor,
    SyncNotice,
    SyncSentSample,
    SyncState,
    TravelGroup,
    User,
    Watchlist,
)


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)


# -- central -----------------------------------------------------------------------------------------------------
def station_key(session: Session, key_id: str) -> StationKey | None:
    return session.get(StationKey, key_id)


def station_keys(session: Session, station_id: uuid.UUID) -> Sequence[StationKey]:
    stmt = select(StationKey).where(StationKey.station_id == station_id).order_by(StationKey.added_at)
    return session.execute(stmt).scalars().all()


def cursor(session: Session, station_id: uuid.UUID, *, lock: bool = False) -> SyncCursor | None:
    stmt = select(SyncCursor).where(SyncCursor.station_id == station_id)
    if lock:  # PostgreSQL: one batch of a station at a time (SQLite serialises writers anyway)
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def batch_seen(session: Session, digest: str) -> bool:
    return session.execute(select(SyncBatch.id).where(SyncBatch.digest == digest)).first() is not None


def batches(session: Session, station_id: uuid.UUID) -> Sequence[SyncBatch]:
    stmt = select(SyncBatch).where(SyncBatch.station_id == station_id).order_by(SyncBatch.id)
    return session.execute(stmt).scalars().all()


def seq_of(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int | None]:
    rows = session.execute(select(Encounter.id, Encounter.station_seq).where(Encounter.id.in_(ids)))
    return {row.id: row.station_seq for row in rows}


def alerts_for_station(session: Session, station_id: uuid.UUID, since: datetime | None) -> Sequence[Alert]:
    stmt = select(Alert).join(Encounter, Encounter.id == Alert.encounter_id).where(Encounter.station_id == station_id)
    if since is not None:
        stmt = stmt.where(or_(Alert.created_at > since, Alert.decided_at > since))
    return session.execute(stmt.order_by(Alert.created_at)).scalars().all()


def links_for_station(
    session: Session, station_id: uuid.UUID, since: datetime | None
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(encounter, person) for the station's encounters screened, or moved by an identity decision, since then."""
    screened = (
        select(Encounter.id, Encounter.person_id)
        .join(Screening, Screening.encounter_id == Encounter.id)
        .where(Encounter.station_id == station_id, Screening.screened_at.is_not(None))
    )
    if since is not None:
        screened = screened.where(Screening.screened_at > since)
    found: dict[uuid.UUID, uuid.UUID] = {row[0]: row[1] for row in session.execute(screened)}
    if since is not None:
        moved: set[uuid.UUID] = set()
        for ids in session.execute(
            select(IdentityDecision.encounter_ids).where(IdentityDecision.decided_at > since)
        ).scalars():
            moved.update(uuid.UUID(str(i)) for i in ids)
        if moved:
            rows = session.execute(
                select(Encounter.id, Encounter.person_id).where(
                    Encounter.station_id == station_id, Encounter.id.in_(moved)
                )
            )
            found.update({row[0]: row[1] for row in rows})
    return list(found.items())


def encounters_per_person(session: Session, person_ids: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    stmt = (
        select(Encounter.person_id, func.count())
        .where(Encounter.person_id.in_(person_ids))
        .group_by(Encounter.person_id)
    )
    return {row[0]: row[1] for row in session.execute(stmt)}


def region_neighbours(session: Session, station: Station) -> list[uuid.UUID]:
    """The other stations of a station's region (same country, same region name); none if it names no region."""
    if not station.region:
        return []
    stmt = select(Station.id).where(
        Station.region == station.region, Station.country == station.country, Station.id != station.id
    )
    return list(session.execute(stmt).scalars())


def region_templates(
    session: Session, station_ids: Sequence[uuid.UUID], after_id: int, since: datetime, limit: int
) -> Sequence[tuple[BiometricTemplate, uuid.UUID]]:
    """Live templates of registrations at these stations recorded since then, after a template id, in id order,
    with the person each registration belongs to."""
    stmt = (
        select(BiometricTemplate, Encounter.person_id)
        .join(Encounter, Encounter.id == BiometricTemplate.subject_id)
        .where(BiometricTemplate.subject_kind == "encounter", BiometricTemplate.retired_at.is_(None))
        .where(BiometricTemplate.id > after_id, BiometricTemplate.created_at >= since)
        .where(Encounter.station_id.in_(station_ids), Encounter.recorded_at >= since)
        .order_by(BiometricTemplate.id)
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(stmt)]


def latest_in_region(
    session: Session, person_ids: set[uuid.UUID], station_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[Encounter, str]]:
    """Each person's latest registration at these stations, with the station's code."""
    stmt = (
        select(Encounter, Station.code)
        .join(Station, Station.id == Encounter.station_id)
        .where(Encounter.person_id.in_(person_ids), Encounter.station_id.in_(station_ids))
        .order_by(Encounter.recorded_at)
    )
    return {row[0].person_id: (row[0], row[1]) for row in session.execute(stmt)}


def shareable_lists(session: Session) -> Sequence[Watchlist]:
    """Lists a field station may hold a copy of: secret ones stay at central (their hits come back as alerts)."""
    stmt = select(Watchlist).where(Watchlist.sensitivity != "secret").order_by(Watchlist.name)
    return session.execute(stmt).scalars().all()


def overview(session: Session) -> list[tuple[Station, SyncCursor | None, int, datetime | None]]:
    """Every station with a key: its cursor, its live keys, its last batch's arrival."""
    live = (
        select(StationKey.station_id, func.count().label("live_keys"))
        .where(StationKey.revoked_at.is_(None))
        .group_by(StationKey.station_id)
        .subquery()
    )
    last = (
        select(SyncBatch.station_id, func.max(SyncBatch.received_at).label("at"))
        .group_by(SyncBatch.station_id)
        .subquery()
    )
    known = select(StationKey.station_id).distinct()
    stmt = (
        select(Station, SyncCursor, func.coalesce(live.c.live_keys, 0), last.c.at)
        .outerjoin(SyncCursor, SyncCursor.station_id == Station.id)
        .outerjoin(live, live.c.station_id == Station.id)
        .outerjoin(last, last.c.station_id == Station.id)
        .where(Station.id.in_(known))
        .order_by(Station.code)
    )
    return [(row[0], row[1], int(row[2]), row[3]) for row in session.execute(stmt)]


# -- station -----------------------------------------------------------------------------------------------------
def state(session: Session) -> SyncState | None:
    return session.execute(select(SyncState).limit(1)).scalar_one_or_none()


def unsent(session: Session, station_id: uuid.UUID, after_seq: int, limit: int) -> Sequence[Encounter]:
    stmt = (
        select(Encounter)
        .where(Encounter.station_id == station_id, Encounter.station_seq > after_seq)
        .order_by(Encounter.station_seq)
        .limit(limit)
        .options(selectinload(Encounter.documents))
    )
    return session.execute(stmt).scalars().all()


def count_unsent(session: Session, station_id: uuid.UUID, after_seq: int) -> int:
    stmt = select(func.count()).where(Encounter.station_id == station_id, Encounter.station_seq > after_seq)
    return int(session.execute(stmt).scalar_one())


def count_registered(session: Session, station_id: uuid.UUID) -> int:
    stmt = select(func.count()).where(Encounter.station_id == station_id, Encounter.station_seq.is_not(None))
    return int(session.execute(stmt).scalar_one())


def usernames(session: Session, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    return {
        row.id: row.username for row in session.execute(select(User.id, User.username).where(User.id.in_(user_ids)))
    }


def group_kinds(session: Session, group_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = session.execute(select(TravelGroup.id, TravelGroup.kind).where(TravelGroup.id.in_(group_ids)))
    return {row[0]: row[1] for row in rows}


def samples_of(session: Session, encounter_ids: Sequence[uuid.UUID]) -> Sequence[BiometricSample]:
    stmt = select(BiometricSample).where(BiometricSample.encounter_id.in_(encounter_ids))
    return session.execute(stmt).scalars().all()


def late_samples(session: Session, station_id: uuid.UUID, acked_seq: int, limit: int) -> Sequence[BiometricSample]:
    """Images of registrations central holds that central has not acknowledged: taken after the registration was
    sent (a scanner's drop folder later that day)."""
    sent = select(SyncSentSample.sample_id)
    stmt = (
        select(BiometricSample)
        .join(Encounter, Encounter.id == BiometricSample.encounter_id)
        .where(
            Encounter.station_id == station_id,
            Encounter.station_seq <= acked_seq,
            BiometricSample.id.not_in(sent),
        )
        .order_by(BiometricSample.captured_at, BiometricSample.id)
        .limit(limit)
    )
    return session.execute(stmt).scalars().all()


def mark_sent(session: Session, sample_ids: Sequence[uuid.UUID]) -> None:
    if not sample_ids:
        return
    known = set(
        session.execute(select(SyncSentSample.sample_id).where(SyncSentSample.sample_id.in_(sample_ids))).scalars()
    )
    session.add_all(SyncSentSample(sample_id=s) for s in sample_ids if s not in known)


def notice(session: Session, kind: str, central_id: str) -> SyncNotice | None:
    stmt = select(SyncNotice).where(SyncNotice.kind == kind, SyncNotice.central_id == central_id)
    return session.execute(stmt).scalar_one_or_none()


def notices(session: Session, kind: str | None = None, encounter_id: uuid.UUID | None = None) -> Sequence[SyncNotice]:
    stmt = select(SyncNotice).order_by(SyncNotice.id)
    if kind is not None:
        stmt = stmt.where(SyncNotice.kind == kind)
    if encounter_id is not None:
        stmt = stmt.where(SyncNotice.encounter_id == encounter_id)
    return session.execute(stmt).scalars().all()


def region_person(session: Session, person_id: uuid.UUID) -> RegionPerson | None:
    return session.get(RegionPerson, person_id)


def region_persons_before(session: Session, before: datetime) -> list[uuid.UUID]:
    stmt = select(RegionPerson.person_id).where(RegionPerson.seen_at < before)
    return list(session.execute(stmt).scalars())


def delete_region_persons(session: Session, person_ids: Sequence[uuid.UUID]) -> None:
    session.execute(RegionPerson.__table__.delete().where(RegionPerson.person_id.in_(list(person_ids))))


def count_region_persons(session: Session) -> int:
    return session.execute(select(func.count()).select_from(RegionPerson)).scalar_one()


def alert_notices(session: Session) -> list[tuple[SyncNotice, str, str]]:
    stmt = (
        select(SyncNotice, Encounter.given_names, Encounter.surnames)
        .join(Encounter, Encounter.id == SyncNotice.encounter_id)
        .where(SyncNotice.kind == "alert")
    )
    return [(row[0], row[1], row[2]) for row in session.execute(stmt)]
