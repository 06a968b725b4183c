"""The protection officer's queue for thousands: my cases, every open case, and the intake (people flagged at
registration or later who have no case yet), each filtered and paged on the server; rows name the person, where
they registered, the case and who holds it, the next follow-up and how long the item has waited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import utcnow
from travesia.core.principal import Principal
from travesia.protection import repository
from travesia.protection.schemas import CaseQueueFilter
from travesia.stations import service as stations


@dataclass(frozen=True)
class QueueRow:
    person_id: uuid.UUID
    name: str
    station: str
    flags: list[str]
    waiting_since: datetime  # the case opened, or the person first flagged
    case_id: uuid.UUID | None = None
    case_kind: str | None = None
    holder: str | None = None
    mine: bool = False
    next_due: date | None = None
    overdue: bool = False


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    next_after: str | None
    counts: dict[str, int]
    view: str


def queue_page(session: Session, principal: Principal, f: CaseQueueFilter) -> QueuePage:
    """One page of the chosen view; with no view chosen, my cases when I hold any, else every open case."""
    today = utcnow().date()
    counts = repository.queue_counts(session, f, principal.user_id, today)
    f = f.model_copy(update={"view": f.view or ("mine" if counts["mine"] else "all")})
    if f.view == "intake":
        people, cursor = repository.intake_page(session, f)
        persons = [p for p, _ in people]
    else:
        cases, cursor = repository.case_page(session, f, principal.user_id, today)
        persons = [c.person_id for c, _, _ in cases]
    latest = repository.latest_names(session, persons)
    codes = stations.codes_by_id(session, {e.station_id for e in latest.values()})
    flags: dict[uuid.UUID, list[str]] = {}
    for flag in repository.flags_of(session, persons):
        if flag.closed_at is None:
            flags.setdefault(flag.person_id, []).append(flag.kind)

    def about(person: uuid.UUID) -> dict[str, object]:
        e = latest.get(person)
        name = f"{e.given_names} {e.surnames}".strip() if e else str(person)
        return {"person_id": person, "name": name, "station": codes.get(e.station_id, "") if e else "",
                "flags": flags.get(person, [])}  # fmt: skip

    if f.view == "intake":
        rows = [QueueRow(**about(p), waiting_since=since) for p, since in people]  # type: ignore[arg-type]
    else:
        rows = [
            QueueRow(**about(c.person_id), waiting_since=c.opened_at, case_id=c.id, case_kind=c.kind,  # type: ignore[arg-type]
                     holder=holder, mine=c.assigned_to_id == principal.user_id, next_due=due,
                     overdue=bool(due and due < today))
            for c, due, holder in cases
        ]  # fmt: skip
    audit.record(session, principal, "protection.queue_read", details={"rows": len(rows), "view": f.view})
    return QueuePage(rows, cursor, counts, f.view)  # type: ignore[arg-type]
