"""A field station's side of sync: what to send next, what central acknowledged, what central sent back.

The station's database numbers its encounters (``encounters.station_seq``, see enrolment.service.store); everything
above ``sync_state.acked_seq`` is still to send. Central is the authority on what it holds: each feed carries central's
``last_seq`` and the station goes on from there, so a station restored from an old backup, or a central restored
from one, converges without a person deciding anything.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.biometrics import received as bio_received
from travesia.biometrics import service as biometrics
from travesia.core import crypto
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict
from travesia.core.principal import Principal
from travesia.enrolment import rules as enrolment_rules
from travesia.models import BiometricSample, Encounter, RegionPerson, Station, SyncNotice, SyncState
from travesia.screening import listing
from travesia.screening import reads as screening_reads
from travesia.screening.schemas import WatchlistIn
from travesia.stations import service as stations
from travesia.sync import envelope, repository
from travesia.sync.schemas import BatchAck, Feed, Region, SyncStatus

BATCH_ITEMS = 200
BATCH_BYTES = 8 * 1024 * 1024  # before compression: a cut link costs at most this much to resend


def setup(session: Session, code: str, central_url: str | None) -> SyncState:
    """Make this database a field station's (once); a database is one station's for good."""
    code = code.strip().upper()
    state = repository.state(session)
    if state is not None:
        if state.station_code != code:
            raise Conflict(N_("This database belongs to station %(code)s."), field="station", code=state.station_code)
        return state
    stations.ensure_placeholder(session, code)  # central's feed fills in the details
    state = SyncState(station_code=code, acked_seq=0, list_versions={})
    repository.add(session, state)
    session.flush()
    return state


@dataclass(frozen=True)
class Outgoing:
    blob: bytes
    first_seq: int
    last_seq: int
    count: int
    sample_ids: tuple[object, ...] = ()  # the images in it, marked sent when central acknowledges


def next_batch(
    session: Session, key: Ed25519PrivateKey, *, images: bool = True, limit: int = BATCH_ITEMS
) -> Outgoing | None:
    """The next envelope of unacknowledged encounters, in station order, sealed with a fresh nonce."""
    state, station = _here(session)
    rows = repository.unsent(session, station.id, state.acked_seq, limit)
    if not rows:
        return None
    samples: dict[object, list[BiometricSample]] = {}
    if images:
        for sample in repository.samples_of(session, [r.id for r in rows]):
            samples.setdefault(sample.encounter_id, []).append(sample)
    kinds = repository.group_kinds(session, {r.group_id for r in rows if r.group_id})
    officers = repository.usernames(session, {r.officer_id for r in rows if r.officer_id})
    items, size = [], 0
    for row in rows:
        item = _item(row, station.code, samples.get(row.id, []), kinds, officers.get(row.officer_id))
        size += sum(len(str(v)) for v in item.values())
        if items and size > BATCH_BYTES:
            break
        items.append(item)
    first, last = int(items[0]["seq"]), int(items[-1]["seq"])  # type: ignore[call-overload]
    blob = envelope.seal(key, kind="encounters", station=station.code, items=items, first_seq=first, last_seq=last)
    included = {row.id for row in rows[: len(items)]}
    sent = tuple(s.id for e_id, group in samples.items() if e_id in included for s in group)
    return Outgoing(blob, first, last, len(items), sent)


def next_samples(session: Session, key: Ed25519PrivateKey, *, limit: int = 50) -> Outgoing | None:
    """Images added to registrations central already holds, oldest first (their own kind of envelope)."""
    state, station = _here(session)
    rows = repository.late_samples(session, station.id, state.acked_seq, limit)
    if not rows:
        return None
    items = [
        {
            "encounter": str(s.encounter_id),
            "sample": str(s.id),
            "modality": s.modality,
            "position": s.finger_position,
            "image": base64.b64encode(s.image).decode(),
        }
        for s in rows
    ]
    blob = envelope.seal(key, kind="samples", station=station.code, items=items)
    return Outgoing(blob, 0, 0, len(items), tuple(s.id for s in rows))


def _item(
    row: Encounter, code: str, samples: list[BiometricSample], kinds: dict[object, str], officer: str | None = None
) -> dict[str, object]:
    """The encounter as its EncounterIn was (central validates and stores it through the same enrolment path)."""
    birth = enrolment_rules.birth_text(row.birth_year, row.birth_month, row.birth_day)
    given = [e for e in row.biometric_exemptions if not e.get("derived")]
    encounter: dict[str, object] = {
        "id": str(row.id),
        "station": code,
        "occurred_at": row.occurred_at.isoformat(),
        "given_names": row.given_names,
        "surnames": row.surnames,
        "sex": row.sex,
        "birth_date": birth,
        "birth_estimated": row.birth_estimated,
        "nationality": row.nationality,
        "country_of_birth": row.country_of_birth,
        "languages": row.languages,
        "route_countries": row.route_countries,
        "phone": row.phone,
        "email": row.email,
        "notes": row.notes,
        "corrects": str(row.corrects_id) if row.corrects_id else None,
        "group": {"id": str(row.group_id), "kind": kinds[row.group_id], "relation": row.relation}
        if row.group_id
        else None,
        "documents": [
            {
                "doc_type": d.doc_type,
                "number": d.number,
                "issuing_state": d.issuing_state,
                "expiry_date": d.expiry_date.isoformat() if d.expiry_date else None,
                "mrz": d.mrz_text,
            }
            for d in row.documents
        ],
        "biometrics": {
            "consent": row.biometric_consent,
            "exemptions": [{k: e.get(k) for k in ("modality", "finger_position", "reason", "note")} for e in given],
        }
        if row.biometric_consent
        else None,
    }
    photo = next((s for s in samples if s.modality == "face"), None)
    return {
        "seq": row.station_seq,
        "recorded_at": row.recorded_at.isoformat(),
        "officer": officer,  # the station's account that registered the person (central has no such account)
        "encounter": encounter,
        "photo": base64.b64encode(photo.image).decode() if photo else None,
        "fingerprints": {
            str(s.finger_position): base64.b64encode(s.image).decode()
            for s in samples
            if s.modality == "finger" and s.finger_position
        },
    }


def record_ack(session: Session, ack: BatchAck | None, sample_ids: tuple[object, ...] = ()) -> None:
    """What central acknowledged: the registrations up to its number, and the images that went with them."""
    state = _state(session)
    if ack is not None:
        state.acked_seq = max(state.acked_seq, ack.last_seq)
    repository.mark_sent(session, list(sample_ids))  # type: ignore[arg-type]
    state.last_push_at, state.last_error = utcnow(), None


def record_error(session: Session, problem: str) -> None:
    state = _state(session)
    state.last_error = problem[:500]


def feed_request(session: Session, key: Ed25519PrivateKey) -> bytes:
    state = _state(session)
    body = {"cursor": state.feed_cursor, "lists": dict(state.list_versions or {}), "region_mark": state.region_mark}
    return envelope.seal(key, kind="feed", station=state.station_code, body=body)


def apply_feed(
    session: Session, principal: Principal, feed: Feed, bio: biometrics.Biometrics | None = None
) -> list[object]:
    """Store what central sent back; returns the list versions imported (to re-screen after commit). Region
    templates are kept only with ``bio`` (the station's keys, to seal them); without it the mark stays and central
    sends them again to a process that has the keys."""
    state = _state(session)
    _update_station(session, feed)
    for alert in feed.alerts:
        _notice(session, "alert", str(alert.id), alert.encounter_id, alert.model_dump(mode="json"))
    for link in feed.links:
        _notice(session, "link", str(link.encounter_id), link.encounter_id, link.model_dump(mode="json"))
    imported = []
    versions = dict(state.list_versions or {})
    for delta in feed.lists:
        if screening_reads.watchlist_by_name(session, delta.name) is None:
            listing.create_list(
                session, principal, WatchlistIn(**delta.model_dump(include=set(WatchlistIn.model_fields)))
            )
        if delta.lines:
            report = listing.import_list(
                session,
                principal,
                delta.name,
                delta.lines,
                file_name=f"central {delta.name} v{delta.version}",
                format_name="ftm",
                source=f"central v{delta.version}",
                mode="delta",
            )
            imported.append(report.version_id)
        versions[delta.name] = delta.version
    state.list_versions = versions  # a new dict: JSON columns track assignment, not mutation
    state.feed_cursor = feed.now.isoformat()
    state.acked_seq = feed.last_seq  # central is the authority on what it holds
    state.last_pull_at, state.last_error = utcnow(), None
    details: dict[str, object] = {
        "alerts": len(feed.alerts),
        "links": len(feed.links),
        "lists": [d.name for d in feed.lists],
    }
    if feed.region is not None and bio is not None:
        details["region"] = _apply_region(session, bio, state, feed.region, feed.now)
    audit.record(session, principal, "sync.pull", details=details)
    return imported


def _apply_region(
    session: Session, bio: biometrics.Biometrics, state: SyncState, region: Region, now: datetime
) -> dict[str, int]:
    """Keep the people and templates of this page (each once: the mark moves in the same transaction), then forget
    the people last registered before the window."""
    for notice in region.persons:
        row = repository.region_person(session, notice.person_id)
        if row is None:
            repository.add(session, RegionPerson(**notice.model_dump()))
        else:
            for name, value in notice.model_dump(exclude={"person_id"}).items():
                setattr(row, name, value)
            row.received_at = utcnow()
    known = {p.person_id for p in region.persons}
    items = []
    for template in region.templates:
        if template.id <= state.region_mark or template.person_id not in known:
            continue  # already held (a repeated page), or of nobody central described
        try:
            raw = base64.b64decode(template.template, validate=True)
        except binascii.Error:
            continue
        items.append(bio_received.RegionTemplate(**template.model_dump(exclude={"id", "template"}), template=raw))
    stored = bio_received.store_region_templates(session, bio, items)
    state.region_mark = max(state.region_mark, region.mark)
    session.flush()
    gone = repository.region_persons_before(session, now - timedelta(days=region.days))
    bio_received.forget_region_persons(session, gone)
    repository.delete_region_persons(session, gone)
    return {"persons": len(region.persons), "templates": stored, "forgotten": len(gone)}


def _update_station(session: Session, feed: Feed) -> None:
    station = stations.station_by_code(session, feed.station.code)
    if station is None:
        return
    for name, value in feed.station.model_dump().items():
        if name != "code" and getattr(station, name) != value:
            setattr(station, name, value)


def _notice(session: Session, kind: str, central_id: str, encounter_id: object, payload: dict[str, object]) -> None:
    row = repository.notice(session, kind, central_id)
    if row is None:
        repository.add(
            session, SyncNotice(kind=kind, central_id=central_id, encounter_id=encounter_id, payload=payload)
        )
    elif row.payload != payload:
        row.payload, row.received_at = payload, utcnow()


def status(session: Session, key: Ed25519PrivateKey, central_url: str | None) -> SyncStatus:
    state, station = _here(session)
    return SyncStatus(
        station=state.station_code,
        central_url=central_url,
        registered=repository.count_registered(session, station.id),
        acked_seq=state.acked_seq,
        pending=repository.count_unsent(session, station.id, state.acked_seq),
        last_push_at=state.last_push_at,
        last_pull_at=state.last_pull_at,
        last_error=state.last_error,
        alerts=len(repository.notices(session, "alert")),
        region_persons=repository.count_region_persons(session),
        key_id=crypto.key_id(key.public_key()),
    )


def central_alerts(session: Session) -> list[dict[str, object]]:
    """Central's alerts on this station's registrations, most urgent first, with the registration's name."""
    out = [
        {**notice.payload, "name": f"{given} {surnames}".strip(), "received_at": notice.received_at}
        for notice, given, surnames in repository.alert_notices(session)
    ]
    return sorted(out, key=lambda a: (a["state"] != "open", a["priority"], str(a["created_at"])))


def _here(session: Session) -> tuple[SyncState, Station]:
    """This station's sync state and its station row (``setup`` made both)."""
    state = _state(session)
    station = stations.station_by_code(session, state.station_code)
    assert station is not None
    return state, station


def _state(session: Session) -> SyncState:
    state = repository.state(session)
    if state is None:
        raise Conflict(N_("This database is not a field station's (start it with --station)."), field="station")
    return state
