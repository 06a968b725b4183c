"""Statistics API: one chart's table as JSON, the forecasts with their backtest, the headline figures."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from travesia.core.db import utcnow
from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.statistics import service

router = APIRouter(prefix="/api/v1/statistics", tags=["statistics"])
Reader = Annotated[Principal, Depends(Require(Perm.STATISTICS_READ))]


@router.get("/headline")
def headline(session: DbSession, _: Reader) -> Any:
    return service.headline(session)


@router.get("/charts/{chart_id}")
def chart(
    session: DbSession,
    _: Reader,
    chart_id: str,
    start: date | None = None,
    end: date | None = None,
    station: Annotated[str, Query(max_length=32)] = "",
    grain: Annotated[str, Query(pattern="^(day|week|month)$")] = "week",
) -> Any:
    default = service.default_filters(utcnow().date())
    filters = service.Filters(start or default.start, end or default.end, station or None, grain)
    made = service.chart(session, chart_id, filters)
    return {"id": made.id, "title": made.title, "columns": made.table.columns, "rows": made.table.rows}


@router.get("/forecast")
def forecast(
    session: DbSession,
    principal: Reader,
    by: Annotated[str, Query(pattern="^(station|nationality)$")] = "station",
    horizon: Annotated[int, Query(ge=1, le=8)] = 8,
) -> Any:
    view = service.forecasts(session, principal, by, horizon)
    return {
        "forecasts": [f.__dict__ for f in view.forecasts],
        "backtests": [{**b.__dict__, "beats_baseline": b.beats_baseline} for b in view.backtests],
        "warnings": [w.__dict__ for w in view.warnings],
    }
