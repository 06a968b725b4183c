"""The only SQL of identity resolution."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from travesia.core.db import end_of_day, start_of_day
from travesia.identity.schemas import ProposalFilter
from travesia.models import BiometricCandidate, BiometricTemplate, Document, Encounter, IdentityDecision, Person


def encounters_of(session: Session, person_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(Encounter.id).where(Encounter.person_id == person_id).order_by(Encounter.occurred_at)
    return list(session.execute(stmt).scalars())


def person_of(session: Session, encounter_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    ids = list(encounter_ids)
    if not ids:
        return {}
    stmt = select(Encounter.id, Encounter.person_id).where(Encounter.id.in_(ids))
    return {row[0]: row[1] for row in session.execute(stmt)}


def person_map(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    """(registered, current) person of every encounter, as strings."""
    registered, current = {}, {}
    for eid, reg, now in session.execute(select(Encounter.id, Encounter.registered_person_id, Encounter.person_id)):
        registered[str(eid)], current[str(eid)] = str(reg), str(now)
    return registered, current


def applied_moves(session: Session) -> list[list[list[str]]]:
    """The moves of every decision that was applied (undone ones too: their undo follows them), in order."""
    stmt = (
        select(IdentityDecision.moves)
        .where(IdentityDecision.state.in_(("applied", "undone")))
        .order_by(IdentityDecision.id)
    )
    return list(session.execute(stmt).scalars())


def move(session: Session, moves: Iterable[Sequence[str]]) -> None:
    for encounter, _, target in moves:
        session.execute(
            update(Encounter).where(Encounter.id == uuid.UUID(encounter)).values(person_id=uuid.UUID(target))
        )


def new_person(session: Session) -> Person:
    person = Person()
    session.add(person)
    session.flush()
    return person


def person(session: Session, person_id: uuid.UUID) -> Person | None:
    return session.get(Person, person_id)


def add(session: Session, decision: IdentityDecision) -> IdentityDecision:
    session.add(decision)
    session.flush()
    return decision


def decision(session: Session, decision_id: int, *, lock: bool = False) -> IdentityDecision | None:
    stmt = select(IdentityDecision).where(IdentityDecision.id == decision_id)
    return session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()


def decisions(
    session: Session, *, state: str | None = None, person_ids: Iterable[uuid.UUID] | None = None, limit: int = 200
) -> Sequence[IdentityDecision]:
    stmt = select(IdentityDecision).order_by(IdentityDecision.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(IdentityDecision.state == state)
    if person_ids is not None:
        ids = list(person_ids)
        stmt = stmt.where(IdentityDecision.person_id.in_(ids) | IdentityDecision.from_person_id.in_(ids))
    return session.execute(stmt).scalars().all()


def open_proposal(session: Session, from_person: uuid.UUID, to_person: uuid.UUID) -> IdentityDecision | None:
    stmt = select(IdentityDecision).where(
        IdentityDecision.state == "proposed",
        IdentityDecision.from_person_id == from_person,
        IdentityDecision.person_id == to_person,
    )
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def encounter_candidates(session: Session, encounter_id: uuid.UUID) -> Sequence[BiometricCandidate]:
    """What the biometric step found among earlier encounters (face distance, fingerprint score)."""
    stmt = select(BiometricCandidate).where(
        BiometricCandidate.encounter_id == encounter_id, BiometricCandidate.candidate_kind == "encounter"
    )
    return session.execute(stmt).scalars().all()


def holders_of_documents(session: Session, encounter_id: uuid.UUID) -> list[uuid.UUID]:
    """Other encounters that showed one of this encounter's documents (number and issuing state)."""
    mine = select(Document.number, Document.issuing_state).where(Document.encounter_id == encounter_id).subquery()
    stmt = (
        select(Document.encounter_id)
        .join(mine, (Document.number == mine.c.number) & (Document.issuing_state == mine.c.issuing_state))
        .where(Document.encounter_id != encounter_id)
        .distinct()
        .limit(50)
    )
    return list(session.execute(stmt).scalars())


