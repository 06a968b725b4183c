"""The partner liaison's page: the agreements in force, and an export under one of them (only its fields leave)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import FileResponse, RedirectResponse, Response

from travesia.core.errors import N_, DomainError, NotFound
from travesia.core.guards import Require
from travesia.core.http import DbSession, enqueue_after_commit, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors
from travesia.exchange import exports, repository, service
from travesia.exchange.schemas import FIELD_LABELS, JOB_STATE_LABELS, MODALITY_LABELS, ExportIn

router = APIRouter(prefix="/exchange", dependencies=[Depends(verify_csrf)], include_in_schema=False)
Liaison = Annotated[Principal, Depends(Require(Perm.EXCHANGE_MANAGE))]


def _page(request: Request, session: DbSession, values: dict, errors: dict | None = None) -> Response:
    context = {
        "agreements": repository.agreements(session),
        "values": values,
        "errors": errors or {},
        "field_labels": FIELD_LABELS,
        "modality_labels": MODALITY_LABELS,
    }
    return render(request, "exchange/agreements.html", context, status_code=422 if errors else 200)


@router.get("")
def agreements_page(request: Request, session: DbSession, _: Liaison) -> Response:
    return _page(request, session, {"format": "nist"})


@router.post("/exports")
def export(
    request: Request,
    session: DbSession,
    principal: Liaison,
    agreement: Annotated[str, Form(max_length=64)] = "",
    purpose: Annotated[str, Form(max_length=200)] = "",
    fmt: Annotated[str, Form(alias="format", max_length=8)] = "nist",
    registered_from: Annotated[str, Form(max_length=10)] = "",
    registered_to: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    values = {
        "agreement": agreement,
        "purpose": purpose,
        "format": fmt,
        "registered_from": registered_from,
        "registered_to": registered_to,
    }
    try:
        data = ExportIn(
            purpose=purpose,
            format=fmt,
            registered_from=registered_from or None,  # type: ignore[arg-type]
            registered_to=registered_to or None,
        )  # type: ignore[arg-type]
        job = exports.request_export(session, principal, service.agreement_named(session, agreement).id, data)
    except (DomainError, ValidationError) as error:
        return _page(request, session, values, field_errors(error, gettext_for(request.state.locale)))
    # A worker runs it once the job is committed; the job's page refreshes itself until it is done.
    enqueue_after_commit(request, session, "export", str(job.id))
    return RedirectResponse(f"/exchange/exports/{job.id}", status_code=303)


def _job(session: DbSession, job_id: uuid.UUID) -> object:
    job = repository.job(session, job_id)
    if job is None:
        raise NotFound(N_("No such export."), field="job_id")
    return job


@router.get("/exports/{job_id}")
def export_page(request: Request, session: DbSession, _: Liaison, job_id: uuid.UUID) -> Response:
    job = _job(session, job_id)
    agreement = repository.agreement(session, job.agreement_id)  # type: ignore[attr-defined]
    context = {
        "job": job,
        "agreement": agreement,
        "states": JOB_STATE_LABELS,
        "field_labels": FIELD_LABELS,
        "modality_labels": MODALITY_LABELS,
    }
    return render(request, "exchange/export.html", context)


@router.get("/exports/{job_id}/file")
def export_file(request: Request, session: DbSession, _: Liaison, job_id: uuid.UUID) -> FileResponse:
    job = _job(session, job_id)
    path = exports.export_file(request.app.state.settings.data_dir, job_id, job.format)  # type: ignore[attr-defined]
    return FileResponse(path, media_type="application/octet-stream", filename=path.name)
