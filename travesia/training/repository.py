"""The only SQL of training mode: whether a trainee did what an exercise asks, read from the records and the audit
trail of the training database (never a score, never another trainee's work)."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, aliased

from travesia.models import AlertReview, AuditEvent, Document, Encounter, ProtectionCase


def _done(session: Session, condition: object) -> bool:
    return bool(session.execute(select(exists().where(condition))).scalar())  # type: ignore[arg-type]


def registered_family_with_zone(session: Session, user_id: uuid.UUID, number: str) -> bool:
    """A family of at least two registered by the trainee, one of them with the corrected passport's zone."""
    member = aliased(Encounter)
    group_size = select(func.count()).where(member.group_id == Encounter.group_id).scalar_subquery()
    stmt = (
        select(Encounter.id)
        .join(Document, Document.encounter_id == Encounter.id)
        .where(
            Encounter.officer_id == user_id,
            Encounter.group_id.is_not(None),
            Document.number == number,
            Document.mrz_text.is_not(None),
            group_size >= 2,
        )
        .limit(1)
    )
    return session.execute(stmt).first() is not None


def reviewed_an_alert(session: Session, user_id: uuid.UUID) -> bool:
    return _done(session, AlertReview.reviewer_id == user_id)


def audited(session: Session, user_id: uuid.UUID, action: str, outcome: str = "ok") -> bool:
    mine = (AuditEvent.actor_id == user_id) & (AuditEvent.action == action)
    return _done(session, mine & (AuditEvent.outcome == outcome))


def opened_case(session: Session, user_id: uuid.UUID, kind: str) -> bool:
    return _done(session, (ProtectionCase.opened_by_id == user_id) & (ProtectionCase.kind == kind))
