"""Identity resolution: the decisions that put encounters together into persons, and take them apart.

An encounter's ``person_id`` is a projection; the decisions are the record. Each applied decision lists the moves it
made (encounter, from person, to person), so that undoing it is exact and the person table can be replayed from the
encounters' ``registered_person_id`` and the moves in order."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from travesia.models.base import Base, created_at

DECISION_ID = BigInteger().with_variant(Integer, "sqlite")  # the order of replay


class IdentityDecision(Base):
    __tablename__ = "identity_decisions"
    __table_args__ = (
        Index("ix_identity_decisions_state", "state", "source"),
        Index("ix_identity_decisions_person", "person_id"),
        CheckConstraint("kind IN ('attach', 'merge', 'split', 'undo')", name="kind"),
        CheckConstraint("state IN ('proposed', 'accepted', 'rejected', 'applied', 'undone')", name="state"),
        CheckConstraint("source IN ('online', 'batch', 'manual')", name="source"),
    )

    # proposed → accepted (a new applied decision carries the moves) or rejected; applied → undone (by an undo)
    id: Mapped[int] = mapped_column(DECISION_ID, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(8))
    # merge/attach: from_person's encounters go to person; split: the named encounters leave person for a new one
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id"))
    from_person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("persons.id"))
    encounter_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    moves: Mapped[list[list[str]]] = mapped_column(JSON, default=list)  # [encounter, from person, to person]
    score: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))  # None: the system decided
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("identity_decisions.id"))
    created_at: Mapped[datetime] = created_at()
    decided_at: Mapped[datetime | None]
