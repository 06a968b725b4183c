"""Alerts before people: what the registration officer sees (review pending, or nothing to review) and the
review by two analysts (take, propose, confirm by a second analyst, dismiss, return). Nothing here decides
anything about a person by itself."""

import uuid

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from travesia.core.principal import Principal
from travesia.models import (
    Alert,
    AlertReview,
)
from travesia.models.vocabulary import ACTIVE_ALERT_STATES
from travesia.screening import repository
from travesia.screening.schemas import OUTCOME_LABELS, ReviewIn, ScreeningOutcomeOut


# -- what the registration officer sees ----------------------------------------------------------------------------
def outcome(session: Session, encounter_id: uuid.UUID) -> ScreeningOutcomeOut:
    state = repository.screening(session, encounter_id)
    status = state.status if state else "pending"
    key = state.outcome if state and state.status == "done" and state.outcome else status
    return ScreeningOutcomeOut(status=status, outcome=state.outcome if state else None, label=OUTCOME_LABELS[key])


# -- review by two people ------------------------------------------------------------------------------------------
def get_alert(session: Session, principal: Principal, alert_id: uuid.UUID) -> Alert:
    alert = repository.alert(session, alert_id)
    if alert is None:
        raise NotFound(N_("No alert with this id."), field="alert_id")
    audit.record(session, principal, "alert.view", record_type="alert", record_id=alert_id)
    return alert


def review(session: Session, principal: Principal, alert_id: uuid.UUID, data: ReviewIn) -> Alert:
    """take: an analyst picks the alert up. propose: they propose to confirm it. confirm: a second analyst, not the
    proposer, agrees. return: the second analyst disagrees and sends it back. dismiss: not a match. Every step
    needs a reason except taking; each is kept and audited."""
    if principal.user_id is None:
        raise Forbidden(N_("Reviews are made by a named analyst, not from the console."), field="reviewer")
    alert = repository.alert(session, alert_id, lock=True)
    if alert is None:
        raise NotFound(N_("No alert with this id."), field="alert_id")
    reason = (data.reason or "").strip()
    if data.action != "take" and len(reason) < 3:
        raise InvalidInput(N_("Give the reason for this decision."), field="reason")
    if alert.state in ("confirmed", "dismissed"):
        raise Conflict(N_("This alert has been decided already."), field="action")
    me = principal.user_id
    if data.action == "take":
        alert.state, alert.assigned_to_id = "under_review", me
    elif data.action == "propose":
        if alert.proposed_by_id is not None:
            raise Conflict(N_("A confirmation has been proposed already; a second analyst decides."), field="action")
        alert.state, alert.proposed_by_id, alert.proposed_reason = "under_review", me, reason
        alert.assigned_to_id = alert.assigned_to_id or me
    elif data.action == "confirm":
        if alert.proposed_by_id is None:
            raise Conflict(N_("Confirming needs a proposal by a first analyst."), field="action")
        if alert.proposed_by_id == me:
            raise Forbidden(N_("A second analyst, not the one who proposed it, must confirm."), field="action")
        alert.state, alert.decided_by_id, alert.decided_at, alert.reason = "confirmed", me, utcnow(), reason
    elif data.action == "return":
        if alert.proposed_by_id is None or alert.proposed_by_id == me:
            raise Conflict(N_("Only a second analyst can send a proposal back."), field="action")
        alert.proposed_by_id, alert.proposed_reason = None, None
    elif data.action == "dismiss":
        alert.state, alert.decided_by_id, alert.decided_at, alert.reason = "dismissed", me, utcnow(), reason
    repository.add(session, AlertReview(alert_id=alert.id, reviewer_id=me, action=data.action, reason=reason or None))
    if alert.state in ("confirmed", "dismissed"):
        settle_outcome(session, alert.encounter_id)
    session.flush()
    audit.record(
        session,
        principal,
        f"alert.{data.action}",
        record_type="alert",
        record_id=alert.id,
        details={"state": alert.state, "kind": alert.kind},
    )
    return alert


def settle_outcome(session: Session, encounter_id: uuid.UUID) -> None:
    """The registration officer's view of a screened encounter: review pending while an alert is open or under
    review, clear otherwise (a confirmed alert is for the analysts' follow-up, not the officer's screen)."""
    state = repository.screening(session, encounter_id)
    pending = [a for a in repository.alerts_of(session, encounter_id) if a.state in ACTIVE_ALERT_STATES]
    if state is not None and state.status == "done":
        state.outcome = "review" if pending else "clear"
