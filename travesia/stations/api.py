from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.stations import service
from travesia.stations.schemas import StationCreate, StationOut

router = APIRouter(prefix="/api/v1/stations", tags=["stations"])


@router.get("", response_model=list[StationOut])
def list_stations(
    session: DbSession, _: Annotated[Principal, Depends(Require(Perm.STATIONS_READ))]
) -> list[StationOut]:
    return [StationOut.model_validate(s) for s in service.list_stations(session)]


@router.post("", response_model=StationOut, status_code=201)
def create_station(
    data: StationCreate,
    session: DbSession,
    principal: Annotated[Principal, Depends(Require(Perm.STATIONS_MANAGE))],
) -> StationOut:
    return StationOut.model_validate(service.create_station(session, principal, data))
