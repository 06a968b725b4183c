"""The only SQL of screening."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import Select, and_, exists, func, insert, literal, or_, select, tuple_, update
from sqlalchemy.orm import Session, aliased

from travesia.core.db import end_of_day, start_of_day
from travesia.models import (
    Alert,
    AlertReview,
    BiometricCandidate,
    BiometricSample,
    BiometricTemplate,
    Document,
    Encounter,
    Screening,
    Station,
    User,
    Watchlist,
    WatchlistChange,
    WatchlistEntry,
    WatchlistVersion,
)
from travesia.models.vocabulary import ACTIVE_ALERT_STATES, DECIDED_ALERT_STATES
from travesia.screening.schemas import QueueFilter, QueueRow


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)


# -- lists ----------------------------------------------------------------------------------------------------------
def watchlists(session: Session, kind: str | None = None) -> Sequence[Watchlist]:
    stmt = select(Watchlist).order_by(Watchlist.name)
    if kind:
        stmt = stmt.where(Watchlist.kind == kind)
    return session.execute(stmt).scalars().all()


def watchlist_by_name(session: Session, name: str, *, lock: bool = False) -> Watchlist | None:
    stmt = select(Watchlist).where(Watchlist.name == name)
    return session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()


def versions(session: Session, watchlist_id: uuid.UUID) -> Sequence[WatchlistVersion]:
    stmt = select(WatchlistVersion).where(WatchlistVersion.watchlist_id == watchlist_id)
    return session.execute(stmt.order_by(WatchlistVersion.number.desc())).scalars().all()


def version(session: Session, version_id: uuid.UUID) -> WatchlistVersion | None:
    return session.get(WatchlistVersion, version_id)


def unrescreened_versions(session: Session) -> Sequence[WatchlistVersion]:
    stmt = select(WatchlistVersion).where(WatchlistVersion.rescreened_at.is_(None))
    return session.execute(stmt.order_by(WatchlistVersion.imported_at)).scalars().all()


def live_entries(session: Session, watchlist_id: uuid.UUID) -> dict[str, WatchlistEntry]:
    stmt = select(WatchlistEntry).where(
        WatchlistEntry.watchlist_id == watchlist_id, WatchlistEntry.removed_version.is_(None)
    )
    return {e.external_id: e for e in session.execute(stmt).scalars()}


def entries_by_external_id(session: Session, watchlist_id: uuid.UUID) -> dict[str, WatchlistEntry]:
    """Every entry the list ever had, removed ones too (an id given again brings its row back)."""
    stmt = select(WatchlistEntry).where(WatchlistEntry.watchlist_id == watchlist_id)
    return {e.external_id: e for e in session.execute(stmt).scalars()}


def add_changes(session: Session, version_id: uuid.UUID, changes: Sequence[tuple[WatchlistEntry, str]]) -> None:
    """A version's changes, in one multi-row insert (a full list of a million entries makes a million rows)."""
    rows = [
        {"version_id": version_id, "entry_id": e.id, "change": change, "content_hash": e.content_hash}
        for e, change in changes
    ]
    if rows:
        session.execute(insert(WatchlistChange), rows)


def changes_of_version(
    session: Session, version_id: uuid.UUID, *, after: str = "", limit: int = 500
) -> Sequence[tuple[WatchlistChange, WatchlistEntry]]:
    """A version's changes in the order of the list's ids, a page at a time (keyset on the external id)."""
    stmt = (
        select(WatchlistChange, WatchlistEntry)
        .join(WatchlistEntry, WatchlistEntry.id == WatchlistChange.entry_id)
        .where(WatchlistChange.version_id == version_id, WatchlistEntry.external_id > after)
        .order_by(WatchlistEntry.external_id)
        .limit(limit)
    )
    return [tuple(row) for row in session.execute(stmt)]


def entry_history(session: Session, entry_id: uuid.UUID) -> Sequence[tuple[WatchlistChange, WatchlistVersion]]:
    stmt = (
        select(WatchlistChange, WatchlistVersion)
        .join(WatchlistVersion, WatchlistVersion.id == WatchlistChange.version_id)
        .where(WatchlistChange.entry_id == entry_id)
        .order_by(WatchlistVersion.number)
    )
    return [tuple(row) for row in session.execute(stmt)]


