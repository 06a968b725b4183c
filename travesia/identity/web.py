"""The analysts' identity proposals: the list for thousands, one proposal with both persons side by side, and the
decision (accept or reject, with a reason). A proposal is evidence for a person to weigh; nothing merges by itself."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from travesia.core.db import utcnow
from travesia.core.errors import DomainError
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors, query_filter
from travesia.identity import proposals, service
from travesia.identity.schemas import (
    DECISION_KIND_LABELS,
    DECISION_SOURCE_LABELS,
    DECISION_STATE_LABELS,
    DecideIn,
    ProposalFilter,
)
from travesia.screening.schemas import FEATURE_LABELS, LEVEL_LABELS

router = APIRouter(prefix="/identity", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Decider = Annotated[Principal, Depends(Require(Perm.IDENTITY_DECIDE))]
LABELS = {
    "kinds": DECISION_KIND_LABELS,
    "states": DECISION_STATE_LABELS,
    "sources": DECISION_SOURCE_LABELS,
    "features": FEATURE_LABELS,
    "levels": LEVEL_LABELS,
}


@router.get("/proposals")
def proposal_list(request: Request, session: DbSession, principal: Decider) -> Response:
    f, raw, errors = query_filter(request, ProposalFilter)
    rows, next_after, counts = proposals.list_proposals(session, principal, f)
    context = {
        "rows": rows,
        "f": f,
        "filters": {k: v for k, v in raw.items() if k not in ("after", "state")},
        "next_after": next_after,
        "counts": counts,
        "errors": errors,
        "now": utcnow(),
        **LABELS,
    }
    return render(request, "identity/proposals.html", context, 422 if errors else 200)


def _detail(session: DbSession, principal: Principal, decision_id: int) -> dict[str, object]:
    decision, moving, into = proposals.proposal(session, principal, decision_id)
    return {"d": decision, "moving": moving, "into": into, **LABELS}


@router.get("/proposals/{decision_id}")
def proposal_page(request: Request, session: DbSession, principal: Decider, decision_id: int) -> Response:
    return render(request, "identity/proposal.html", _detail(session, principal, decision_id))


@router.post("/proposals/{decision_id}")
def decide(
    request: Request,
    session: DbSession,
    principal: Decider,
    decision_id: int,
    action: Annotated[str, Form(max_length=10)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        body = DecideIn(reason=reason)
        if action == "accept":
            service.accept(session, principal, decision_id, body.reason)
        else:
            service.reject(session, principal, decision_id, body.reason)
    except (DomainError, ValidationError) as error:
        context = _detail(session, principal, decision_id)
        context["errors"], context["reason"] = field_errors(error, gettext_for(request.state.locale)), reason
        return render(request, "identity/proposal.html", context, 422)
    return RedirectResponse(f"/identity/proposals/{decision_id}", status_code=303)
