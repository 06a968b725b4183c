"""Programmes API: flights, manifests (placement through the non-refoulement gate), boarding, exports."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import JSONResponse, Response

from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.programmes import repository, service
from travesia.programmes.schemas import (
    BulkPlaceIn,
    EligibleOut,
    EntryOut,
    FitnessIn,
    FlightIn,
    FlightOut,
    PlaceIn,
    PlacementOut,
    RemoveIn,
)

router = APIRouter(prefix="/api/v1/flights", tags=["programmes"])
Manager = Annotated[Principal, Depends(Require(Perm.PROGRAMMES_MANAGE))]


def _answer(result: PlacementOut) -> Any:
    """A refusal is committed (its audit events with it) and answered 409 with every reason."""
    if result.refused and not result.placed:
        return JSONResponse(result.model_dump(mode="json"), status_code=409)
    return result


@router.post("", response_model=FlightOut, status_code=201)
def create_flight(session: DbSession, principal: Manager, body: FlightIn) -> Any:
    return service.create_flight(session, principal, body)


@router.get("", response_model=list[FlightOut])
def flights(session: DbSession, _: Manager) -> Any:
    return repository.flights(session)


@router.get("/{flight_id}/eligible", response_model=list[EligibleOut])
def eligible(session: DbSession, principal: Manager, flight_id: uuid.UUID) -> Any:
    return service.eligibility(session, principal, flight_id)


@router.post("/{flight_id}/manifest", response_model=PlacementOut, status_code=201)
def place(session: DbSession, principal: Manager, flight_id: uuid.UUID, body: PlaceIn) -> Any:
    """The person and their whole family, or nobody (409 with the reasons)."""
    return _answer(service.place(session, principal, flight_id, body))


@router.post("/{flight_id}/manifest/bulk", response_model=PlacementOut)
def place_many(session: DbSession, principal: Manager, flight_id: uuid.UUID, body: BulkPlaceIn) -> Any:
    return service.place_many(session, principal, flight_id, body.persons)


@router.get("/{flight_id}/manifest", response_model=list[EntryOut])
def manifest(session: DbSession, _: Manager, flight_id: uuid.UUID) -> Any:
    return repository.entries(session, flight_id, ("placed", "held", "boarded", "removed"))


@router.post("/{flight_id}/manifest/{person_id}/fitness", response_model=EntryOut)
def fitness(session: DbSession, principal: Manager, flight_id: uuid.UUID, person_id: uuid.UUID, body: FitnessIn) -> Any:
    return service.set_fitness(session, principal, flight_id, person_id, body.medically_fit, body.consent)


@router.post("/{flight_id}/manifest/{person_id}/remove")
def remove(session: DbSession, principal: Manager, flight_id: uuid.UUID, person_id: uuid.UUID, body: RemoveIn) -> Any:
    return {"removed": [str(p) for p in service.remove(session, principal, flight_id, person_id, body.reason)]}


@router.post("/{flight_id}/manifest/{person_id}/board")
def board(session: DbSession, principal: Manager, flight_id: uuid.UUID, person_id: uuid.UUID) -> Any:
    """The gate again at the door: a family with anyone now protected stays (409, held)."""
    result = service.board(session, principal, flight_id, person_id)
    body = {"boarded": [str(p) for p in result.boarded], "held": result.held}
    return JSONResponse(body, status_code=409 if result.held else 200)


@router.get("/{flight_id}/manifest.csv")
def manifest_csv(session: DbSession, principal: Manager, flight_id: uuid.UUID) -> Response:
    return Response(service.manifest_csv(session, principal, flight_id), media_type="text/csv; charset=utf-8")


@router.get("/{flight_id}/manifest.pdf")
def manifest_pdf(session: DbSession, principal: Manager, flight_id: uuid.UUID) -> Response:
    return Response(service.manifest_pdf(session, principal, flight_id), media_type="application/pdf")
