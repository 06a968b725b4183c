"""The statistician's and supervisor's pages: the dashboard with filters, each chart as CSV or SVG, and the
forecasts with their backtest and capacity warnings."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from travesia.core.db import utcnow
from travesia.core.errors import DomainError
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors
from travesia.statistics import repository, service

router = APIRouter(prefix="/statistics", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Reader = Annotated[Principal, Depends(Require(Perm.STATISTICS_READ))]


def _filters(
    start: date | None = None,
    end: date | None = None,
    station: Annotated[str, Query(max_length=32)] = "",
    grain: Annotated[str, Query(max_length=8)] = "week",
) -> service.Filters:
    """The dashboard's filters from the query string, defaults filled (the page and each chart file share them)."""
    default = service.default_filters(utcnow().date())
    return service.Filters(start or default.start, end or default.end, station or None, grain or "week")


FilterParams = Annotated[service.Filters, Depends(_filters)]


@router.get("")
def dashboard(
    request: Request,
    session: DbSession,
    principal: Reader,
    filters: FilterParams,
) -> Response:
    translate = gettext_for(request)
    context = {
        "filters": filters,
        "stations": repository.stations(session),
        "errors": {},
        "charts": [],
        "as_of": service.as_of(session),
    }
    try:
        context["charts"] = service.dashboard(session, principal, filters, translate)
    except DomainError as error:
        context["errors"] = field_errors(error, translate)
        return render(request, "statistics/dashboard.html", context, status_code=422)
    return render(request, "statistics/dashboard.html", context)


@router.get("/charts/{chart_id}.{fmt}")
def chart_file(
    request: Request,
    session: DbSession,
    _: Reader,
    chart_id: str,
    fmt: str,
    filters: FilterParams,
) -> Response:
    translate = gettext_for(request)
    made = (
        service.occupancy(session, filters.end, translate)
        if chart_id == "occupancy"
        else service.chart(session, chart_id, filters, translate)
    )
    if fmt == "csv":
        headers = {"Content-Disposition": f'attachment; filename="{chart_id}.csv"'}
        return Response(service.csv_of(made.table), media_type="text/csv; charset=utf-8", headers=headers)
    if fmt == "svg":
        return Response(made.svg, media_type="image/svg+xml")
    if fmt == "png":
        picture = service.png_of(made)
        headers = {"Content-Disposition": f'attachment; filename="{chart_id}.png"'}
        return Response(picture, media_type="image/png", headers=headers)
    return Response(status_code=404)


@router.get("/forecast")
def forecast_page(
    request: Request,
    session: DbSession,
    principal: Reader,
    by: Annotated[str, Query(pattern="^(station|nationality)$")] = "station",
    horizon: Annotated[int, Query(ge=1, le=8)] = 8,
) -> Response:
    view = service.forecasts(session, principal, by, horizon, gettext_for(request))
    return render(request, "statistics/forecast.html", {"view": view, "by": by, "horizon": horizon})
