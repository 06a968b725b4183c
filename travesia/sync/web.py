"""The sync page: at a field station, what is registered, what central holds, central's alerts and "sync now";
at central, how far each field station has come."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.screening.schemas import ALERT_KIND_LABELS, ALERT_STATE_LABELS
from travesia.sync import central, station

router = APIRouter(prefix="/sync", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Operator = Annotated[Principal, Depends(Require(Perm.SYNC_OPERATE))]


@router.get("")
def sync_page(request: Request, session: DbSession, _: Operator) -> Response:
    key = getattr(request.app.state, "station_key", None)
    if key is None:
        return render(request, "sync/central.html", {"stations": central.overview(session)})
    context = {
        "status": station.status(session, key, request.app.state.settings.central_url),
        "alerts": station.central_alerts(session),
        "can_run": bool(request.app.state.settings.central_url),
        "kinds": ALERT_KIND_LABELS,
        "states": ALERT_STATE_LABELS,
    }
    return render(request, "sync/station.html", context)


@router.post("/run")
def sync_now(request: Request, _: Operator) -> Response:
    settings = request.app.state.settings
    if settings.station and settings.central_url:
        request.app.state.pipeline.enqueue("sync_now")  # a worker runs the round at once, back-off or not
    return RedirectResponse("/sync", status_code=303)