def version_by_number(session: Session, watchlist_id: uuid.UUID, number: int) -> WatchlistVersion | None:
    stmt = select(WatchlistVersion).where(
        WatchlistVersion.watchlist_id == watchlist_id, WatchlistVersion.number == number
    )
    return session.execute(stmt).scalar_one_or_none()


def entries_changed_since(session: Session, watchlist_id: uuid.UUID, after: int) -> Iterator[WatchlistEntry]:
    """Entries added, changed or removed in versions after ``after`` (a removal sets ``changed_version`` too)."""
    stmt = select(WatchlistEntry).where(
        WatchlistEntry.watchlist_id == watchlist_id, WatchlistEntry.changed_version > after
    )
    yield from session.execute(stmt.execution_options(yield_per=5000)).scalars()


def entries_of_version(session: Session, watchlist_id: uuid.UUID, number: int) -> Sequence[WatchlistEntry]:
    stmt = select(WatchlistEntry).where(
        WatchlistEntry.watchlist_id == watchlist_id,
        WatchlistEntry.changed_version == number,
        WatchlistEntry.removed_version.is_(None),
    )
    return session.execute(stmt).scalars().all()


def entry(session: Session, entry_id: uuid.UUID) -> WatchlistEntry | None:
    return session.get(WatchlistEntry, entry_id)


def lost_documents(session: Session, keys: Iterable[str]) -> Sequence[tuple[WatchlistEntry, Watchlist]]:
    stmt = (
        select(WatchlistEntry, Watchlist)
        .join(Watchlist, Watchlist.id == WatchlistEntry.watchlist_id)
        .where(Watchlist.kind == "documents", WatchlistEntry.removed_version.is_(None))
        .where(WatchlistEntry.document_key.in_(list(keys)))
    )
    return [tuple(row) for row in session.execute(stmt)]


