"""Biometrics API: live quality feedback for a capture, an encounter's biometric results, 1:N search."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool

from travesia.biometrics import face, results, tools
from travesia.biometrics.schemas import EncounterBiometricsOut, FaceQualityOut, SearchHitOut
from travesia.core.errors import N_, InvalidInput
from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["biometrics"])
Creator = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_CREATE))]
Reader = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_READ))]
Searcher = Annotated[Principal, Depends(Require(Perm.BIOMETRICS_SEARCH))]
MAX_IMAGE = 8 * 1024 * 1024


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
    return results.of_encounter(session, principal, encounter_id)


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
    model = request.app.state.biometrics.face_model
    probe = await run_in_threadpool(tools.probe_of, modality, raw, position, model)
    found = await run_in_threadpool(_search, request, principal, probe, top)
    return [
        SearchHitOut(
            kind=c.subject_kind, id=c.subject_id, person_id=c.person_id, score=c.score, match=c.match, bits=c.bits
        )
        for c in found
    ]


def _search(request: Request, principal: Principal, probe: tools.Probe, top: int) -> list[tools.Candidate]:
    with request.app.state.db.transaction() as session:
        return tools.search_probe(session, request.app.state.biometrics, principal, probe, top)
