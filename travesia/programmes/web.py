"""The programme officer's pages: flights, and one flight's manifest built from the nationals of its destination,
through the same non-refoulement gate as the API (``service.place`` and ``service.board``); a refusal is shown
with every reason and stays in the audit trail."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from travesia.core.errors import N_, DomainError, NotFound
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors
from travesia.programmes import repository, service
from travesia.programmes.schemas import (
    ENTRY_STATE_LABELS,
    FLIGHT_KIND_LABELS,
    FLIGHT_STATE_LABELS,
    FlightIn,
    PlaceIn,
    RemoveIn,
    reason_text,
)

PAGE = 50  # candidates a page: a flight to a big country lists hundreds
router = APIRouter(prefix="/flights", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Manager = Annotated[Principal, Depends(Require(Perm.PROGRAMMES_MANAGE))]
LABELS = {
    "flight_kinds": FLIGHT_KIND_LABELS,
    "flight_states": FLIGHT_STATE_LABELS,
    "entry_states": ENTRY_STATE_LABELS,
    "reason_text": reason_text,
}


def _flights(request: Request, session: DbSession, values: dict[str, Any], errors: dict | None = None) -> Response:
    context = {"flights": repository.flights(session), "values": values, "errors": errors or {}, **LABELS}
    return render(request, "programmes/flights.html", context, status_code=422 if errors else 200)


@router.get("")
def flights_page(request: Request, session: DbSession, _: Manager) -> Response:
    return _flights(request, session, {"kind": "repatriation", "capacity": "100"})


@router.post("")
def create_flight(
    request: Request,
    session: DbSession,
    principal: Manager,
    kind: Annotated[str, Form(max_length=40)] = "",
    departs_on: Annotated[str, Form(max_length=40)] = "",
    destination: Annotated[str, Form(max_length=40)] = "",
    capacity: Annotated[str, Form(max_length=20)] = "",
    operator: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    values = {"kind": kind, "departs_on": departs_on, "destination": destination, "capacity": capacity,
              "operator": operator}  # fmt: skip
    try:
        flight = service.create_flight(session, principal, FlightIn(**values))  # type: ignore[arg-type]
    except (DomainError, ValidationError) as error:
        return _flights(request, session, values, field_errors(error, gettext_for(request.state.locale)))
    return RedirectResponse(f"/flights/{flight.id}", status_code=303)


def _flight(
    request: Request,
    session: DbSession,
    principal: Principal,
    flight_id: uuid.UUID,
    refused: dict[str, list[str]] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    flight = repository.flight(session, flight_id)
    if flight is None:
        raise NotFound(N_("No such flight."), field="flight_id")
    entries = repository.entries(session, flight.id, ("placed", "held", "boarded", "removed"))
    refused_ids = [uuid.UUID(p) for p in (refused or {})]
    names = repository.latest(session, [e.person_id for e in entries] + refused_ids)
    families: dict[str, list[str]] = {}  # a family by its members' names, never by its key
    for e in entries:
        n = names.get(e.person_id)
        families.setdefault(e.family_key, []).append(f"{n.given_names} {n.surnames}" if n else str(e.person_id))
    query, after = _search_of(request)
    eligible = (
        service.eligibility(session, principal, flight.id, PAGE + 1, query=query, after=after)
        if flight.state == "planned"
        else []
    )
    context = {
        "flight": flight,
        "entries": entries,
        "names": names,
        "families": families,
        "query": query or "",
        "next_after": f"{eligible[PAGE - 1].last_registered.isoformat()}~{eligible[PAGE - 1].person_id}"
        if len(eligible) > PAGE
        else None,
        "refused_names": {str(p): e for p, e in names.items() if p in refused_ids},
        "eligible": eligible[:PAGE],
        "on_manifest": {e.person_id for e in entries if e.state != "removed"},
        "refused": refused or {},
        "errors": errors or {},
        **LABELS,
    }
    return render(request, "programmes/flight.html", context, status_code=status)


def _search_of(request: Request) -> tuple[str | None, tuple[datetime, uuid.UUID] | None]:
    """The candidates' search (a name or a document number) and page cursor; a cursor that does not parse is
    ignored (the first page), never an error page."""
    query = (request.query_params.get("q") or "").strip()[:100] or None
    cursor = request.query_params.get("after") or ""
    try:
        at, person = cursor.split("~")
        return query, (datetime.fromisoformat(at), uuid.UUID(person))
    except ValueError:
        return query, None


@router.get("/{flight_id}")
def flight_page(request: Request, session: DbSession, principal: Manager, flight_id: uuid.UUID) -> Response:
    return _flight(request, session, principal, flight_id)


def _act(request: Request, session: DbSession, principal: Principal, flight_id: uuid.UUID, act: Any) -> Response:
    """Run a manifest action; a refusal or a held boarding is answered 409 on the flight page with every reason
    (committed with its audit events), an invalid request 422 with the field named."""
    try:
        refused = act()
    except (ValidationError, DomainError) as error:
        errors = field_errors(error, gettext_for(request.state.locale))
        return _flight(request, session, principal, flight_id, errors=errors, status=422)
    if refused:
        return _flight(request, session, principal, flight_id, refused=refused, status=409)
    return RedirectResponse(f"/flights/{flight_id}", status_code=303)


@router.post("/{flight_id}/manifest")
def place(
    request: Request,
    session: DbSession,
    principal: Manager,
    flight_id: uuid.UUID,
    person_id: Annotated[str, Form(max_length=64)] = "",
    consent: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def act() -> dict[str, list[str]]:
        data = PlaceIn(person_id=person_id, consent=consent or None)  # type: ignore[arg-type]
        return service.place(session, principal, flight_id, data).refused

    return _act(request, session, principal, flight_id, act)


@router.post("/{flight_id}/manifest/{person_id}/fitness")
def confirm_fitness(request: Request, session: DbSession, principal: Manager, flight_id: uuid.UUID,
                    person_id: uuid.UUID, fit: Annotated[str, Form(max_length=3)] = "") -> Response:  # fmt: skip
    def act() -> dict:
        service.set_fitness(session, principal, flight_id, person_id, fit == "yes", None)
        return {}

    return _act(request, session, principal, flight_id, act)


@router.post("/{flight_id}/manifest/{person_id}/board")
def board(request: Request, session: DbSession, principal: Manager, flight_id: uuid.UUID,
          person_id: uuid.UUID) -> Response:  # fmt: skip
    return _act(request, session, principal, flight_id,
                lambda: service.board(session, principal, flight_id, person_id).held)  # fmt: skip


@router.post("/{flight_id}/manifest/{person_id}/remove")
def remove(request: Request, session: DbSession, principal: Manager, flight_id: uuid.UUID, person_id: uuid.UUID,
           reason: Annotated[str, Form(max_length=1000)] = "") -> Response:  # fmt: skip
    def act() -> dict:
        service.remove(session, principal, flight_id, person_id, RemoveIn(reason=reason).reason)
        return {}

    return _act(request, session, principal, flight_id, act)


@router.get("/{flight_id}/manifest.pdf")
def manifest_pdf(session: DbSession, principal: Manager, flight_id: uuid.UUID) -> Response:
    return Response(service.manifest_pdf(session, principal, flight_id), media_type="application/pdf")
