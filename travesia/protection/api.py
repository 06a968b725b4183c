"""Protection API: flags, trafficking screenings, asylum claims, referrals, cases, holds, safe-conduct passes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import PlainTextResponse, Response

from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.settings import REVOKED_PASSES_FILE
from travesia.enrolment.scope import visible_person
from travesia.protection import pass_service, service
from travesia.protection.passdoc import pass_pdf
from travesia.protection.schemas import (
    CaseIn,
    CaseOut,
    ClaimOut,
    ClaimUpdateIn,
    CloseIn,
    FlagIn,
    FlagOut,
    FollowUpIn,
    HoldsOut,
    IntentionIn,
    NoteIn,
    ReferralIn,
    ReferralOut,
    ScreeningIn,
    ScreeningOut,
)

router = APIRouter(prefix="/api/v1", tags=["protection"])
Manager = Annotated[Principal, Depends(Require(Perm.PROTECTION_MANAGE))]
Flagger = Annotated[Principal, Depends(Require(Perm.PROTECTION_FLAG))]
Officer = Annotated[Principal, Depends(Require(Perm.ASYLUM_INTENTION))]


@router.post("/persons/{person_id}/flags", response_model=FlagOut, status_code=201)
def record_flag(session: DbSession, principal: Flagger, person_id: uuid.UUID, body: FlagIn) -> Any:
    return service.record_flag(session, principal, person_id, body)


@router.post("/protection/flags/{flag_id}/close", response_model=FlagOut)
def close_flag(session: DbSession, principal: Manager, flag_id: uuid.UUID, body: CloseIn) -> Any:
    return service.close_flag(session, principal, flag_id, body.reason)


@router.post("/persons/{person_id}/trafficking-screenings", response_model=ScreeningOut, status_code=201)
def screen(session: DbSession, principal: Manager, person_id: uuid.UUID, body: ScreeningIn) -> Any:
    return service.screen_trafficking(session, principal, person_id, body)


@router.post("/persons/{person_id}/asylum-intention", response_model=ClaimOut, status_code=201)
def intention(session: DbSession, principal: Officer, person_id: uuid.UUID, body: IntentionIn) -> Any:
    """Any officer, at any step: from this moment the person cannot be placed on a repatriation manifest."""
    return service.record_intention(session, principal, person_id, body.note)


@router.post("/protection/claims/{claim_id}", response_model=ClaimOut)
def update_claim(session: DbSession, principal: Manager, claim_id: uuid.UUID, body: ClaimUpdateIn) -> Any:
    return service.update_claim(session, principal, claim_id, body)


@router.post("/persons/{person_id}/referrals", response_model=ReferralOut, status_code=201)
def refer(session: DbSession, principal: Manager, person_id: uuid.UUID, body: ReferralIn) -> Any:
    return service.refer(session, principal, person_id, body)


@router.post("/protection/referrals/{referral_id}/close", response_model=ReferralOut)
def close_referral(session: DbSession, principal: Manager, referral_id: uuid.UUID, body: CloseIn) -> Any:
    return service.close_referral(session, principal, referral_id, body.reason)


@router.post("/persons/{person_id}/cases", response_model=CaseOut, status_code=201)
def open_case(session: DbSession, principal: Manager, person_id: uuid.UUID, body: CaseIn) -> Any:
    return service.open_case(session, principal, person_id, body)


@router.post("/protection/cases/{case_id}/notes", status_code=201)
def add_note(session: DbSession, principal: Manager, case_id: uuid.UUID, body: NoteIn) -> dict[str, str]:
    return {"id": str(service.add_note(session, principal, case_id, body).id)}


@router.get("/protection/cases/{case_id}/notes")
def notes(session: DbSession, principal: Manager, case_id: uuid.UUID) -> list[dict[str, str]]:
    return [
        {"id": str(n.id), "text": n.text, "visibility": n.visibility, "at": n.at.isoformat()}
        for n in service.visible_notes(session, principal, case_id)
    ]


@router.post("/protection/cases/{case_id}/follow-ups", status_code=201)
def add_follow_up(session: DbSession, principal: Manager, case_id: uuid.UUID, body: FollowUpIn) -> dict[str, str]:
    return {"id": str(service.add_follow_up(session, principal, case_id, body).id)}


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: uuid.UUID


@router.post("/protection/cases/{case_id}/assign", response_model=CaseOut)
def assign(session: DbSession, principal: Manager, case_id: uuid.UUID, body: AssignIn) -> Any:
    return service.assign(session, principal, case_id, body.to)


@router.post("/protection/follow-ups/{follow_up_id}/done")
def follow_up_done(session: DbSession, principal: Manager, follow_up_id: uuid.UUID) -> dict[str, str]:
    item = service.complete_follow_up(session, principal, follow_up_id)
    return {"id": str(item.id), "done_at": item.done_at.isoformat() if item.done_at else ""}


@router.post("/protection/cases/{case_id}/close", response_model=CaseOut)
def close_case(session: DbSession, principal: Manager, case_id: uuid.UUID, body: CloseIn) -> Any:
    return service.close_case(session, principal, case_id, body.reason)


@router.get("/persons/{person_id}/holds", response_model=HoldsOut)
def holds(session: DbSession, principal: Manager, person_id: uuid.UUID) -> Any:
    person = visible_person(session, principal, person_id)
    return HoldsOut(person_id=person, holds=service.holds(session, [person])[person])


class PassIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    valid_from: date
    valid_until: date
    route: list[Annotated[str, Field(pattern="^[A-Z]{3}$")]] = Field(default_factory=list, max_length=12)
    destination: str = Field(min_length=1, max_length=120)


@router.post("/persons/{person_id}/passes", status_code=201)
def issue_pass(request: Request, session: DbSession, principal: Manager, person_id: uuid.UUID, body: PassIn) -> Any:
    row = pass_service.issue_pass(
        session, principal, request.app.state.pass_key, person_id,
        valid_from=body.valid_from, valid_until=body.valid_until, route=body.route, destination=body.destination,
    )  # fmt: skip
    return {"id": str(row.id), "token": row.token, "valid_until": row.valid_until.isoformat()}


@router.get("/protection/passes/{pass_id}.pdf")
def pass_document(session: DbSession, principal: Manager, pass_id: uuid.UUID) -> Response:
    return Response(pass_pdf(session, principal, pass_id), media_type="application/pdf")


@router.post("/protection/passes/{pass_id}/revoke")
def revoke(
    request: Request, session: DbSession, principal: Manager, pass_id: uuid.UUID, body: CloseIn
) -> dict[str, str]:
    row = pass_service.revoke_pass(session, principal, pass_id, body.reason)
    # Published at once for verifiers; written before the commit, so a failed commit leaves a pass listed as
    # revoked that is not (the safe side), never the other way round.
    path = request.app.state.settings.data_dir / REVOKED_PASSES_FILE
    path.write_text(pass_service.revocation_document(session, request.app.state.pass_key) + "\n", encoding="ascii")
    return {"id": str(row.id), "revoked_at": row.revoked_at.isoformat() if row.revoked_at else ""}


@router.get("/protection/passes/revoked", response_class=PlainTextResponse)
def revocations(request: Request, session: DbSession, _: Manager) -> str:
    """The signed revocation list (also published for verifiers at /passes/revoked)."""
    return pass_service.revocation_document(session, request.app.state.pass_key)
