"""Sync over HTTP. Central: ``POST /api/v1/sync/batches`` and ``/feed``, authenticated by the station's Ed25519
signature over the body. Station: its own status and a "sync now" button for the people working there."""

from __future__ import annotations

import functools
import gzip
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from travesia.core.db import Database
from travesia.core.errors import N_, Conflict
from travesia.core.guards import Guard, Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.sync import central, station
from travesia.sync import feed as sync_feed
from travesia.sync.schemas import BatchAck, Feed, SamplesAck, SyncStatus

router = APIRouter(prefix="/api/v1/sync", tags=["sync"])

MAX_ENVELOPE = 96 * 1024 * 1024


class StationSignature(Guard):
    """The caller is a field station. Its credential is the Ed25519 signature inside the body, which the service
    checks once the body is read; every refusal (unsigned, unknown or revoked key, tampered, replayed) is answered
    401/409 and written to the audit trail."""

    def __call__(self) -> None:
        return None

    def describe(self) -> str:
        return "station signature (Ed25519 over the body)"


Signed = Annotated[None, Depends(StationSignature())]


async def _envelope(request: Request) -> bytes:
    return await request.body()  # at most MAX_ENVELOPE: the app's body limit answers 413 past it


def _refusing(db: Database, blob: bytes, work: object) -> object:
    """Run the work in its transaction; a refusal is audited in a transaction of its own, then re-raised."""
    try:
        with db.transaction() as session:
            return work(session, blob)  # type: ignore[operator]
    except central.SyncRefused as refusal:
        with db.transaction() as session:
            central.record_refusal(session, refusal, len(blob))
        raise


@router.post("/batches", response_model=BatchAck, responses={401: {}, 409: {}, 422: {}})
async def receive_batch(request: Request, _: Signed) -> Response:
    """Store a station's signed batch; the answer comes after the commit, so an acknowledgement means durable."""
    blob = await _envelope(request)
    ack: BatchAck = await run_in_threadpool(_refusing, request.app.state.db, blob, central.receive_batch)  # type: ignore[assignment]
    if ack.stored:  # committed: the workers take the new registrations from here
        await run_in_threadpool(request.app.state.pipeline.enqueue, "process_due")
    return JSONResponse(ack.model_dump(mode="json"))


@router.post("/samples", response_model=SamplesAck, responses={401: {}, 409: {}, 422: {}})
async def receive_samples(request: Request, _: Signed) -> Response:
    """Images added at the station to registrations central already holds."""
    blob = await _envelope(request)
    ack: SamplesAck = await run_in_threadpool(_refusing, request.app.state.db, blob, central.receive_samples)  # type: ignore[assignment]
    if ack.stored:  # the biometric step for the new images
        await run_in_threadpool(request.app.state.pipeline.enqueue, "process_due")
    return JSONResponse(ack.model_dump(mode="json"))


@router.post("/feed", response_model=Feed, responses={401: {}, 422: {}})
async def station_feed(request: Request, _: Signed) -> Response:
    blob = await _envelope(request)
    state = request.app.state
    answer = functools.partial(sync_feed.feed, bio=state.biometrics, region_days=state.settings.sync_region_days)
    feed: Feed = await run_in_threadpool(_refusing, state.db, blob, answer)  # type: ignore[assignment]
    body = feed.model_dump_json().encode()
    if "gzip" in request.headers.get("accept-encoding", "") and len(body) > 1024:  # list deltas can be large
        return Response(gzip.compress(body, 6), media_type="application/json", headers={"Content-Encoding": "gzip"})
    return Response(body, media_type="application/json")


# -- at the station ----------------------------------------------------------------------------------------------
@router.get("/status", response_model=SyncStatus, responses={409: {"description": "Not a field station."}})
def sync_status(
    request: Request, session: DbSession, _: Annotated[Principal, Depends(Require(Perm.SYNC_OPERATE))]
) -> SyncStatus:
    key = getattr(request.app.state, "station_key", None)
    if key is None:
        raise Conflict(N_("This server is not a field station (start it with --station)."), field="station")
    return station.status(session, key, request.app.state.settings.central_url)


@router.post("/run", status_code=202)
def sync_now(request: Request, _: Annotated[Principal, Depends(Require(Perm.SYNC_OPERATE))]) -> dict[str, str]:
    settings = request.app.state.settings
    if not (settings.station and settings.central_url):
        raise Conflict(N_("This server is not a field station with a central address."), field="station")
    request.app.state.pipeline.enqueue("sync_now")  # a worker runs the round at once, back-off or not
    return {"status": "started"}
