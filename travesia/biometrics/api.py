"""Biometrics API: live quality feedback for a capture, an encounter's biometric results, 1:N search."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from travesia.biometrics import face, repository, service
from travesia.core.errors import N_, InvalidInput, NotFound
from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.enrolment import repository as enrolment

router = APIRouter(prefix="/api/v1", tags=["biometrics"])
Creator = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_CREATE))]
Reader = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_READ))]
Searcher = Annotated[Principal, Depends(Require(Perm.BIOMETRICS_SEARCH))]
MAX_IMAGE = 8 * 1024 * 1024


class FaceQualityOut(BaseModel):
    acceptable: bool
    quality: int
    reasons: list[str]
    box: tuple[int, int, int, int] | None


class SampleOut(BaseModel):
    id: uuid.UUID
    modality: str
    finger_position: int | None
    status: str
    quality: int | None
    problems: list[str]
    attempts: int


class CandidateOut(BaseModel):
    modality: str
    rank: int
    kind: str
    id: uuid.UUID
    person_id: uuid.UUID | None
    score: float


class EncounterBiometricsOut(BaseModel):
    samples: list[SampleOut]
    candidates: list[CandidateOut]


class SearchHitOut(BaseModel):
    kind: str
    id: uuid.UUID
    person_id: uuid.UUID | None
    score: float
    match: bool


async def _bytes(upload: UploadFile) -> bytes:
    raw = await upload.read(MAX_IMAGE + 1)
    if len(raw) > MAX_IMAGE:
        raise InvalidInput(N_("The upload is too large."), field="image")
    return raw


@router.post("/biometrics/face-quality", response_model=FaceQualityOut)
async def face_quality(_: Creator, image: Annotated[UploadFile, File()]) -> Any:
    """Quality of a face photo while it is being taken (the page's camera calls this): the reasons say what to
    fix (face_too_small, head_turned, head_tilted, blurred, too_dark, too_bright, overexposed, no_face,
    several_faces). Nothing is stored."""
    raw = await _bytes(image)
    try:
        result = await run_in_threadpool(face.analyse, raw, with_template=False)
    except face.FaceProblem as problem:
        raise InvalidInput(N_("Unusable image: %(why)s"), field="image", why=str(problem)) from None
    return FaceQualityOut(
        acceptable=result.good_enough,
        quality=result.quality,
        reasons=result.reasons,
        box=result.box,
    )


@router.get("/encounters/{encounter_id}/biometrics", response_model=EncounterBiometricsOut)
def encounter_biometrics(session: DbSession, principal: Reader, encounter_id: uuid.UUID) -> Any:
    """The biometric step's outcome for one registration: each sample's status and quality, and the candidates
    found (evidence for screening and identity resolution, not a decision)."""
    if enrolment.encounter(session, encounter_id, principal) is None:
        raise NotFound(N_("No such registration."), field="encounter_id")
    samples = repository.samples_of(session, encounter_id)
    found = repository.candidates(session, encounter_id)
    persons = repository.persons_of(session, [c.candidate_id for c in found if c.candidate_kind == "encounter"])
    return EncounterBiometricsOut(
        samples=[
            SampleOut(
                id=s.id,
                modality=s.modality,
                finger_position=s.finger_position,
                status=s.status,
                quality=s.quality,
                problems=s.problems or [],
                attempts=s.attempts,
            )
            for s in samples
        ],
        candidates=[
            CandidateOut(
                modality=c.modality,
                rank=c.rank,
                kind=c.candidate_kind,
                id=c.candidate_id,
                person_id=persons.get(c.candidate_id),
                score=c.score,
            )
            for c in found
        ],
    )


@router.post("/biometrics/search", response_model=list[SearchHitOut])
async def search(
    request: Request,
    principal: Searcher,
    image: Annotated[UploadFile, File()],
    modality: Annotated[str, Query(pattern="^(face|finger)$")] = "face",
    position: Annotated[int, Query(ge=0, le=10)] = 0,
    top: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Any:
    """1:N search with an image: the best candidates among everyone enrolled, with the decision at the configured
    threshold. Audited."""
    raw = await _bytes(image)
    # The models run before the unit of work opens: on SQLite a writer holds the one write lock.
    probe = await run_in_threadpool(service.probe_of, modality, raw, position)
    found = await run_in_threadpool(_search, request, principal, probe, top)
    return [
        SearchHitOut(kind=c.subject_kind, id=c.subject_id, person_id=c.person_id, score=c.score, match=c.match)
        for c in found
    ]


def _search(request: Request, principal: Principal, probe: service.Probe, top: int) -> list[service.Candidate]:
    with request.app.state.db.transaction() as session:
        return service.search_probe(session, request.app.state.biometrics, principal, probe, top)
