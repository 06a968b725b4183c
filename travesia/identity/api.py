"""Identity API: merge and split persons, work the proposals, undo, and check the person table against the log."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.identity import repository, service
from travesia.identity.schemas import DecideIn, DecisionOut, MergeIn, ReplayOut, SplitIn

router = APIRouter(prefix="/api/v1", tags=["identity"])
Decider = Annotated[Principal, Depends(Require(Perm.IDENTITY_DECIDE))]
Undoer = Annotated[Principal, Depends(Require(Perm.IDENTITY_UNDO))]


@router.post("/persons/{person_id}/merge", response_model=DecisionOut, status_code=201)
def merge(session: DbSession, principal: Decider, person_id: uuid.UUID, body: MergeIn) -> Any:
    """Every registration of this person goes to ``into``; this person id then redirects there."""
    return service.merge(session, principal, person_id, body.into, body.reason)


@router.post("/persons/{person_id}/split", response_model=DecisionOut, status_code=201)
def split(session: DbSession, principal: Decider, person_id: uuid.UUID, body: SplitIn) -> Any:
    """The named registrations become a new person; the others stay."""
    return service.split(session, principal, person_id, body.encounter_ids, body.reason)


@router.get("/identity/decisions", response_model=list[DecisionOut])
def decisions(
    session: DbSession,
    _: Decider,
    state: Annotated[str | None, Query(pattern="^(proposed|accepted|rejected|applied|undone)$")] = None,
    person_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    return repository.decisions(session, state=state, person_ids=[person_id] if person_id else None, limit=limit)


@router.post("/identity/decisions/{decision_id}/accept", response_model=DecisionOut, status_code=201)
def accept(session: DbSession, principal: Decider, decision_id: int, body: DecideIn) -> Any:
    return service.accept(session, principal, decision_id, body.reason)


@router.post("/identity/decisions/{decision_id}/reject", response_model=DecisionOut)
def reject(session: DbSession, principal: Decider, decision_id: int, body: DecideIn) -> Any:
    return service.reject(session, principal, decision_id, body.reason)


@router.post("/identity/decisions/{decision_id}/undo", response_model=DecisionOut, status_code=201)
def undo(session: DbSession, principal: Undoer, decision_id: int, body: DecideIn) -> Any:
    """Put back exactly what a decision moved (the supervisor's; automatic merges included)."""
    return service.undo(session, principal, decision_id, body.reason)


@router.get("/identity/replay", response_model=ReplayOut)
def replay(session: DbSession, _: Undoer) -> Any:
    """Rebuild who-is-who from the registrations and the decisions, and list every registration that differs."""
    check = service.replay_check(session)
    return ReplayOut(encounters=check.encounters, decisions=check.decisions, differences=check.differences)
