"""The analysts' pages: the alert queue and one alert with the registration and the entry side by side; and the
screening line of the officer's receipt (outcome only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from travesia.core.db import utcnow
from travesia.core.errors import N_, DomainError, NotFound
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors, query_filter
from travesia.enrolment import reads as enrolment
from travesia.enrolment.images import displayable
from travesia.enrolment.scope import visible_encounter
from travesia.screening import repository
from travesia.screening import review as alert_review
from travesia.screening.schemas import (
    ALERT_KIND_LABELS,
    ALERT_STATE_LABELS,
    FEATURE_LABELS,
    LEVEL_LABELS,
    PRIORITY_LABELS,
    PROPERTY_LABELS,
    REVIEW_ACTION_LABELS,
    QueueFilter,
    ReviewIn,
)
from travesia.screening.topics import TOPIC_LABELS

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
Reviewer = Annotated[Principal, Depends(Require(Perm.ALERTS_REVIEW))]
Reader = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_READ))]


@router.get("/alerts")
def queue(request: Request, session: DbSession, principal: Reviewer) -> Response:
    """The analyst's queue: filtered, sorted and paged on the server; each row says what the alert is about."""
    f, raw, errors = query_filter(request, QueueFilter)
    rows, next_after = repository.queue_page(session, f, principal.user_id)
    lists, stations = repository.queue_choices(session)
    context = {
        "rows": rows,
        "f": f,
        "filters": {k: v for k, v in raw.items() if k not in ("after", "state")},
        "next_after": next_after,
        "counts": repository.queue_counts(session, f, principal.user_id),
        "lists": lists,
        "stations": stations,
        "errors": errors,
        "now": utcnow(),
        "kinds": ALERT_KIND_LABELS,
        "states": ALERT_STATE_LABELS,
        "priorities": PRIORITY_LABELS,
    }
    return render(request, "screening/queue.html", context, 422 if errors else 200)


def _detail(session: DbSession, principal: Principal, alert_id: uuid.UUID) -> dict[str, object]:
    alert = alert_review.get_alert(session, principal, alert_id)
    encounter = enrolment.encounter(session, alert.encounter_id)
    other = enrolment.encounter(session, alert.other_encounter_id) if alert.other_encounter_id else None
    entry = repository.entry(session, alert.entry_id) if alert.entry_id else None
    if encounter is None:
        raise NotFound(N_("No registration with this id."), field="encounter_id")
    matched = {
        token
        for line in alert.explanation
        if line.get("feature") == "name"
        for token in (str(line.get("query", "")) + " " + str(line.get("candidate", ""))).lower().split()
    }
    return {
        "alert": alert,
        "encounter": encounter,
        "other": other,
        "entry": entry,
        "reviews": repository.reviews_with_reviewers(session, alert.id),
        "actions": REVIEW_ACTION_LABELS,
        "features": FEATURE_LABELS,
        "levels": LEVEL_LABELS,
        "properties": PROPERTY_LABELS,
        "topics": TOPIC_LABELS,
        "kinds": ALERT_KIND_LABELS,
        "states": ALERT_STATE_LABELS,
        "matched": matched,
        "me": principal.user_id,
        "samples": {
            "registration": repository.samples_of(session, encounter.id),
            "other": repository.samples_of(session, other.id) if other else [],
        },
    }


@router.get("/alerts/{alert_id}")
def detail(request: Request, session: DbSession, principal: Reviewer, alert_id: uuid.UUID) -> Response:
    return render(request, "screening/alert.html", _detail(session, principal, alert_id))


@router.post("/alerts/{alert_id}")
def decide(
    request: Request,
    session: DbSession,
    principal: Reviewer,
    alert_id: uuid.UUID,
    action: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    try:
        alert_review.review(session, principal, alert_id, ReviewIn(action=action, reason=reason))  # type: ignore[arg-type]
    except (DomainError, ValidationError) as error:
        context = _detail(session, principal, alert_id)
        context["errors"] = field_errors(error, gettext_for(request.state.locale))
        context["reason"] = reason
        return render(request, "screening/alert.html", context, 422)
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.get("/screening/encounters/{encounter_id}/status")
def encounter_status(request: Request, session: DbSession, principal: Reader, encounter_id: uuid.UUID) -> Response:
    """The receipt's screening line, polled until screening is done: outcome only, never the list or the entry."""
    visible_encounter(session, principal, encounter_id)
    result = alert_review.outcome(session, encounter_id)
    return render(request, "screening/_status.html", {"encounter_id": encounter_id, "result": result})


@router.get("/alerts/{alert_id}/samples/{sample_id}")
def sample(session: DbSession, _: Reviewer, alert_id: uuid.UUID, sample_id: uuid.UUID) -> Response:
    """A face or fingerprint image of a registration the alert is about (never any other), for the reviewer;
    WSQ fingerprints are turned into PNG, which a browser can show."""
    alert = repository.alert(session, alert_id)
    found = repository.sample_image(session, sample_id)
    if alert is None or found is None or found[0] not in (alert.encounter_id, alert.other_encounter_id):
        return Response(status_code=404)
    _, image, fmt = found
    if fmt == "wsq":
        image, fmt = displayable(image), "png"
    return Response(
        image, media_type="image/png" if fmt == "png" else "image/jpeg", headers={"Cache-Control": "no-store"}
    )
