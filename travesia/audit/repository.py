"""The only SQL of the audit trail."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from travesia.audit.chain import Link, hashed_fields
from travesia.audit.schemas import AuditFilter
from travesia.core.db import end_of_day, start_of_day
from travesia.models import AuditChainHead, AuditEvent, AuditTreeNode


def lock_head(session: Session) -> AuditChainHead:
    """Lock the chain head until commit: appends are serialised, so the chain never forks.
    (On SQLite the writing transaction already holds the database lock: BEGIN IMMEDIATE.)"""
    return session.execute(select(AuditChainHead).where(AuditChainHead.id == 1).with_for_update()).scalar_one()


def read_head(session: Session) -> tuple[int, str] | None:
    """The stored chain head, or None when its row is gone (verification reports that, it does not crash)."""
    head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == 1)).one_or_none()
    return (int(head.seq), str(head.hash)) if head else None


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


def list_events(session: Session, query: AuditFilter, record_ids: Sequence[str] = ()) -> list[AuditEvent]:
    """Newest first; ``record_ids`` widens the record filter to the records that belong to it (a person's
    registrations and groups: the reads of a person's data are found under the person's id)."""
    stmt = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(query.limit)
    if query.before:
        stmt = stmt.where(AuditEvent.seq < query.before)
    for column, value in (
        (AuditEvent.action, query.action),
        (AuditEvent.actor, query.actor),
        (AuditEvent.record_type, query.record_type),
        (AuditEvent.outcome, query.outcome),
    ):
        if value:
            stmt = stmt.where(column == value)
    if query.record_id:
        stmt = stmt.where(AuditEvent.record_id.in_([query.record_id, *record_ids]))
    if query.since:
        stmt = stmt.where(AuditEvent.occurred_at >= start_of_day(query.since))
    if query.until and (end := end_of_day(query.until)) is not None:
        stmt = stmt.where(AuditEvent.occurred_at < end)
    return list(session.execute(stmt).scalars())


def event_at(session: Session, seq: int) -> AuditEvent | None:
    return session.get(AuditEvent, seq)


# -- the Merkle tree over the events (travesia.audit.merkle) ----------------------------------------------------
def event_hashes(session: Session, start: int, end: int) -> list[str]:
    """The chain hashes of leaves start..end-1 (events seq start+1..end), in order."""
    return list(
        session.execute(
            select(AuditEvent.hash).where(AuditEvent.seq > start, AuditEvent.seq <= end).order_by(AuditEvent.seq)
        ).scalars()
    )


def tree_node(session: Session, height: int, position: int) -> str | None:
    return session.execute(
        select(AuditTreeNode.hash).where(AuditTreeNode.height == height, AuditTreeNode.position == position)
    ).scalar_one_or_none()


def stored_nodes(session: Session, height: int) -> int:
    """How many nodes of this height are stored (they are stored left to right, without gaps)."""
    count = session.execute(select(func.count()).where(AuditTreeNode.height == height)).scalar_one()
    return int(count)


def add_tree_nodes(session: Session, nodes: list[tuple[int, int, str]]) -> None:
    """Insert nodes, skipping any another process stored meanwhile (they are the same: derived from the events)."""
    if not nodes:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"height": h, "position": p, "hash": digest} for h, p, digest in nodes]
    session.execute(insert(AuditTreeNode).values(rows).on_conflict_do_nothing())
