from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from travesia.audit import service
from travesia.audit.schemas import Anchor, AuditEventOut, AuditFilter, AuditPage, VerifyResult
from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("/events", response_model=AuditPage)
def list_events(
    session: DbSession,
    principal: Annotated[Principal, Depends(Require(Perm.AUDIT_READ))],
    query: Annotated[AuditFilter, Query()],
) -> AuditPage:
    events = service.list_events(session, principal, query)
    next_before = events[-1].seq if len(events) == query.limit else None
    return AuditPage(events=[AuditEventOut.model_validate(e) for e in events], next_before=next_before)


@router.post("/verify", response_model=VerifyResult)
def verify(session: DbSession, principal: Annotated[Principal, Depends(Require(Perm.AUDIT_VERIFY))]) -> VerifyResult:
    verdict = service.verify_and_record(session, principal)
    return VerifyResult(**verdict.__dict__)


@router.get("/anchor", response_model=Anchor)
def anchor(session: DbSession, _: Annotated[Principal, Depends(Require(Perm.AUDIT_VERIFY))]) -> Anchor:
    return service.anchor(session)
