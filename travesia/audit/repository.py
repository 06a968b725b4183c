"""The only SQL of the audit trail."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from travesia.audit.chain import Link, hashed_fields
from travesia.audit.schemas import AuditFilter
from travesia.models import AuditChainHead, AuditEvent


def lock_head(session: Session) -> AuditChainHead:
    """Lock the chain head until commit: appends are serialised, so the chain never forks.
    (On SQLite the writing transaction already holds the database lock: BEGIN IMMEDIATE.)"""
    return session.execute(select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()).scalar_one()


def read_head(session: Session) -> tuple[int, str]:
    head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1)).one()
    return int(head.seq), str(head.hash)


def add_event(session: Session, event: AuditEvent, head: AuditChainHead) -> None:
    session.add(event)
    head.seq, head.hash = event.seq, event.hash
    session.flush()


def iter_links(session: Session, batch: int = 5000) -> Iterator[Link]:
    """Stream the whole chain in order; memory stays flat however long the trail is."""
    last = 0
    while True:
        rows = session.execute(
            select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)
        ).scalars()
        count = 0
        for row in rows:
            count += 1
            last = row.seq
            yield Link(fields=hashed_fields(row), prev_hash=row.prev_hash, hash=row.hash)
        session.expunge_all()
        if count < batch:
            return


def list_events(session: Session, query: AuditFilter) -> list[AuditEvent]:
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(query.limit)
    if query.before:
        stmt = stmt.where(AuditEvent.seq < query.before)
    for column, value in (
        (AuditEvent.action, query.action),
        (AuditEvent.actor, query.actor),
        (AuditEvent.record_type, query.record_type),
        (AuditEvent.record_id, query.record_id),
    ):
        if value:
            stmt = stmt.where(column == value)
    return list(session.execute(stmt).scalars())


def event_at(session: Session, seq: int) -> AuditEvent | None:
    return session.get(AuditEvent, seq)