# -- the screening step's state ---------------------------------------------------------------------------------
def due_screenings(session: Session, now: datetime, limit: int) -> list[uuid.UUID]:
    """Encounters due for screening whose biometric step is over (screening uses its candidates)."""
    biometrics_pending = exists().where(
        BiometricSample.encounter_id == Screening.encounter_id, BiometricSample.status == "pending"
    )
    stmt = (
        select(Screening.encounter_id)
        .where(Screening.status == "pending")
        .where(or_(Screening.next_attempt_at.is_(None), Screening.next_attempt_at <= now))
        .where(~biometrics_pending)
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def claim(session: Session, encounter_id: uuid.UUID, now: datetime, lease_until: datetime) -> bool:
    result = session.execute(
        update(Screening)
        .where(Screening.encounter_id == encounter_id, Screening.status == "pending")
        .where(or_(Screening.next_attempt_at.is_(None), Screening.next_attempt_at <= now))
        .values(next_attempt_at=lease_until, attempts=Screening.attempts + 1)
    )
    return bool(result.rowcount)


def screening(session: Session, encounter_id: uuid.UUID) -> Screening | None:
    return session.get(Screening, encounter_id)


def encounter(session: Session, encounter_id: uuid.UUID) -> Encounter | None:
    return session.get(Encounter, encounter_id)


def encounters_after(session: Session, after: uuid.UUID | None, limit: int) -> Sequence[Encounter]:
    """All encounters in id order, a page at a time (keyset), for re-screening."""
    stmt = select(Encounter).order_by(Encounter.id).limit(limit)
    if after is not None:
        stmt = stmt.where(Encounter.id > after)
    return session.execute(stmt).scalars().all()


def biometric_candidates(session: Session, encounter_id: uuid.UUID) -> Sequence[BiometricCandidate]:
    stmt = select(BiometricCandidate).where(BiometricCandidate.encounter_id == encounter_id)
    return session.execute(stmt).scalars().all()


def watchlist_candidates(session: Session, entry_ids: Iterable[uuid.UUID]) -> Sequence[BiometricCandidate]:
    """The biometric step's candidates naming these entries, on any registration."""
    stmt = select(BiometricCandidate).where(
        BiometricCandidate.candidate_kind == "watchlist", BiometricCandidate.candidate_id.in_(list(entry_ids))
    )
    return session.execute(stmt).scalars().all()


def has_face(session: Session, encounter_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    ids = list(encounter_ids)
    if not ids:
        return set()
    stmt = select(BiometricTemplate.subject_id).where(
        BiometricTemplate.subject_kind == "encounter",
        BiometricTemplate.modality == "face",
        BiometricTemplate.retired_at.is_(None),
        BiometricTemplate.subject_id.in_(ids),
    )
    return set(session.execute(stmt).scalars())


def same_document(session: Session, encounter_id: uuid.UUID, docs: Sequence[Document]) -> Sequence[Document]:
    """Documents of other encounters with the same number and issuing state."""
    if not docs:
        return []
    clauses = [and_(Document.number == d.number, Document.issuing_state == d.issuing_state) for d in docs]
    stmt = select(Document).where(or_(*clauses), Document.encounter_id != encounter_id)
    return session.execute(stmt.limit(50)).scalars().all()


def same_identity(session: Session, encounter: Encounter) -> Sequence[Encounter]:
    """Other encounters claiming the same name and full birth date."""
    if encounter.birth_precision != "day":
        return []
    stmt = select(Encounter).where(
        Encounter.name_key == encounter.name_key,
        Encounter.birth_year == encounter.birth_year,
        Encounter.birth_month == encounter.birth_month,
        Encounter.birth_day == encounter.birth_day,
        Encounter.id != encounter.id,
        Encounter.person_id != encounter.person_id,
    )
    return session.execute(stmt.limit(50)).scalars().all()


def encounters(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Encounter]:
    ids = list(ids)
    if not ids:
        return {}
    return {e.id: e for e in session.execute(select(Encounter).where(Encounter.id.in_(ids))).scalars()}


# -- alerts ----------------------------------------------------------------------------------------------------------
def alert_keys(session: Session, keys: Iterable[str]) -> set[str]:
    keys = list(keys)
    if not keys:
        return set()
    return set(session.execute(select(Alert.dedupe_key).where(Alert.dedupe_key.in_(keys))).scalars())


def alert(session: Session, alert_id: uuid.UUID, *, lock: bool = False) -> Alert | None:
    stmt = select(Alert).where(Alert.id == alert_id)
    return session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()


def alerts_of(session: Session, encounter_id: uuid.UUID) -> Sequence[Alert]:
    stmt = select(Alert).where(Alert.encounter_id == encounter_id).order_by(Alert.priority, Alert.created_at)
    return session.execute(stmt).scalars().all()


def queue(session: Session, states: Sequence[str], limit: int, offset: int = 0) -> Sequence[Alert]:
    stmt = (
        select(Alert)
        .where(Alert.state.in_(states))
        .order_by(Alert.priority, Alert.created_at)
        .limit(limit)
        .offset(offset)
    )
    return session.execute(stmt).scalars().all()


def count_by_state(session: Session) -> dict[str, int]:
    stmt = select(Alert.state, func.count()).group_by(Alert.state)
    return {state: count for state, count in session.execute(stmt)}


def reviews(session: Session, alert_id: uuid.UUID) -> Sequence[AlertReview]:
    stmt = select(AlertReview).where(AlertReview.alert_id == alert_id).order_by(AlertReview.at)
    return session.execute(stmt).scalars().all()


def reviews_with_reviewers(session: Session, alert_id: uuid.UUID) -> list[tuple[AlertReview, str]]:
    """The review history with each reviewer's username (for the analysts' page: who proposed, who confirmed)."""
    stmt = (
        select(AlertReview, User.username)
        .join(User, User.id == AlertReview.reviewer_id)
        .where(AlertReview.alert_id == alert_id)
        .order_by(AlertReview.at)
    )
    return [(review, username) for review, username in session.execute(stmt).all()]


def samples_of(session: Session, encounter_id: uuid.UUID) -> list[tuple[uuid.UUID, str, int | None]]:
    """A registration's face and fingerprint images, as (sample id, modality, finger position), face first."""
    stmt = (
        select(BiometricSample.id, BiometricSample.modality, BiometricSample.finger_position)
        .where(BiometricSample.encounter_id == encounter_id)
        .order_by(BiometricSample.modality, BiometricSample.finger_position)
    )
    return [(row[0], row[1], row[2]) for row in session.execute(stmt)]


def sample_image(session: Session, sample_id: uuid.UUID) -> tuple[uuid.UUID, bytes, str] | None:
    """(encounter id, image, format) of one captured sample."""
    stmt = select(BiometricSample.encounter_id, BiometricSample.image, BiometricSample.image_format).where(
        BiometricSample.id == sample_id
    )
    row = session.execute(stmt).first()
    return (row[0], row[1], row[2]) if row else None


# -- the analyst's queue -------------------------------------------------------------------------------------------
QUEUE_STATES = {"active": ACTIVE_ALERT_STATES, "decided": DECIDED_ALERT_STATES}


def _queue_filtered(stmt: Select, f: QueueFilter, me: uuid.UUID | None, *, with_state: bool = True) -> Select:
    """The queue's filters on a statement that already joins Alert, Encounter and Station (and the entry)."""
    if with_state:
        stmt = stmt.where(Alert.state.in_(QUEUE_STATES.get(f.state, (f.state,))))
    if f.kind:
        stmt = stmt.where(Alert.kind == f.kind)
    if f.watchlist:
        stmt = stmt.where(Watchlist.name == f.watchlist)
    if f.station:
        stmt = stmt.where(Station.code == f.station.strip().upper())
    if f.holder == "mine":
        stmt = stmt.where(Alert.assigned_to_id == me)
    elif f.holder == "nobody":
        stmt = stmt.where(Alert.assigned_to_id.is_(None))
    if f.since:
        stmt = stmt.where(Alert.created_at >= start_of_day(f.since))
    if f.until and (end := end_of_day(f.until)) is not None:
        stmt = stmt.where(Alert.created_at < end)
    return stmt


def _queue_joined(*columns: object) -> Select:
    return (
        select(*columns)
        .join(Encounter, Encounter.id == Alert.encounter_id)
        .join(Station, Station.id == Encounter.station_id)
        .outerjoin(WatchlistEntry, WatchlistEntry.id == Alert.entry_id)
        .outerjoin(Watchlist, Watchlist.id == WatchlistEntry.watchlist_id)
    )


def queue_page(session: Session, f: QueueFilter, me: uuid.UUID | None) -> tuple[list[QueueRow], str | None]:
    """One page of the queue, most urgent (or oldest) first, and the cursor of the next page (None: the last)."""
    holder = aliased(User)
    stmt = _queue_joined(
        Alert, Encounter.person_id, Encounter.given_names, Encounter.surnames, Encounter.occurred_at, Station.code,
        Watchlist.name, WatchlistEntry.caption, holder.display_name,
    ).outerjoin(holder, holder.id == Alert.assigned_to_id)  # fmt: skip
    stmt = _queue_filtered(stmt, f, me)
    order = (Alert.priority, Alert.created_at, Alert.id) if f.sort == "priority" else (Alert.created_at, Alert.id)
    if f.after:
        priority, at, last = f.after.split("~")
        key = (int(priority), datetime.fromisoformat(at), uuid.UUID(last))
        values = key if f.sort == "priority" else key[1:]
        stmt = stmt.where(tuple_(*order) > tuple_(*(literal(v, c.type) for v, c in zip(values, order, strict=True))))
    rows = session.execute(stmt.order_by(*order).limit(f.limit + 1)).all()
    page = [
        QueueRow(
            alert_id=a.id, kind=a.kind, state=a.state, priority=a.priority, score=a.score, created_at=a.created_at,
            person_id=person, person_name=f"{given} {surnames}".strip(), station=code, registered_at=occurred,
            watchlist=list_name, entry=caption, holder=holder_name, proposed=a.proposed_by_id is not None,
        )
        for a, person, given, surnames, occurred, code, list_name, caption, holder_name in rows[: f.limit]
    ]  # fmt: skip
    last_row = page[-1] if len(rows) > f.limit else None
    cursor = f"{last_row.priority}~{last_row.created_at.isoformat()}~{last_row.alert_id}" if last_row else None
    return page, cursor


def queue_counts(session: Session, f: QueueFilter, me: uuid.UUID | None) -> dict[str, int]:
    """Alerts per state under the other filters (the tabs' numbers)."""
    stmt = _queue_filtered(_queue_joined(Alert.state, func.count()), f, me, with_state=False).group_by(Alert.state)
    return {state: count for state, count in session.execute(stmt)}


def queue_choices(session: Session) -> tuple[list[str], list[str]]:
    """The lists and stations that have alerts, for the queue's filters."""
    lists = session.execute(
        select(Watchlist.name)
        .where(exists().where(WatchlistEntry.watchlist_id == Watchlist.id))
        .order_by(Watchlist.name)
    ).scalars()
    stations = session.execute(select(Station.code).order_by(Station.code)).scalars()
    return list(lists), list(stations)
