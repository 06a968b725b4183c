"""Central's side of station sync: trust and revoke station keys, store signed batches exactly once and in order,
answer a station's feed (alerts, person links, list deltas).

A batch is stored in one transaction with its cursor and its ``sync_batches`` row; the acknowledgement is sent only
after that transaction committed, so "acknowledged" means durable. A station numbers its encounters 1, 2, 3…;
central accepts a batch only if it starts at or below the next number it expects, skips what it already holds (a
retry after a lost acknowledgement) and refuses a gap, so the order per station is the order of the numbers.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core import crypto
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict, DomainError, InvalidInput, NotFound
from travesia.core.principal import Principal, Role
from travesia.enrolment import reads as enrolment_reads
from travesia.enrolment import service as enrolment
from travesia.enrolment.images import ImageProblem, clean_fingerprint, clean_image
from travesia.models import Station, StationKey, SyncBatch, SyncCursor
from travesia.stations import service as stations
from travesia.sync import envelope, repository
from travesia.sync.schemas import (
    BatchAck,
    BatchItem,
    SampleItem,
    SamplesAck,
)

Model = TypeVar("Model", bound=BaseModel)

# Below this, a difference between the station's clock and central's is transit time and ordinary drift.
CLOCK_TOLERANCE = timedelta(minutes=2)


def refused(status: int, field: str, problem: str, station: str | None = None) -> SyncRefused:
    return SyncRefused(status, N_("The batch was refused: %(problem)s"), field=field, station=station, problem=problem)


class SyncRefused(DomainError):
    """A batch or feed request central will not act on; the API records it in the audit trail."""

    def __init__(self, status: int, message: str, *, field: str, station: str | None = None, **params: object) -> None:
        super().__init__(message, field=field, **params)
        self.status_code = status
        self.station = station


@dataclass(frozen=True)
class Opened:
    envelope: envelope.Envelope
    station: Station
    key: StationKey


# -- keys --------------------------------------------------------------------------------------------------------
def read_public_key(text: str) -> Ed25519PublicKey:
    """A station's public key as PEM, or as the 32 raw bytes in base64 (what `travesia sync key` prints)."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error):
        raise InvalidInput(N_("Not an Ed25519 public key (PEM or base64)."), field="public_key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidInput(N_("Not an Ed25519 public key (PEM or base64)."), field="public_key")
    return key


def trust_key(session: Session, principal: Principal, station_code: str, public_key: str) -> StationKey:
    station = stations.station_by_code(session, station_code)
    if station is None:
        raise NotFound(N_("Unknown station code: %(code)s"), field="station", code=station_code)
    key = read_public_key(public_key)
    kid = crypto.key_id(key)
    if repository.station_key(session, kid) is not None:
        raise Conflict(N_("This key is registered already."), field="public_key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    row = StationKey(key_id=kid, station_id=station.id, public_key=raw, added_by=principal.username)
    repository.add(session, row)
    audit.record(
        session, principal, "sync.key_trust", record_type="station", record_id=station.id, details={"key": kid}
    )
    return row


def revoke_key(session: Session, principal: Principal, key_id: str, reason: str) -> StationKey:
    row = repository.station_key(session, key_id)
    if row is None:
        raise NotFound(N_("No such station key."), field="key_id")
    if row.revoked_at is not None:
        raise Conflict(N_("This key is revoked already."), field="key_id")
    if not reason.strip():
        raise InvalidInput(N_("Give the reason."), field="reason")
    row.revoked_at, row.revoked_by, row.revoked_reason = utcnow(), principal.username, reason.strip()
    audit.record(
        session, principal, "sync.key_revoke", record_type="station", record_id=row.station_id, details={"key": key_id}
    )
    return row


@dataclass(frozen=True)
class StationSync:
    code: str
    name: str
    held: int  # registrations central holds from the station (all numbers up to here)
    batches: int
    last_batch_at: datetime | None
    live_keys: int


def overview(session: Session) -> list[StationSync]:
    """Central's view for the supervisor: how far each field station's sync has come."""
    return [
        StationSync(s.code, s.name, c.last_seq if c else 0, c.batches if c else 0, at, keys)
        for s, c, keys, at in repository.overview(session)
    ]


# -- opening an envelope -----------------------------------------------------------------------------------------
def open_envelope(session: Session, blob: bytes, kind: str) -> Opened:
    """Parse, find the station and its key, verify every byte; refuse replays of an accepted envelope."""
    try:
        env = envelope.parse(blob)
    except envelope.EnvelopeProblem as problem:
        raise refused(401, problem.field, problem.problem) from None
    code = env.station
    if env.header["kind"] != kind:
        raise refused(422, "header.kind", f"expected {kind}", code)
    station = stations.station_by_code(session, code)
    if station is None:
        raise SyncRefused(401, N_("Unknown station code: %(code)s"), field="header.station", code=code)
    key = repository.station_key(session, env.key_id)
    if key is None or key.station_id != station.id:
        raise refused(401, "header.key_id", "the key is not registered for this station", code)
    if key.revoked_at is not None:
        raise refused(401, "header.key_id", "the station's key is revoked", code)
    try:
        envelope.verify(env, Ed25519PublicKey.from_public_bytes(key.public_key))
    except envelope.EnvelopeProblem as problem:
        raise refused(401, problem.field, problem.problem, code) from None
    if kind in ("encounters", "samples") and repository.batch_seen(session, env.digest):
        replay = "this exact envelope was received before (a replay); a retry is sealed anew"
        raise refused(409, "envelope", replay, code)
    return Opened(env, station, key)


def record_refusal(session: Session, refusal: SyncRefused, size: int) -> None:
    """In its own transaction (the refused work rolled back): who tried what, never the content."""
    audit.record(
        session,
        Principal(user_id=None, username=f"station:{refusal.station or '?'}", roles=frozenset(), via="station"),
        "sync.refused",
        outcome="refused",
        details={
            "status": refusal.status_code,
            "field": refusal.field,
            "problem": refusal.params.get("problem"),
            "bytes": size,
        },
    )


def station_principal(station: Station, key_id: str) -> Principal:
    """The station acts as a registration officer of its own station, and of nothing else."""
    return Principal(
        user_id=None,
        username=f"station:{station.code}",
        roles=frozenset({Role.REGISTRATION_OFFICER}),
        station_id=station.id,
        station_code=station.code,
        station_ids=frozenset({station.id}),
        via="station",
        credential_id=key_id,
    )


# -- batches -----------------------------------------------------------------------------------------------------
def clock_offset(station_time: datetime, now: datetime) -> timedelta:
    offset = now - station_time
    return offset if abs(offset) > CLOCK_TOLERANCE else timedelta(0)


def _shifted(raw: dict[str, object], offset: timedelta) -> dict[str, object]:
    """The station's times moved onto central's clock (the station's reading is kept in the batch row)."""
    if not offset:
        return raw
    item = dict(raw)
    encounter = dict(item.get("encounter") or {})  # type: ignore[call-overload]
    for holder, name in ((item, "recorded_at"), (encounter, "occurred_at")):
        value = holder.get(name)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # a bad time is left for validation to name
                holder[name] = (datetime.fromisoformat(value) + offset).isoformat()
    item["encounter"] = encounter
    return item


def validated_body(model: type[Model], raw: object, where: str, station: str | None = None) -> Model:
    """The schema's first complaint, named by its path inside the envelope, as a refusal."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        raise refused(422, f"{where}.{path}", first["msg"], station) from None


def _captured(item: BatchItem, number: int, principal: Principal) -> enrolment.Captured:
    try:
        photo = clean_image(base64.b64decode(item.photo)) if item.photo else None
        fingers = {pos: clean_fingerprint(base64.b64decode(data)) for pos, data in item.fingerprints.items()}
    except ImageProblem as problem:
        raise refused(422, f"items.{number}.images", str(problem)) from None
    if item.officer:  # who at the station, as the station vouches with its signature (no account here)
        principal = dataclasses.replace(principal, username=f"{principal.username}:{item.officer}"[:100])
    return enrolment.Captured(item.encounter, principal, "sync", photo, fingers, station_seq=item.seq)


def receive_batch(session: Session, blob: bytes, now: datetime | None = None) -> BatchAck:
    now = now or utcnow()
    opened = open_envelope(session, blob, "encounters")
    env, station = opened.envelope, opened.station
    offset = clock_offset(envelope.station_time(env), now)
    try:
        raws = envelope.items(env)
    except envelope.EnvelopeProblem as problem:
        raise refused(422, problem.field, problem.problem, station.code) from None
    parsed = [
        validated_body(BatchItem, _shifted(raw, offset), f"items.{n}", station.code) for n, raw in enumerate(raws)
    ]
    first, last = int(env.header["first_seq"]), int(env.header["last_seq"])  # type: ignore[call-overload]
    if [i.seq for i in parsed] != list(range(first, last + 1)) or not parsed:
        raise refused(
            422, "header.first_seq", "the items must be numbered first_seq, first_seq+1, … last_seq", station.code
        )
    cursor = repository.cursor(session, station.id, lock=True)
    if cursor is None:
        cursor = SyncCursor(station_id=station.id, last_seq=0, batches=0)
        repository.add(session, cursor)
        session.flush()
    if first > cursor.last_seq + 1:
        raise refused(
            409,
            "header.first_seq",
            f"central holds up to {cursor.last_seq}; send from {cursor.last_seq + 1}",
            station.code,
        )
    principal = station_principal(station, opened.key.key_id)
    stored = 0
    held = repository.seq_of(session, [i.encounter.id for i in parsed if i.seq <= cursor.last_seq])
    for number, item in enumerate(parsed):
        if item.seq <= cursor.last_seq:
            if held.get(item.encounter.id) != item.seq:
                raise refused(
                    409, f"items.{number}.seq", f"central holds number {item.seq} as another registration", station.code
                )
            continue
        result = enrolment.enrol(session, _captured(item, number, principal))
        stored += not result.replayed
    cursor.last_seq = max(cursor.last_seq, last)
    cursor.batches += 1
    cursor.updated_at = now
    batch = SyncBatch(
        digest=env.digest,
        nonce=uuid.UUID(str(env.header["nonce"])),
        station_id=station.id,
        key_id=opened.key.key_id,
        first_seq=first,
        last_seq=last,
        encounters=len(parsed),
        stored=stored,
        size=len(blob),
        station_time=envelope.station_time(env),
        clock_offset_s=int(offset.total_seconds()),
    )
    repository.add(session, batch)
    session.flush()
    audit.record(
        session,
        principal,
        "sync.batch",
        record_type="station",
        record_id=station.id,
        details={
            "first": first,
            "last": last,
            "stored": stored,
            "bytes": len(blob),
            "clock_offset_s": batch.clock_offset_s,
        },
    )
    return BatchAck(
        batch=batch.id,
        encounters=len(parsed),
        stored=stored,
        already=len(parsed) - stored,
        last_seq=cursor.last_seq,
        clock_offset_s=batch.clock_offset_s,
    )


def receive_samples(session: Session, blob: bytes, now: datetime | None = None) -> SamplesAck:
    """Images added at the station after their registration was sent: each through the enrolment path that checks
    them against the consent and exemptions recorded; an image central already has is skipped (a retry)."""
    now = now or utcnow()
    opened = open_envelope(session, blob, "samples")
    env, station = opened.envelope, opened.station
    try:
        raws = envelope.items(env)
    except envelope.EnvelopeProblem as problem:
        raise refused(422, problem.field, problem.problem, station.code) from None
    items = [validated_body(SampleItem, raw, f"items.{n}", station.code) for n, raw in enumerate(raws)]
    principal = station_principal(station, opened.key.key_id)
    stored = 0
    for number, item in enumerate(items):
        if (item.modality, item.position) in enrolment_reads.captured_biometrics(session, item.encounter):
            continue
        try:
            raw = base64.b64decode(item.image)
            photo = clean_image(raw) if item.modality == "face" else None
            fingers = {item.position: clean_fingerprint(raw)} if item.modality == "finger" and item.position else {}
        except ImageProblem as problem:
            raise refused(422, f"items.{number}.image", str(problem), station.code) from None
        enrolment.add_samples(session, principal, item.encounter, photo, fingers, source="sync")
        stored += 1
    batch = SyncBatch(
        digest=env.digest,
        nonce=uuid.UUID(str(env.header["nonce"])),
        station_id=station.id,
        key_id=opened.key.key_id,
        first_seq=0,
        last_seq=0,
        encounters=0,
        stored=stored,
        size=len(blob),
        station_time=envelope.station_time(env),
        clock_offset_s=int(clock_offset(envelope.station_time(env), now).total_seconds()),
    )
    repository.add(session, batch)
    session.flush()
    audit.record(
        session,
        principal,
        "sync.samples",
        record_type="station",
        record_id=station.id,
        details={"samples": len(items), "stored": stored, "bytes": len(blob)},
    )
    return SamplesAck(batch=batch.id, samples=len(items), stored=stored)
