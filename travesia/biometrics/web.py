"""The biometric parts of the officer's pages: live quality of a camera frame or a chosen photo while the person is
still in front of the officer, and the outcome of the step after the registration (polled on the receipt)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from travesia.biometrics import evidence, face
from travesia.biometrics import results as biometric_results
from travesia.biometrics.schemas import EVIDENCE_LABELS, REASON_LABELS
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.enrolment.schemas import EXEMPTION_LABELS, FINGER_LABELS

router = APIRouter(prefix="/biometrics", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Creator = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_CREATE))]
Reader = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_READ))]
MAX_FRAME = 4 * 1024 * 1024


@router.post("/face-check")
async def face_check(request: Request, _: Creator, image: Annotated[UploadFile, File()]) -> Response:
    """One camera frame (or the chosen photo): acceptable or not, and what to fix, in the officer's language.
    Nothing is stored."""
    translate = gettext_for(request.state.locale)
    raw = await image.read(MAX_FRAME + 1)
    if len(raw) > MAX_FRAME:
        return JSONResponse({"acceptable": False, "quality": 0, "reasons": [translate(REASON_LABELS["too_large"])]})
    try:
        result = await run_in_threadpool(face.analyse, raw, with_template=False)
    except face.FaceProblem as problem:
        label = REASON_LABELS.get(problem.reason, REASON_LABELS["unreadable"])
        return JSONResponse({"acceptable": False, "quality": 0, "reasons": [translate(label)]})
    reasons = [translate(REASON_LABELS.get(r, r)) for r in result.reasons]
    return JSONResponse({"acceptable": result.good_enough, "quality": result.quality, "reasons": reasons})


@router.get("/encounters/{encounter_id}/status")
def encounter_status(request: Request, session: DbSession, principal: Reader, encounter_id: uuid.UUID) -> Response:
    """The step's outcome for one registration, as a fragment the receipt polls while samples are pending."""
    results = biometric_results.of_encounter(session, principal, encounter_id)
    pending = any(s.status == "pending" for s in results.samples)
    # earlier registrations only: a watchlist entry found by biometrics is screening's, never shown to the officer
    likely = [
        c
        for c in results.candidates
        if c.modality == "fused" and c.kind == "encounter" and c.score >= evidence.LIKELY_BITS
    ]
    context = {
        "encounter_id": encounter_id,
        "results": results,
        "pending": pending,
        "reasons": REASON_LABELS,
        "fingers": FINGER_LABELS,
        "exemptions": EXEMPTION_LABELS,
        # registrations the calibrated evidence makes at least ten to one, and what the strongest rests on
        "candidates": len(likely),
        "strongest": likely[0].evidence if likely else [],
        "evidence_labels": EVIDENCE_LABELS,
    }
    return render(request, "biometrics/_status.html", context)
