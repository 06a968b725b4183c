"""The analysts' work on identity proposals: a list for thousands (filtered, strongest or oldest first, paged, each
row naming both persons and where they registered) and one proposal with both persons side by side. Accepting or
rejecting goes through service.accept / service.reject, as the API does."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.errors import N_, NotFound
from travesia.core.principal import Principal
from travesia.enrolment import reads as enrolment
from travesia.identity import repository
from travesia.identity.schemas import ProposalFilter, ProposalRow
from travesia.models import Encounter, IdentityDecision
from travesia.stations import service as stations


def _name(encounter: Encounter | None) -> str:
    return f"{encounter.given_names} {encounter.surnames}".strip() if encounter else "—"


def list_proposals(
    session: Session, principal: Principal, f: ProposalFilter
) -> tuple[list[ProposalRow], str | None, dict[str, int]]:
    page, cursor = repository.proposals_page(session, f)
    persons = {d.person_id for d in page} | {d.from_person_id for d in page if d.from_person_id}
    latest = enrolment.latest_encounters(session, persons)
    codes = stations.codes_by_id(session, {e.station_id for e in latest.values()})

    def where(person: uuid.UUID | None) -> tuple[str, str]:
        e = latest.get(person) if person else None
        return _name(e), codes.get(e.station_id, "") if e else ""

    rows = [
        ProposalRow(d.id, d.kind, d.state, d.source, d.score, d.created_at, d.from_person_id,
                    *where(d.from_person_id), d.person_id, *where(d.person_id))
        for d in page
    ]  # fmt: skip
    audit.record(session, principal, "identity.proposals_read", details={"rows": len(rows), "state": f.state})
    return rows, cursor, repository.proposal_counts(session, f)


def proposal(session: Session, principal: Principal, decision_id: int) -> tuple[IdentityDecision, list, list]:
    """A proposal with each side's registrations (oldest first), as the reviewer compares them."""
    decision = repository.decision(session, decision_id)
    if decision is None or decision.kind not in ("merge", "split"):
        raise NotFound(N_("No identity proposal with this number."), field="decision_id")
    into = enrolment.person_encounters(session, decision.person_id, principal)
    moving = enrolment.person_encounters(session, decision.from_person_id, principal) if decision.from_person_id else []
    for person in filter(None, (decision.from_person_id, decision.person_id)):  # findable under each person's id
        audit.record(session, principal, "person.read", record_type="person", record_id=person,
                     purpose=f"identity proposal {decision.id}")  # fmt: skip
    return decision, moving, into
