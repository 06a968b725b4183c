"""Network API: contacts named at interview, inspections, a person's network, flagged clusters."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.network import repository, service
from travesia.network.schemas import (
    ClusterOut,
    ClusterReviewIn,
    ContactIn,
    ContactOut,
    DetectionOut,
    InspectionIn,
    InspectionOut,
    NetworkOut,
)

router = APIRouter(prefix="/api/v1", tags=["network"])
Recorder = Annotated[Principal, Depends(Require(Perm.NETWORK_RECORD))]
Analyst = Annotated[Principal, Depends(Require(Perm.NETWORK_READ))]


@router.post("/encounters/{encounter_id}/contacts", response_model=ContactOut, status_code=201)
def record_contact(session: DbSession, principal: Recorder, encounter_id: uuid.UUID, body: ContactIn) -> Any:
    """A guide, payer or contact the person named at interview (links persons who name the same one)."""
    return service.record_contact(session, principal, encounter_id, body)


@router.post("/inspections", response_model=InspectionOut, status_code=201)
def record_inspection(session: DbSession, principal: Recorder, body: InspectionIn) -> Any:
    """A border-point inspection, the persons present (by registration) and what was seized."""
    return service.record_inspection(session, principal, body)


@router.get("/inspections/{inspection_id}", response_model=InspectionOut)
def get_inspection(session: DbSession, principal: Analyst, inspection_id: uuid.UUID) -> Any:
    return service.get_inspection(session, principal, inspection_id)


@router.get("/network/persons/{person_id}", response_model=NetworkOut)
def network(
    session: DbSession,
    principal: Analyst,
    person_id: uuid.UUID,
    hops: Annotated[int, Query(ge=1, le=service.MAX_HOPS)] = 1,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    """The persons linked to this one, ``hops`` links away, with what links them."""
    return service.neighbourhood(session, principal, person_id, hops, purpose)


@router.get("/network/clusters", response_model=list[ClusterOut])
def clusters(
    session: DbSession,
    _: Analyst,
    state: Annotated[str | None, Query(pattern="^(open|reviewed|superseded)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    return repository.clusters(session, state, limit)


@router.post("/network/clusters/detect", response_model=DetectionOut)
def detect(session: DbSession, principal: Analyst) -> Any:
    """Run community detection now over every link (also `travesia network detect`)."""
    return service.detect(session, principal)


@router.post("/network/clusters/{cluster_id}/review", response_model=ClusterOut)
def review(session: DbSession, principal: Analyst, cluster_id: int, body: ClusterReviewIn) -> Any:
    return service.review_cluster(session, principal, cluster_id, body.note)
