"""Screening API: lists and their versions, the yente-compatible match, alerts and their review, and the
registration officer's view of an encounter's screening (outcome only)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from starlette.responses import JSONResponse

from travesia.core.errors import N_, InvalidInput, NotFound
from travesia.core.guards import Require
from travesia.core.http import DbSession, enqueue_after_commit
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.enrolment.scope import visible_encounter
from travesia.models.vocabulary import ACTIVE_ALERT_STATES
from travesia.screening import formats, listformats, listing, matching, repository
from travesia.screening import review as alert_review
from travesia.screening.listformats import csvmap
from travesia.screening.schemas import (
    AlertOut,
    ChangeOut,
    MatchRequest,
    ReviewIn,
    ReviewOut,
    ScreeningOutcomeOut,
    VersionOut,
    WatchlistIn,
    WatchlistOut,
)

router = APIRouter(tags=["screening"])
Manager = Annotated[Principal, Depends(Require(Perm.WATCHLISTS_MANAGE))]
Matcher = Annotated[Principal, Depends(Require(Perm.WATCHLISTS_MATCH))]
Reviewer = Annotated[Principal, Depends(Require(Perm.ALERTS_REVIEW))]
Reader = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_READ))]
MAX_LIST_FILE = 512 * 1024 * 1024


@router.post("/match/{dataset}")
def match(
    request: Request,
    session: DbSession,
    principal: Matcher,
    dataset: str,
    body: MatchRequest,
    limit: Annotated[int, Query(ge=1, le=100)] = 5,
    threshold: Annotated[float | None, Query(gt=0, le=1)] = None,
    algorithm: Annotated[str, Query(pattern="^(travesia|logic-v2|best)$")] = "travesia",
) -> Any:
    """yente's ``POST /match/{dataset}``: ``{"queries": {id: {"schema": "Person", "properties": {...}}}}`` in; per
    query ``results`` with ``score`` (a calibrated probability), ``match`` (over the threshold: the list's own
    unless given), ``features`` and ``explanations`` (bits of evidence per field), ``datasets``. ``algorithm``:
    ``travesia`` (default; ``best`` is the same, as in yente), or ``logic-v2`` (nomenklatura's, on the same
    candidates)."""
    queries = {qid: q.properties for qid, q in body.queries.items()}
    return matching.match(
        session,
        request.app.state.screener,
        principal,
        dataset,
        queries,
        limit=limit,
        threshold=threshold,
        algorithm="travesia" if algorithm == "best" else algorithm,
    )


@router.get("/api/v1/watchlists", response_model=list[WatchlistOut])
def watchlists(session: DbSession, _: Manager) -> Any:
    return repository.watchlists(session)


@router.post("/api/v1/watchlists", response_model=WatchlistOut, status_code=201)
def create_watchlist(session: DbSession, principal: Manager, body: WatchlistIn) -> Any:
    return listing.create_list(session, principal, body)


@router.get("/api/v1/watchlists/{name}/versions", response_model=list[VersionOut])
def versions(session: DbSession, _: Manager, name: str) -> Any:
    wl = repository.watchlist_by_name(session, name)
    if wl is None:
        raise NotFound(N_("No list with this name."), field="name")
    return repository.versions(session, wl.id)


@router.get("/api/v1/watchlists/{name}/versions/{number}/changes", response_model=list[ChangeOut])
def version_changes(
    session: DbSession,
    _: Manager,
    name: str,
    number: int,
    after: Annotated[str, Query(max_length=200, description="the last list id of the previous page")] = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> Any:
    """What one version did: each entry added, changed, removed or listed again, in the order of the list's ids."""
    return listing.version_changes(session, name, number, after=after, limit=limit)


@router.post("/api/v1/watchlists/{name}/versions", status_code=201)
async def import_version(
    request: Request,
    session: DbSession,
    principal: Manager,
    name: str,
    file: Annotated[UploadFile, File()],
    mode: Annotated[str | None, Form(pattern="^(full|delta)$")] = None,
    mapping: Annotated[list[str] | None, Form(description="property=Column header, for a CSV file")] = None,
    source: Annotated[str | None, Form(max_length=300)] = None,
    format: Annotated[  # the form field's name, as the API documents it
        str | None,
        Form(
            pattern=f"^({'|'.join(listformats.FORMATS)})$",
            description="A registered list format; default: recognised from the file's content.",
        ),
    ] = None,
) -> Any:
    """Upload a list file (FollowTheMoney JSON lines, OpenSanctions delta lines, or CSV with a mapping), recognised
    by its content. The whole file is checked first; any problem refuses it with the line and field, and nothing
    is stored. Everyone enrolled is then re-screened against what changed, in the background."""
    raw = await file.read(MAX_LIST_FILE + 1)
    if len(raw) > MAX_LIST_FILE:
        raise InvalidInput(N_("The upload is too large."), field="file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(N_("The file is not UTF-8 text."), field="file") from None
    file_name = Path(file.filename or "upload").name
    parsed_mapping = None
    if mapping:
        try:
            parsed_mapping = csvmap.parse_mapping(mapping)
        except formats.ListFileError as error:
            raise InvalidInput(N_("Invalid column mapping: %(why)s"), field="mapping", why=str(error)) from None
    report = listing.import_list(
        session,
        principal,
        name,
        io.StringIO(text, newline=""),
        file_name=file_name,
        format_name=format,
        mapping=parsed_mapping,
        source=source,
        mode=mode,
    )
    body = {k: v for k, v in vars(report).items() if k != "version_id"}
    enqueue_after_commit(request, session, "rescreen", str(report.version_id))
    return JSONResponse(body, status_code=201)


@router.get("/api/v1/alerts", response_model=list[AlertOut])
def alerts(
    session: DbSession,
    _: Reviewer,
    state: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Any:
    """The review queue: most urgent first, then oldest."""
    return repository.queue(session, state or list(ACTIVE_ALERT_STATES), limit, offset)


@router.get("/api/v1/alerts/{alert_id}", response_model=AlertOut)
def alert(session: DbSession, principal: Reviewer, alert_id: uuid.UUID) -> Any:
    return alert_review.get_alert(session, principal, alert_id)


@router.get("/api/v1/alerts/{alert_id}/reviews", response_model=list[ReviewOut])
def alert_reviews(session: DbSession, principal: Reviewer, alert_id: uuid.UUID) -> Any:
    alert_review.get_alert(session, principal, alert_id)
    return repository.reviews(session, alert_id)


@router.post("/api/v1/alerts/{alert_id}/review", response_model=AlertOut)
def review(session: DbSession, principal: Reviewer, alert_id: uuid.UUID, body: ReviewIn) -> Any:
    """take, propose (to confirm), confirm (a second analyst), return (send a proposal back), dismiss."""
    return alert_review.review(session, principal, alert_id, body)


@router.get("/api/v1/encounters/{encounter_id}/screening", response_model=ScreeningOutcomeOut)
def encounter_screening(session: DbSession, principal: Reader, encounter_id: uuid.UUID) -> Any:
    """Whether a review is pending for this registration: never the list, the entry or the score."""
    visible_encounter(session, principal, encounter_id)
    return alert_review.outcome(session, encounter_id)
