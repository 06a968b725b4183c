"""Use cases of the audit trail: append an event (inside the caller's transaction), read, verify, anchor."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from travesia.audit import repository
from travesia.audit.chain import Verdict, canonical_json, event_hash, hashed_fields, verify_links
from travesia.audit.schemas import Anchor, AuditFilter
from travesia.core.db import new_id, utcnow
from travesia.core.principal import Principal
from travesia.models import AuditEvent

OUTCOMES = ("ok", "refused", "failed")


def record(
    session: Session,
    principal: Principal,
    action: str,
    *,
    record_type: str | None = None,
    record_id: str | uuid.UUID | None = None,
    outcome: str = "ok",
    purpose: str | None = None,
    details: dict[str, object] | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction: it commits or rolls back with the change.

    ``details`` must hold no personal data (identifiers and codes only): the trail outlives retention.
    """
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    head = repository.lock_head(session)
    event = AuditEvent(
        seq=head.seq + 1,
        event_id=new_id(),
        occurred_at=utcnow(),
        actor_id=principal.user_id,
        actor=principal.username,
        roles=",".join(sorted(principal.roles)),
        station=principal.station_code,
        via=principal.via,
        action=action,
        outcome=outcome,
        record_type=record_type,
        record_id=str(record_id) if record_id is not None else None,
        purpose=purpose,
        details=canonical_json(details or {}),
        prev_hash=head.hash,
    )
    event.hash = event_hash(hashed_fields(event), head.hash)
    repository.add_event(session, event, head)
    return event


def list_events(session: Session, principal: Principal, query: AuditFilter) -> list[AuditEvent]:
    events = repository.list_events(session, query)
    record(session, principal, "audit.read", details={"count": len(events)})
    return events


def verify(session: Session, anchor: tuple[int, str] | None = None) -> Verdict:
    return verify_links(repository.iter_links(session), head=repository.read_head(session), anchor=anchor)


def verify_and_record(session: Session, principal: Principal, anchor: tuple[int, str] | None = None) -> Verdict:
    verdict = verify(session, anchor)
    record(
        session,
        principal,
        "audit.verify",
        outcome="ok" if verdict.ok else "failed",
        details={"checked": verdict.checked, "bad_seq": verdict.bad_seq},
    )
    return verdict


def anchor(session: Session) -> Anchor:
    seq, digest = repository.read_head(session)
    event = repository.event_at(session, seq) if seq else None
    return Anchor(seq=seq, hash=digest, occurred_at=event.occurred_at if event else None, exported_at=utcnow())
