"""Pass verification for anyone holding a pass: no account, no database — the public key and the signed
revocation list, both published here and usable offline by `travesia verify-pass`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import PlainTextResponse, Response

from travesia.core import crypto
from travesia.core.db import utcnow
from travesia.core.guards import Public
from travesia.core.settings import REVOKED_PASSES_FILE
from travesia.core.templating import render
from travesia.protection import passes

router = APIRouter(include_in_schema=False)
Anyone = Annotated[None, Depends(Public())]


def revocations_file(request: Request) -> str:
    path = request.app.state.settings.data_dir / REVOKED_PASSES_FILE
    return path.read_text(encoding="ascii").strip() if path.exists() else ""


@router.get("/passes/public-key", response_class=PlainTextResponse)
def public_key(request: Request, _: Anyone) -> str:
    return crypto.public_pem(request.app.state.pass_key.public_key())


@router.get("/passes/revoked", response_class=PlainTextResponse)
def revoked(request: Request, _: Anyone) -> str:
    return revocations_file(request)


@router.get("/verify-pass")
def verify_page(request: Request, _: Anyone, token: Annotated[str, Query(max_length=2000)] = "") -> Response:
    verdict = None
    if token.strip():
        keys = {crypto.key_id(request.app.state.pass_key.public_key()): request.app.state.pass_key.public_key()}
        document = revocations_file(request)
        revoked_ids = passes.read_revocations(document, keys) if document else set()
        verdict = passes.verify(token, keys, revoked_ids, utcnow().date())
    return render(request, "protection/verify.html", {"token": token, "verdict": verdict, "why": passes.VERDICT_LABELS})
