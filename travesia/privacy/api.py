"""Data protection API, for the auditor acting as data protection officer: the retention plan (what a run would
remove) and subject-access reports as JSON or PDF."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from travesia.core.db import utcnow
from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.privacy import retention, service

router = APIRouter(prefix="/api/v1", tags=["privacy"])
Officer = Annotated[Principal, Depends(Require(Perm.PRIVACY_MANAGE))]


@router.get("/privacy/retention")
def retention_plan(request: Request, session: DbSession, _: Officer) -> Any:
    """A dry run: who is past their retention period, by kind. `travesia retention run` applies it."""
    rules = retention.load_rules(request.app.state.settings.retention_rules)
    due = service.plan(session, rules, utcnow().date())
    return {
        "rules": rules.years,
        "due": [
            {"person_id": d.person_id, "kind": d.kind, "last_activity": d.last_activity, "due_on": d.due_on}
            for d in due
        ],
    }


@router.get("/persons/{person_id}/subject-access")
def subject_access(session: DbSession, principal: Officer, person_id: uuid.UUID) -> Any:
    return service.subject_access(session, principal, person_id)


@router.get("/persons/{person_id}/subject-access.pdf")
def subject_access_pdf(session: DbSession, principal: Officer, person_id: uuid.UUID) -> Response:
    report = service.subject_access(session, principal, person_id)
    return Response(service.subject_access_pdf(report), media_type="application/pdf")
