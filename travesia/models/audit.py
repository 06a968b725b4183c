"""The hash-chained audit trail. Rows are appended only: triggers on both databases refuse UPDATE and DELETE.

``seq`` is the position in the chain (gap-free, assigned under the lock on ``audit_chain_head``); ``hash`` is the
SHA-256 of the event's canonical form including ``prev_hash`` (see travesia.audit.chain).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from travesia.models.base import Base

BigInt = BigInteger().with_variant(Integer, "sqlite")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_record", "record_type", "record_id"),
        Index("ix_audit_events_actor", "actor_id"),
        Index("ix_audit_events_at", "occurred_at"),
    )

    seq: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    event_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    occurred_at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]
    actor: Mapped[str] = mapped_column(String(100))  # account name, 'cli:<os user>' or 'system'
    roles: Mapped[str] = mapped_column(String(300))  # comma-separated, sorted
    station: Mapped[str | None] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # ok, refused, failed
    record_type: Mapped[str | None] = mapped_column(String(64))
    record_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON, never personal data
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """One row: the last sequence number and hash. Appenders lock it, which orders the chain."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInt)
    hash: Mapped[str] = mapped_column(String(64))


class AuditTreeNode(Base):
    """Stored nodes of the audit Merkle tree: perfect subtrees of 2**height events (height >= 8), so a proof reads
    O(log n) rows. Derived from the events only (rebuildable); a changed node gives proofs that fail against the
    signed heads, never a false "consistent"."""

    __tablename__ = "audit_tree_nodes"

    height: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    position: Mapped[int] = mapped_column(BigInt, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))
