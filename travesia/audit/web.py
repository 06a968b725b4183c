from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from travesia.audit import heads, service
from travesia.audit.api import trusted_heads
from travesia.audit.chain import PROBLEMS, SIGNED_PROBLEMS
from travesia.audit.labels import ACTION_LABELS, RECORD_LABELS
from travesia.audit.schemas import OUTCOME_LABELS, AuditFilter
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import query_filter

LABELS = {"outcomes": OUTCOME_LABELS, "actions": ACTION_LABELS, "records": RECORD_LABELS}
router = APIRouter(prefix="/audit", dependencies=[Depends(verify_csrf)], include_in_schema=False)


@router.get("")
def audit_page(
    request: Request, session: DbSession, principal: Annotated[Principal, Depends(Require(Perm.AUDIT_READ))]
) -> Response:
    query, raw, errors = query_filter(request, AuditFilter)
    if errors:
        context = {"events": [], "filters": raw, "errors": errors, **LABELS}
        return render(request, "audit/events.html", context, 422)
    events = service.list_events(session, principal, query, getattr(request.app.state, "related_records", None))
    next_before = events[-1].seq if len(events) == query.limit else None
    context = {"events": events, "filters": raw, "next_before": next_before, **LABELS}
    try:
        context["signed_head"] = heads.latest(request.app.state.settings.audit_heads_path)
    except heads.HeadFileProblem:
        context["heads_problem"] = True
    return render(request, "audit/events.html", context)


@router.post("/verify")
def verify(
    request: Request, session: DbSession, principal: Annotated[Principal, Depends(Require(Perm.AUDIT_VERIFY))]
) -> Response:
    verdict = service.verify_and_record(session, principal, trusted=trusted_heads(request))
    context = {"verdict": verdict, "problems": PROBLEMS, "signed_problems": SIGNED_PROBLEMS}
    return render(request, "audit/verdict.html", context)
