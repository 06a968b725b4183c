from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from travesia.core.errors import DomainError
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors
from travesia.stations import service
from travesia.stations.schemas import KIND_LABELS, StationCreate

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)


def _page(request: Request, session: DbSession, values: dict, errors: dict | None = None) -> Response:
    context = {
        "stations": service.list_stations(session),
        "values": values,
        "errors": errors,
        "kinds": KIND_LABELS,
    }
    return render(request, "stations/list.html", context, status_code=422 if errors else 200)


@router.get("/stations")
def stations_page(
    request: Request, session: DbSession, _: Annotated[Principal, Depends(Require(Perm.STATIONS_READ))]
) -> Response:
    return _page(request, session, {})


@router.post("/stations")
def create_station(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, Depends(Require(Perm.STATIONS_MANAGE))],
    code: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    kind: Annotated[str, Form(max_length=40)] = "",
    region: Annotated[str, Form(max_length=200)] = "",
    capacity: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    values = {
        "code": code,
        "name": name,
        "kind": kind,
        "region": region or None,
        "capacity": capacity or None,
    }
    try:
        service.create_station(session, principal, StationCreate(**values))  # type: ignore[arg-type]
    except (DomainError, ValidationError) as error:
        return _page(request, session, values, field_errors(error, gettext_for(request.state.locale)))
    return RedirectResponse("/stations", status_code=303)