def batch_rows(session: Session) -> list[tuple]:
    """Every encounter as batch resolution reads it, with its first document number, in one pass."""
    first_document = (
        select(Document.encounter_id, func.min(Document.number).label("number"))
        .group_by(Document.encounter_id)
        .subquery()
    )
    stmt = select(
        Encounter.id,
        Encounter.person_id,
        Encounter.given_names,
        Encounter.surnames,
        Encounter.birth_year,
        Encounter.birth_month,
        Encounter.birth_day,
        Encounter.birth_estimated,
        Encounter.sex,
        Encounter.nationality,
        Encounter.group_id,
        Encounter.station_id,
        first_document.c.number,
    ).outerjoin(first_document, first_document.c.encounter_id == Encounter.id)
    return [tuple(row) for row in session.execute(stmt)]


def biometric_pairs(session: Session) -> list[tuple[uuid.UUID, uuid.UUID, float]]:
    """(encounter, earlier encounter, calibrated bits) for every registration the biometric step found."""
    stmt = select(BiometricCandidate.encounter_id, BiometricCandidate.candidate_id, BiometricCandidate.score).where(
        BiometricCandidate.candidate_kind == "encounter", BiometricCandidate.modality == "fused"
    )
    return [(row[0], row[1], row[2]) for row in session.execute(stmt)]


def with_templates(session: Session) -> list[uuid.UUID]:
    """Encounters with a live face or fingerprint template."""
    stmt = (
        select(BiometricTemplate.subject_id)
        .where(BiometricTemplate.subject_kind == "encounter", BiometricTemplate.retired_at.is_(None))
        .distinct()
    )
    return list(session.execute(stmt).scalars())


# -- the analysts' list of proposals ---------------------------------------------------------------------------------
def _proposals_filtered(stmt: Select, f: ProposalFilter, *, with_state: bool = True) -> Select:
    stmt = stmt.where(IdentityDecision.kind.in_(("merge", "split")))
    if with_state:
        stmt = stmt.where(IdentityDecision.state == f.state)
    else:
        stmt = stmt.where(IdentityDecision.state.in_(("proposed", "accepted", "rejected")))
    if f.source:
        stmt = stmt.where(IdentityDecision.source == f.source)
    if f.since:
        stmt = stmt.where(IdentityDecision.created_at >= start_of_day(f.since))
    if f.until and (end := end_of_day(f.until)) is not None:
        stmt = stmt.where(IdentityDecision.created_at < end)
    return stmt


def proposals_page(session: Session, f: ProposalFilter) -> tuple[list[IdentityDecision], str | None]:
    """One page, strongest first (or oldest first), and the next page's cursor (None: the last page)."""
    score = func.coalesce(IdentityDecision.score, 0.0)
    stmt = _proposals_filtered(select(IdentityDecision), f)
    if f.after:
        value, last = f.after.split("~")
        if f.sort == "score":
            at = float(value)
            stmt = stmt.where(or_(score < at, and_(score == at, IdentityDecision.id < int(last))))
        else:
            stmt = stmt.where(IdentityDecision.id > int(last))
    order = (score.desc(), IdentityDecision.id.desc()) if f.sort == "score" else (IdentityDecision.id.asc(),)
    rows = list(session.execute(stmt.order_by(*order).limit(f.limit + 1)).scalars())
    page = rows[: f.limit]
    cursor = f"{page[-1].score or 0.0!r}~{page[-1].id}" if len(rows) > f.limit else None
    return page, cursor


def proposal_counts(session: Session, f: ProposalFilter) -> dict[str, int]:
    stmt = _proposals_filtered(select(IdentityDecision.state, func.count()), f, with_state=False)
    return {state: count for state, count in session.execute(stmt.group_by(IdentityDecision.state))}
