"""The trainee's page: the exercises of their roles, each with its scenario, steps and whether it is done. It
exists only in training mode (a live system answers 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from travesia.core.errors import N_, NotFound
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.training import service
from travesia.training.exercises import BAD_MRZ

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)


@router.get("/training")
def exercises(
    request: Request, session: DbSession, principal: Annotated[Principal, Depends(Require(Perm.ACCOUNT_SELF))]
) -> Response:
    if not getattr(request.app.state, "training", False):
        raise NotFound(N_("Training mode is off on this system."), field="training")
    context = {"progress": service.progress(session, principal), "bad_mrz": BAD_MRZ}
    return render(request, "training/exercises.html", context)
