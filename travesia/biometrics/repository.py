"""The only SQL of biometrics."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from travesia.models import (
    BiometricCandidate,
    BiometricIndexState,
    BiometricSample,
    BiometricTemplate,
    Encounter,
    RegionPerson,
)


def due_encounters(session: Session, now: datetime, limit: int) -> list[uuid.UUID]:
    """Encounters with samples waiting for the biometric step (first attempt, or a retry whose time has come)."""
    stmt = (
        select(BiometricSample.encounter_id)
        .where(BiometricSample.status == "pending")
        .where(or_(BiometricSample.next_attempt_at.is_(None), BiometricSample.next_attempt_at <= now))
        .group_by(BiometricSample.encounter_id)
        .order_by(func.min(BiometricSample.captured_at))
        .limit(limit)
    )
    return list(session.execute(stmt).scalars())


def claim(session: Session, encounter_id: uuid.UUID, now: datetime, lease_until: datetime) -> int:
    """Take an encounter's due samples for one attempt: a conditional update, so two workers never take the same
    ones; the lease expires by itself if the worker dies, and the sample is tried again."""
    result = session.execute(
        update(BiometricSample)
        .where(BiometricSample.encounter_id == encounter_id, BiometricSample.status == "pending")
        .where(or_(BiometricSample.next_attempt_at.is_(None), BiometricSample.next_attempt_at <= now))
        .values(next_attempt_at=lease_until, attempts=BiometricSample.attempts + 1)
    )
    return result.rowcount or 0


def pending_samples(session: Session, encounter_id: uuid.UUID) -> Sequence[BiometricSample]:
    stmt = (
        select(BiometricSample)
        .where(BiometricSample.encounter_id == encounter_id, BiometricSample.status == "pending")
        .order_by(BiometricSample.modality, BiometricSample.finger_position)
    )
    return session.execute(stmt).scalars().all()


def samples_of(session: Session, encounter_id: uuid.UUID) -> Sequence[BiometricSample]:
    stmt = select(BiometricSample).where(BiometricSample.encounter_id == encounter_id)
    return session.execute(stmt.order_by(BiometricSample.modality, BiometricSample.finger_position)).scalars().all()


def sample(session: Session, sample_id: uuid.UUID) -> BiometricSample | None:
    return session.get(BiometricSample, sample_id)


def set_retry(session: Session, encounter_id: uuid.UUID, at: datetime, give_up_after: int) -> None:
    """After a failed attempt: try again at ``at``, or mark failed once the attempts are spent."""
    base = update(BiometricSample).where(
        BiometricSample.encounter_id == encounter_id, BiometricSample.status == "pending"
    )
    session.execute(base.where(BiometricSample.attempts >= give_up_after).values(status="failed"))
    session.execute(base.values(next_attempt_at=at))


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)


def live_templates(
    session: Session, modality: str, made_by: tuple[str, str], after_id: int = 0, batch: int = 5000
) -> Iterator[Sequence[BiometricTemplate]]:
    """Live templates of a modality made by one algorithm and version (never another model's), in id order, in
    batches (a rebuild never holds them all as ORM objects)."""
    last = after_id
    algorithm, version = made_by
    while True:
        stmt = (
            select(BiometricTemplate)
            .where(BiometricTemplate.modality == modality, BiometricTemplate.retired_at.is_(None))
            .where(BiometricTemplate.algorithm == algorithm, BiometricTemplate.version == version)
            .where(BiometricTemplate.id > last)
            .order_by(BiometricTemplate.id)
            .limit(batch)
        )
        rows = session.execute(stmt).scalars().all()
        if not rows:
            return
        yield rows
        last = rows[-1].id
        for row in rows:  # only these: the caller's other objects stay tracked
            session.expunge(row)


def templates(session: Session, ids: Iterable[int]) -> dict[int, BiometricTemplate]:
    rows = session.execute(select(BiometricTemplate).where(BiometricTemplate.id.in_(list(ids)))).scalars()
    return {row.id: row for row in rows}


def templates_of_subject(session: Session, kind: str, subject_id: uuid.UUID) -> Sequence[BiometricTemplate]:
    stmt = select(BiometricTemplate).where(
        BiometricTemplate.subject_kind == kind,
        BiometricTemplate.subject_id == subject_id,
        BiometricTemplate.retired_at.is_(None),
    )
    return session.execute(stmt).scalars().all()


def outdated_templates(session: Session, current: dict[str, set[tuple[str, str]]]) -> Sequence[BiometricTemplate]:
    """Live templates made from a sample by an algorithm and version that is not among a modality's current ones."""
    clauses = [
        (BiometricTemplate.modality == modality)
        & and_(*(~((BiometricTemplate.algorithm == a) & (BiometricTemplate.version == v)) for a, v in made_by))
        for modality, made_by in current.items()
    ]
    stmt = (
        select(BiometricTemplate)
        .where(BiometricTemplate.retired_at.is_(None), BiometricTemplate.sample_id.is_not(None))
        .where(or_(*clauses))
    )
    return session.execute(stmt).scalars().all()


def subject_templates(
    session: Session, subjects: Iterable[tuple[str, uuid.UUID]], modality: str, made_by: tuple[str, str]
) -> Sequence[BiometricTemplate]:
    """Live templates of a modality made by ``made_by`` only (never another algorithm's) of these subjects."""
    kinds = set(subjects)
    if not kinds:
        return []
    stmt = select(BiometricTemplate).where(
        BiometricTemplate.modality == modality,
        BiometricTemplate.retired_at.is_(None),
        BiometricTemplate.algorithm == made_by[0],
        BiometricTemplate.version == made_by[1],
        BiometricTemplate.subject_id.in_([subject for _, subject in kinds]),
    )
    return [row for row in session.execute(stmt).scalars() if (row.subject_kind, row.subject_id) in kinds]


def subjects_with(
    session: Session, subjects: Iterable[tuple[str, uuid.UUID]], modality: str, made_by: tuple[str, str]
) -> set[tuple[str, uuid.UUID]]:
    """Those of these subjects that hold a live template of a modality made by ``made_by``."""
    kinds = set(subjects)
    if not kinds:
        return set()
    stmt = select(BiometricTemplate.subject_kind, BiometricTemplate.subject_id).where(
        BiometricTemplate.modality == modality,
        BiometricTemplate.retired_at.is_(None),
        BiometricTemplate.algorithm == made_by[0],
        BiometricTemplate.version == made_by[1],
        BiometricTemplate.subject_id.in_([subject for _, subject in kinds]),
    )
    return {(kind, subject) for kind, subject in session.execute(stmt)} & kinds


def without_second_stage(
    session: Session, primary: tuple[str, str], second: tuple[str, str]
) -> Sequence[BiometricTemplate]:
    """Live finger templates of ``primary`` made from a sample that has no live second-stage template yet."""
    done = (
        select(BiometricTemplate.sample_id)
        .where(BiometricTemplate.modality == "finger", BiometricTemplate.retired_at.is_(None))
        .where(BiometricTemplate.algorithm == second[0], BiometricTemplate.version == second[1])
        .where(BiometricTemplate.sample_id.is_not(None))
    )
    stmt = (
        select(BiometricTemplate)
        .where(BiometricTemplate.modality == "finger", BiometricTemplate.retired_at.is_(None))
        .where(BiometricTemplate.algorithm == primary[0], BiometricTemplate.version == primary[1])
        .where(BiometricTemplate.sample_id.is_not(None), BiometricTemplate.sample_id.not_in(done))
        .order_by(BiometricTemplate.id)
    )
    return session.execute(stmt).scalars().all()


def delete_templates(session: Session, kind: str, subject_ids: Iterable[uuid.UUID]) -> set[str]:
    """Delete a kind's templates of these subjects; the modalities that lost some (their indexes must rebuild)."""
    which = (BiometricTemplate.subject_kind == kind) & BiometricTemplate.subject_id.in_(list(subject_ids))
    modalities = set(session.execute(select(BiometricTemplate.modality).where(which).distinct()).scalars())
    session.execute(delete(BiometricTemplate).where(which))
    return modalities


def templates_not_under(session: Session, key_id: str, limit: int) -> Sequence[BiometricTemplate]:
    stmt = select(BiometricTemplate).where(BiometricTemplate.key_id != key_id).order_by(BiometricTemplate.id)
    return session.execute(stmt.limit(limit)).scalars().all()


def generation(session: Session, modality: str) -> int:
    state = session.get(BiometricIndexState, modality)
    return state.generation if state else 0


def bump_generation(session: Session, modality: str) -> None:
    state = session.get(BiometricIndexState, modality)
    if state is None:
        session.add(BiometricIndexState(modality=modality, generation=1))
    else:
        state.generation += 1
    session.flush()


def persons_of(session: Session, encounter_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    rows = session.execute(select(Encounter.id, Encounter.person_id).where(Encounter.id.in_(list(encounter_ids))))
    return {row.id: row.person_id for row in rows}


def delete_candidates_of(session: Session, kind: str, candidate_ids: Iterable[uuid.UUID]) -> None:
    stmt = delete(BiometricCandidate).where(
        BiometricCandidate.candidate_kind == kind, BiometricCandidate.candidate_id.in_(list(candidate_ids))
    )
    session.execute(stmt)


def candidates(session: Session, encounter_id: uuid.UUID) -> Sequence[BiometricCandidate]:
    stmt = select(BiometricCandidate).where(BiometricCandidate.encounter_id == encounter_id)
    return session.execute(stmt.order_by(BiometricCandidate.modality, BiometricCandidate.rank)).scalars().all()


def region_persons(session: Session, person_ids: Iterable[uuid.UUID]) -> Sequence[RegionPerson]:
    """At a field station: the people of its region central described (sync keeps them)."""
    return session.execute(select(RegionPerson).where(RegionPerson.person_id.in_(list(person_ids)))).scalars().all()
