"""The person pages: find a person, and one person's file (timeline, route map, photos, groups, documents, alerts,
protection flags and the decisions that shaped it), cut to the reader's roles."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.enrolment import lookup as enrolment_lookup
from travesia.enrolment.schemas import CHILD_STATUS_LABELS, RELATION_LABELS
from travesia.enrolment.scope import visible_person
from travesia.identity.schemas import DECISION_KIND_LABELS, DECISION_SOURCE_LABELS, DECISION_STATE_LABELS
from travesia.network.schemas import CONTACT_KIND_LABELS, METHOD_LABELS, RESULT_LABELS, ROLE_LABELS, SEIZURE_LABELS
from travesia.persons import service
from travesia.protection.schemas import hold_text
from travesia.screening.schemas import ALERT_KIND_LABELS, ALERT_STATE_LABELS

router = APIRouter(prefix="/persons", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Reader = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_READ))]


@router.get("")
def find(
    request: Request, session: DbSession, principal: Reader, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    found = enrolment_lookup.search(session, principal, name=q, limit=50, purpose="person search") if q.strip() else []
    return render(request, "persons/find.html", {"q": q, "found": found})


@router.get("/{person_id}")
def person_page(
    request: Request,
    session: DbSession,
    principal: Reader,
    person_id: uuid.UUID,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    current = visible_person(session, principal, person_id)
    if current != person_id:  # merged: the page lives at the person it was merged into
        return RedirectResponse(f"/persons/{current}", status_code=303)
    file = service.person_file(session, principal, person_id, purpose)
    context = {
        "p": file,
        "relations": RELATION_LABELS,
        "child_status": CHILD_STATUS_LABELS,
        "alert_kinds": ALERT_KIND_LABELS,
        "alert_states": ALERT_STATE_LABELS,
        "hold_text": hold_text,
        "methods": METHOD_LABELS,
        "results": RESULT_LABELS,
        "inspection_roles": ROLE_LABELS,
        "seizures": SEIZURE_LABELS,
        "contact_kinds": CONTACT_KIND_LABELS,
        "decision_kinds": DECISION_KIND_LABELS,
        "decision_states": DECISION_STATE_LABELS,
        "decision_sources": DECISION_SOURCE_LABELS,
    }
    return render(request, "persons/person.html", context)


@router.get("/{person_id}/faces/{sample_id}")
def face(session: DbSession, principal: Reader, person_id: uuid.UUID, sample_id: uuid.UUID) -> Response:
    image, fmt = service.face_image(session, person_id, sample_id, principal)
    media = "image/png" if fmt == "png" else "image/jpeg"
    return Response(image, media_type=media, headers={"Cache-Control": "private, no-store"})
