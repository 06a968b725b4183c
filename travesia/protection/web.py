"""The protection officer's pages: the queue (open cases by follow-up due, then flagged persons without a case)
and one person's protection file with the forms to act on it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from travesia.core.db import utcnow
from travesia.core.errors import N_, DomainError, InvalidInput
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors, query_filter
from travesia.enrolment.scope import visible_person
from travesia.protection import pass_service, repository, rules, service
from travesia.protection import queue as protection_queue
from travesia.protection.passdoc import pass_pdf
from travesia.protection.schemas import (
    CASE_KIND_LABELS,
    CASE_STATE_LABELS,
    CLAIM_STATE_LABELS,
    CONSENT_LABELS,
    FLAG_LABELS,
    FLAG_SOURCE_LABELS,
    REFERRAL_KIND_LABELS,
    REFERRAL_STATE_LABELS,
    CaseIn,
    CaseQueueFilter,
    NoteIn,
    hold_text,
)

LABELS = {
    "flag_labels": FLAG_LABELS,
    "flag_sources": FLAG_SOURCE_LABELS,
    "claim_states": CLAIM_STATE_LABELS,
    "referral_kinds": REFERRAL_KIND_LABELS,
    "referral_states": REFERRAL_STATE_LABELS,
    "case_kinds": CASE_KIND_LABELS,
    "case_states": CASE_STATE_LABELS,
    "consents": CONSENT_LABELS,
    "hold_text": hold_text,
}

router = APIRouter(prefix="/protection", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Manager = Annotated[Principal, Depends(Require(Perm.PROTECTION_MANAGE))]


@router.get("")
def queue(request: Request, session: DbSession, principal: Manager) -> Response:
    """The queue, filtered and paged on the server: my cases (the default when I hold any), every open case, or
    the intake of flagged people with no case yet."""
    f, raw, errors = query_filter(request, CaseQueueFilter)
    page = protection_queue.queue_page(session, principal, f)
    context = {
        "page": page,
        "f": f.model_copy(update={"view": page.view}),
        "filters": {k: v for k, v in raw.items() if k not in ("after", "view")},
        "errors": errors,
        "now": utcnow(),
        **LABELS,
    }
    return render(request, "protection/queue.html", context, 422 if errors else 200)


def _file(request: Request, session: DbSession, principal: Principal, person_id: uuid.UUID,
          errors: dict[str, str] | None = None, status: int = 200, values: dict | None = None) -> Response:  # fmt: skip
    person = visible_person(session, principal, person_id)
    ids = list(repository.with_merged(session, [person]))
    cases = list(repository.cases_of(session, ids))
    context = {
        "person_id": person,
        "name": repository.latest_names(session, [person]).get(person),
        "flags": repository.flags_of(session, ids),
        "claims": repository.claims_of(session, ids),
        "referrals": repository.referrals_of(session, ids),
        "cases": cases,
        "notes": {c.id: service.visible_notes(session, principal, c.id) for c in cases},
        "follow_ups": repository.follow_ups(session, [c.id for c in cases]),
        "holds": service.holds(session, [person])[person],
        "case_kinds_offered": service.case_kinds_offered(session, principal, person),
        "indicators": rules.INDICATORS,
        "errors": errors or {},
        "today": date.today(),
        "pass_until": date.today() + timedelta(days=30),
        "values": values or {},  # what was typed in the form that was refused
        **LABELS,
    }
    return render(request, "protection/person.html", context, status_code=status)


@router.get("/persons/{person_id}")
def person_file(request: Request, session: DbSession, principal: Manager, person_id: uuid.UUID) -> Response:
    service.record_read(session, principal, person_id)
    return _file(request, session, principal, person_id)


def _act(request: Request, session: DbSession, principal: Principal, person_id: uuid.UUID, act: object,
         values: dict | None = None) -> Response:  # fmt: skip
    try:
        act()  # type: ignore[operator]
    except (ValidationError, DomainError) as error:
        errors = field_errors(error, gettext_for(request))
        return _file(request, session, principal, person_id, errors, 422, values)
    return RedirectResponse(f"/protection/persons/{visible_person(session, principal, person_id)}", status_code=303)


@router.post("/persons/{person_id}/cases")
def open_case(request: Request, session: DbSession, principal: Manager, person_id: uuid.UUID,
              kind: Annotated[str, Form()] = "") -> Response:  # fmt: skip
    return _act(request, session, principal, person_id,
                lambda: service.open_case(session, principal, person_id, CaseIn(kind=kind)))  # type: ignore[arg-type]  # fmt: skip


@router.post("/persons/{person_id}/cases/{case_id}/notes")
def add_note(
    request: Request,
    session: DbSession,
    principal: Manager,
    person_id: uuid.UUID,
    case_id: uuid.UUID,
    text: Annotated[str, Form()] = "",
    visibility: Annotated[str, Form()] = "protection",
) -> Response:
    return _act(request, session, principal, person_id,
                lambda: service.add_note(session, principal, case_id, NoteIn(text=text, visibility=visibility)),  # type: ignore[arg-type]
                {"case": str(case_id), "text": text, "visibility": visibility})  # fmt: skip


@router.post("/persons/{person_id}/intention")
def intention(request: Request, session: DbSession, principal: Manager, person_id: uuid.UUID) -> Response:
    return _act(
        request, session, principal, person_id, lambda: service.record_intention(session, principal, person_id, None)
    )


@router.post("/persons/{person_id}/passes")
def issue_pass(
    request: Request,
    session: DbSession,
    principal: Manager,
    person_id: uuid.UUID,
    valid_until: Annotated[str, Form()] = "",
    destination: Annotated[str, Form()] = "",
) -> Response:
    def act() -> None:
        try:
            until = date.fromisoformat(valid_until)
        except ValueError:
            raise InvalidInput(N_("Enter a date as YYYY-MM-DD."), field="valid_until") from None
        if not destination.strip():
            raise InvalidInput(N_("Say where the pass leads."), field="destination")
        row = pass_service.issue_pass(
            session, principal, request.app.state.pass_key, person_id, valid_from=date.today(),
            valid_until=until, route=["PAN"], destination=destination.strip()[:120],
        )  # fmt: skip
        request.state.issued_pass = row.id

    response = _act(request, session, principal, person_id, act,
                    {"valid_until": valid_until, "destination": destination})  # fmt: skip
    issued = getattr(request.state, "issued_pass", None)
    if issued is not None:
        return RedirectResponse(
            f"/protection/persons/{visible_person(session, principal, person_id)}?pass={issued}", status_code=303
        )
    return response


@router.get("/passes/{pass_id}.pdf")
def pass_document(session: DbSession, principal: Manager, pass_id: uuid.UUID) -> Response:
    return Response(pass_pdf(session, principal, pass_id), media_type="application/pdf")
