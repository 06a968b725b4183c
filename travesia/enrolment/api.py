"""JSON API of enrolment: register (JSON, or multipart with images), read, search."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import JSONResponse

from travesia.core.db import after_commit_once
from travesia.core.errors import N_, InvalidInput
from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.enrolment import lookup, service
from travesia.enrolment.images import CleanImage, ImageProblem, clean_fingerprint, clean_image
from travesia.enrolment.schemas import (
    FINGER_CODES,
    FINGER_LABELS,
    SLAP_LABELS,
    EncounterIn,
    EncounterOut,
    EncounterPage,
    GroupOut,
    PersonOut,
)
from travesia.stations import service as stations

router = APIRouter(prefix="/api/v1", tags=["enrolment"])

Creator = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_CREATE))]
Reader = Annotated[Principal, Depends(Require(Perm.ENCOUNTERS_READ))]
MAX_UPLOAD = 40 * 1024 * 1024  # counted as it streams by the app's body limit (core.http.BodyLimitMiddleware)

MULTIPART_DOC = {
    "requestBody": {
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/EncounterIn"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": {"type": "string", "description": "EncounterIn as JSON"},
                        "photo": {"type": "string", "format": "binary"},
                        **{f"fingerprint_{n}": {"type": "string", "format": "binary"} for n in FINGER_LABELS},
                        **{
                            f"fingerprint_{n}": {
                                "type": "string",
                                "format": "binary",
                                "description": f"{label} (a flat slap, split into its fingers on arrival)",
                            }
                            for n, label in SLAP_LABELS.items()
                        },
                    },
                }
            },
        },
        "required": True,
    }
}


@dataclass
class Submission:
    payload: Any
    photo: Any = None
    fingerprints: dict[int, Any] = field(default_factory=dict)


async def read_submission(request: Request) -> Submission:
    """Read the body (JSON, or multipart with images) on the event loop; the database work then runs in the
    thread pool, so a slow upload never holds a database transaction."""
    content_type = request.headers.get("content-type", "")
    photo, fingers = None, {}
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1 + len(FINGER_CODES), max_fields=5, max_part_size=10 * 1024 * 1024)
        raw_data = form.get("data")
        if not isinstance(raw_data, str):
            raise RequestValidationError([{"type": "missing", "loc": ("body", "data"), "msg": "Field required"}])
        payload = _json(raw_data)
        for key, value in form.multi_items():
            if key == "data":
                continue
            if not isinstance(value, UploadFile):
                raise InvalidInput(N_("Unexpected form field %(name)s."), field=key, name=key)
            if key == "photo":
                photo = _image(key, await value.read(), clean_image)
            elif key.startswith("fingerprint_") and key[12:].isdigit() and int(key[12:]) in FINGER_CODES:
                fingers[int(key[12:])] = _image(key, await value.read(), clean_fingerprint)
            else:
                raise InvalidInput(N_("Unexpected form field %(name)s."), field=key, name=key)
    else:
        payload = _json((await request.body()).decode("utf-8", errors="replace"))
    return Submission(payload, photo, fingers)


def _captured(submission: Submission, principal: Principal) -> service.Captured:
    try:
        data = EncounterIn.model_validate(submission.payload)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None
    return service.Captured(
        data=data, principal=principal, source="api", photo=submission.photo, fingerprints=submission.fingerprints
    )


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [{"type": "json_invalid", "loc": ("body", error.pos), "msg": f"JSON decode error: {error.msg}"}]
        ) from None


def _image(field: str, raw: bytes, clean: Callable[[bytes], CleanImage]) -> CleanImage:
    try:
        return clean(raw)
    except ImageProblem as problem:
        raise InvalidInput(problem.message, field=field, **problem.params) from None


@router.post(
    "/encounters",
    response_model=EncounterOut,
    status_code=201,
    openapi_extra=MULTIPART_DOC,
    responses={
        200: {"description": "A retry of an identical earlier submission"},
        409: {"description": "Another, different body was already stored under this id"},
    },
)
def create_encounter(
    principal: Creator,  # first: the guard refuses before the body is read
    submission: Annotated[Submission, Depends(read_submission)],
    session: DbSession,
    request: Request,
) -> Any:
    captured = _captured(submission, principal)
    validated = service.validate(session, captured)  # reads only: no lock is held while checking
    session.commit()  # the request's own unit of work ends here; the write is the group writer's
    pipeline = request.app.state.pipeline

    def write(writing: Session) -> tuple[service.Stored, dict[str, Any]]:
        stored = service.store(writing, validated)
        out = lookup.to_out(writing, stored.encounter, replayed=stored.replayed, station_code=stored.station_code)
        if not stored.replayed:  # the worker must find the encounter stored
            after_commit_once(writing, "process_due", lambda: pipeline.enqueue("process_due"))
        return stored, out.model_dump(mode="json")

    # Written with the other requests of the moment in one transaction, each in its own savepoint with its own
    # audit event; answered once that transaction is durable (core.groupcommit).
    stored, body = request.app.state.writer.write(write)
    body |= {"warnings": stored.warnings}
    return JSONResponse(body, status_code=200 if stored.replayed else 201)


@router.get("/encounters/{encounter_id}", response_model=EncounterOut)
def get_encounter(
    encounter_id: uuid.UUID,
    session: DbSession,
    principal: Reader,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
) -> EncounterOut:
    return lookup.get_encounter(session, principal, encounter_id, purpose)


def _cursor(value: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not value:
        return None
    try:
        at, _, last = base64.urlsafe_b64decode(value.encode()).decode().partition("|")
        return datetime.fromisoformat(at), uuid.UUID(last)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInput(N_("The page cursor is not valid."), field="cursor") from None


@router.get("/encounters", response_model=EncounterPage)
def search_encounters(
    session: DbSession,
    principal: Reader,
    name: Annotated[str | None, Query(max_length=200)] = None,
    document: Annotated[str | None, Query(max_length=40)] = None,
    station: Annotated[str | None, Query(max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
) -> EncounterPage:
    station_id = None
    if station:
        found = stations.station_by_code(session, station)
        if found is None:
            raise InvalidInput(N_("Unknown station code: %(code)s"), field="station", code=station)
        station_id = found.id
    items = lookup.search(
        session,
        principal,
        name=name,
        limit=limit,
        purpose=purpose,
        document=document.upper() if document else None,
        station_id=station_id,
        since=since,
        until=until,
        after=_cursor(cursor),
    )
    next_cursor = None
    if len(items) == limit:
        last = items[-1]
        next_cursor = base64.urlsafe_b64encode(f"{last.occurred_at.isoformat()}|{last.id}".encode()).decode()
    return EncounterPage(items=items, next_cursor=next_cursor)


@router.get("/persons/{person_id}", response_model=PersonOut)
def get_person(
    person_id: uuid.UUID,
    session: DbSession,
    principal: Reader,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
) -> PersonOut:
    """A person's registrations; a merged person's old id answers with the person it was merged into."""
    encounters = lookup.get_person(session, principal, person_id, purpose)
    return PersonOut(id=encounters[0].person_id, encounters=encounters)


@router.get("/groups/{group_id}", response_model=GroupOut)
def get_group(
    group_id: uuid.UUID,
    session: DbSession,
    principal: Reader,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
) -> GroupOut:
    return lookup.get_group(session, principal, group_id, purpose)
