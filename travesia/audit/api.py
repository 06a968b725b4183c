from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from travesia.audit import heads, service
from travesia.audit.schemas import (
    Anchor,
    AuditEventOut,
    AuditFilter,
    AuditPage,
    ConsistencyProof,
    InclusionProof,
    SignedHeadOut,
    SignedHeads,
    VerifyResult,
)
from travesia.core import crypto
from travesia.core.errors import N_, Conflict, InvalidInput, NotFound
from travesia.core.guards import Public, Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])
Anyone = Annotated[None, Depends(Public())]


@router.get("/events", response_model=AuditPage)
def list_events(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, Depends(Require(Perm.AUDIT_READ))],
    query: Annotated[AuditFilter, Query()],
) -> AuditPage:
    events = service.list_events(session, principal, query, getattr(request.app.state, "related_records", None))
    next_before = events[-1].seq if len(events) == query.limit else None
    return AuditPage(events=[AuditEventOut.model_validate(e) for e in events], next_before=next_before)


@router.post("/verify", response_model=VerifyResult)
def verify(
    request: Request, session: DbSession, principal: Annotated[Principal, Depends(Require(Perm.AUDIT_VERIFY))]
) -> VerifyResult:
    verdict = service.verify_and_record(session, principal, trusted=trusted_heads(request))
    return VerifyResult(**verdict.__dict__)


@router.get("/anchor", response_model=Anchor)
def anchor(session: DbSession, _: Annotated[Principal, Depends(Require(Perm.AUDIT_VERIFY))]) -> Anchor:
    return service.anchor(session)


def trusted_heads(request: Request) -> service.TrustedHeads:
    settings = request.app.state.settings
    return service.TrustedHeads(settings.audit_heads_path, request.app.state.audit_key.public_key())


@router.get("/heads", response_model=SignedHeads, responses={409: {"description": "The file of heads is damaged."}})
def signed_heads(
    request: Request,
    _: Anyone,
    after: Annotated[int, Query(ge=0, description="Only heads covering more than this many events.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> SignedHeads:
    """The signed tree heads, oldest first: public, like a transparency log's, so that partners and outside
    auditors can keep copies. A head holds a count, a root hash and a time: no personal data."""
    all_heads = _read_heads(request)
    chosen = [SignedHeadOut(**h.__dict__) for h in all_heads if h.size > after][:limit]
    return SignedHeads(public_key=crypto.public_pem(request.app.state.audit_key.public_key()), heads=chosen)


@router.get(
    "/heads/latest", response_model=SignedHeadOut, responses={404: {"description": "No head signed yet."}, 409: {}}
)
def latest_head(request: Request, _: Anyone) -> SignedHeadOut:
    signed = _read_heads(request)
    head = signed[-1] if signed else None
    if head is None:
        raise NotFound(N_("No tree head has been signed yet."))
    return SignedHeadOut(**head.__dict__)


@router.post("/heads", response_model=SignedHeadOut, status_code=201)
def sign_head(
    request: Request, session: DbSession, principal: Annotated[Principal, Depends(Require(Perm.AUDIT_VERIFY))]
) -> SignedHeadOut:
    """Sign a tree head now (workers also sign on a schedule)."""
    settings = request.app.state.settings
    head = service.sign_and_record(session, principal, request.app.state.audit_key, settings.audit_heads_path)
    return SignedHeadOut(**head.__dict__)


def _read_heads(request: Request) -> list[heads.SignedHead]:
    try:
        return heads.read_heads(request.app.state.settings.audit_heads_path)
    except heads.HeadFileProblem:
        raise Conflict(N_("The file of signed tree heads is damaged: ask the auditor to verify the trail.")) from None


def _signed_size(request: Request, size: int, field: str) -> None:
    """Proofs are given up to the latest signed head: that is what callers hold, and the stored tree covers it."""
    signed = _read_heads(request)
    available = signed[-1].size if signed else 0
    if size > available:
        raise InvalidInput(N_("Signed tree heads cover %(count)s events."), field=field, count=available)


@router.get("/proofs/inclusion", response_model=InclusionProof, responses={409: {}, 422: {}})
def inclusion(
    request: Request,
    session: DbSession,
    _: Annotated[Principal, Depends(Require(Perm.AUDIT_VERIFY))],
    seq: Annotated[int, Query(ge=1, description="The event's sequence number.")],
    size: Annotated[int, Query(ge=1, description="The signed tree size to prove it against.")],
) -> InclusionProof:
    if seq > size:
        raise InvalidInput(N_("The event is not in a tree of this size."), field="seq")
    _signed_size(request, size, "size")
    return service.inclusion_proof(session, seq, size)


@router.get("/proofs/consistency", response_model=ConsistencyProof, responses={409: {}, 422: {}})
def consistency(
    request: Request,
    session: DbSession,
    _: Anyone,
    first: Annotated[int, Query(ge=1, description="The earlier signed tree size.")],
    second: Annotated[int, Query(ge=1, description="The later signed tree size.")],
) -> ConsistencyProof:
    """Hashes only: public, so a partner holding two signed heads can check the later extends the earlier."""
    if first > second:
        raise InvalidInput(N_("The first size must not be larger than the second."), field="first")
    _signed_size(request, second, "second")
    return service.consistency_proof(session, first, second)
