"""The partner API: a partner's key, bound to one agreement, asks "have you seen this person?" and requests bulk
exports; answers carry only the agreement's fields. Agreements and keys are made by the partner liaison."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import FileResponse, JSONResponse

from travesia.core.errors import N_, Conflict, NotFound
from travesia.core.guards import Guard, NotAuthenticated, Require
from travesia.core.http import DbSession, enqueue_after_commit
from travesia.core.logging import get_logger
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.exchange import exports, repository, service
from travesia.exchange.schemas import AgreementIn, AgreementOut, ExportIn, ExportJobOut, PartnerAnswer, PartnerQueryIn

router = APIRouter(prefix="/api/v1", tags=["exchange"])
log = get_logger("travesia.exchange")


class PartnerKeyGuard(Guard):
    """A partner's API key (``Authorization: Bearer trp_…``): who is asking is the agreement the key is bound to."""

    def __call__(self, request: Request, session: DbSession) -> service.Partner:
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        partner = service.authenticate(session, token) if token else None
        if partner is None:
            raise NotAuthenticated()
        return partner

    def describe(self) -> str:
        return "partner key (its agreement)"


PartnerCaller = Annotated[service.Partner, Depends(PartnerKeyGuard())]
Liaison = Annotated[Principal, Depends(Require(Perm.EXCHANGE_MANAGE))]


@router.post("/partner/query", response_model=PartnerAnswer, responses={403: {}, 429: {}})
def partner_query(data: PartnerQueryIn, partner: PartnerCaller, session: DbSession, request: Request) -> PartnerAnswer:
    bio = request.app.state.biometrics
    return service.refusals_recorded(
        session, partner, "query", data.purpose, lambda: service.partner_query(session, bio, partner, data)
    )


@router.post("/partner/exports", response_model=ExportJobOut, status_code=202)
def request_export(data: ExportIn, partner: PartnerCaller, session: DbSession, request: Request) -> JSONResponse:
    job = service.refusals_recorded(
        session, partner, "export", data.purpose, lambda: exports.partner_export(session, partner, data)
    )
    out = ExportJobOut.model_validate(job).model_dump(mode="json")
    # A worker runs it once the job is committed; a job left queued by a restart is run by `travesia exchange run`.
    enqueue_after_commit(request, session, "export", str(job.id))
    return JSONResponse(out, status_code=202)


def _own_job(session: DbSession, partner: service.Partner, job_id: uuid.UUID) -> object:
    job = repository.job(session, job_id)
    if job is None or job.agreement_id != partner.agreement_id:
        raise NotFound(N_("No such export."), field="job_id")
    return job


@router.get("/partner/exports/{job_id}", response_model=ExportJobOut)
def export_status(job_id: uuid.UUID, partner: PartnerCaller, session: DbSession) -> ExportJobOut:
    return ExportJobOut.model_validate(_own_job(session, partner, job_id))


@router.get("/partner/exports/{job_id}/file")
def export_download(job_id: uuid.UUID, partner: PartnerCaller, session: DbSession, request: Request) -> FileResponse:
    job = _own_job(session, partner, job_id)
    if job.state != "done":  # type: ignore[attr-defined]
        raise Conflict(N_("This export is not ready."), field="job_id")
    path = exports.export_file(request.app.state.settings.data_dir, job_id, job.format)  # type: ignore[attr-defined]
    kind = "application/octet-stream" if job.format == "nist" else "application/x-ndjson"  # type: ignore[attr-defined]
    return FileResponse(path, media_type=kind, filename=path.name)


@router.get("/agreements", response_model=list[AgreementOut])
def list_agreements(session: DbSession, _: Liaison) -> list[AgreementOut]:
    return [AgreementOut.model_validate(a) for a in repository.agreements(session)]


@router.post("/agreements", response_model=AgreementOut, status_code=201)
def create_agreement(data: AgreementIn, session: DbSession, principal: Liaison) -> AgreementOut:
    return AgreementOut.model_validate(service.create_agreement(session, principal, data))
