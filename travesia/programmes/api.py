"""Programmes API: flights, manifests (placement through the non-refoulement gate), boarding, exports."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from travesia.core.errors import InvalidInput, RuleProblem
from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.enrolment.codes import country_code
from travesia.enrolment.schemas import Country
from travesia.programmes import pathway_service, pathways, repository, service
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


# -- legal pathways ---------------------------------------------------------------------------------------------------
pathways_router = APIRouter(prefix="/api/v1", tags=["pathways"])
Exporter = Annotated[Principal, Depends(Require(Perm.PATHWAYS_EXPORT))]


class PathwayReferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    consent: Literal["given", "not_able"]
    family_ties: list[Country] = Field(default_factory=list, max_length=10)


@pathways_router.get("/persons/{person_id}/pathways")
def pathway_eligibility(
    session: DbSession,
    principal: Manager,
    person_id: uuid.UUID,
    family_ties: Annotated[list[str], Query()] = [],  # noqa: B006
) -> Any:
    """Each active pathway with its rules checked one by one (met or not, and the value compared)."""
    try:
        ties = [country_code(t) for t in family_ties]
    except RuleProblem as problem:
        raise InvalidInput(problem.message, field="family_ties", **problem.params) from None
    return [
        {"code": p.code, "name": p.name, "eligible": pathways.eligible(checks),
         "checks": [{"rule": c.rule, "met": c.met, "detail": c.detail} for c in checks]}
        for p, checks in pathway_service.evaluate(session, principal, person_id, ties)
    ]  # fmt: skip


@pathways_router.post("/persons/{person_id}/pathways/{code}", status_code=201)
def pathway_refer(session: DbSession, principal: Manager, person_id: uuid.UUID, code: str, body: PathwayReferIn) -> Any:
    row = pathway_service.refer(session, principal, code, person_id, body.consent, list(body.family_ties))
    return {"id": str(row.id), "programme": row.programme_code, "checks": row.checks}


@pathways_router.get("/pathways/{code}/export.csv")
def pathway_export(session: DbSession, principal: Exporter, code: str) -> Response:
    """For the partner, under its agreement: the agreed fields of the persons who consented."""
    return Response(pathway_service.export(session, principal, code), media_type="text/csv; charset=utf-8")
