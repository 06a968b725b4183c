"""Identity resolution use cases: the online step after screening, merges, splits, proposals and undo, replay.

Every change to who-is-who is a decision row with its moves, its evidence and its author (none for the system),
audited in the same transaction; the caller commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict, InvalidInput, NotFound
from travesia.core.principal import Principal, cli_principal
from travesia.enrolment import reads as enrolment
from travesia.identity import repository, rules
from travesia.models import IdentityDecision
from travesia.screening import scoring
from travesia.screening.service import encounter_record

SYSTEM = cli_principal("identity-step")


# -- online, in the pipeline ---------------------------------------------------------------------------------------
def resolve_encounter(session: Session, encounter_id: uuid.UUID) -> IdentityDecision | None:
    """Compare a new encounter with the earlier encounters the biometric step found or that showed the same
    document; attach it to the strongest person when biometrics and biographics agree beyond doubt, propose it
    when likely, and otherwise leave it its own person. Idempotent: an encounter already attached is left alone."""
    me = enrolment.encounter(session, encounter_id)
    if (
        me is None
        or me.person_id != me.registered_person_id
        or len(repository.encounters_of(session, me.person_id)) > 1
    ):
        return None
    # the biometric step's calibrated terms (bits per modality) against each earlier registration it found
    biometric = {
        c.candidate_id: list(c.evidence.get("terms", []))
        for c in repository.encounter_candidates(session, encounter_id)
        if c.modality == "fused" and c.evidence
    }
    others = set(biometric) | set(repository.holders_of_documents(session, encounter_id))
    others.discard(encounter_id)
    if not others:
        return None
    docs = enrolment.documents_of(session, [encounter_id, *others])
    query = encounter_record(me, docs.get(encounter_id, []))
    persons = repository.person_of(session, others)
    best: dict[str, tuple[float, bool]] = {}
    evidence: dict[str, scoring.Scored] = {}
    for other_id in others:
        other = enrolment.encounter(session, other_id)
        person = persons.get(other_id)
        if other is None or person is None or person == me.person_id:
            continue
        terms = biometric.get(other_id, [])
        scored = scoring.score(query, encounter_record(other, docs.get(other_id, [])), biometric=terms)
        key = str(person)
        if key not in best or scored.probability > best[key][0]:
            best[key] = (scored.probability, bool(terms))
            evidence[key] = scored
    verdict = rules.online_verdict(best)
    if verdict.person_id is None:
        return None
    target, scored = uuid.UUID(verdict.person_id), evidence[verdict.person_id]
    if verdict.action == "attach":
        return apply_move(
            session, SYSTEM, me.person_id, target, "attach", "online", scored.probability, scored.explanation()
        )
    return propose(session, me.person_id, target, "online", scored.probability, scored.explanation())


# -- decisions -----------------------------------------------------------------------------------------------------
def propose(
    session: Session,
    source: uuid.UUID,
    target: uuid.UUID,
    origin: str,
    score: float,
    evidence: list[dict[str, object]],
) -> IdentityDecision:
    existing = repository.open_proposal(session, source, target)
    if existing is not None:
        return existing
    decision = repository.add(
        session,
        IdentityDecision(
            kind="merge",
            state="proposed",
            source=origin,
            person_id=target,
            from_person_id=source,
            score=round(score, 4),
            evidence=evidence,
            moves=[],
            encounter_ids=[],
            reason="",
        ),
    )
    audit.record(session, SYSTEM, "identity.propose", record_type="identity_decision", record_id=str(decision.id))
    return decision


def apply_move(
    session: Session,
    principal: Principal,
    source: uuid.UUID,
    target: uuid.UUID,
    kind: str,
    origin: str,
    score: float | None,
    evidence: list[dict[str, object]],
    reason: str = "",
) -> IdentityDecision:
    if source == target:
        raise InvalidInput(N_("A person cannot be merged into themselves."), field="into")
    from_person, into_person = repository.person(session, source), repository.person(session, target)
    if from_person is None or into_person is None:
        raise NotFound(N_("No person with this id."), field="person_id")
    if from_person.merged_into_id or into_person.merged_into_id:
        raise Conflict(N_("This person was merged into another; use that person."), field="person_id")
    moves = rules.moves((str(e) for e in repository.encounters_of(session, source)), str(source), str(target))
    from_person.merged_into_id = target
    return _apply(session, principal, moves, kind, origin, target, source, reason, score=score, evidence=evidence)


def _apply(
    session: Session,
    principal: Principal,
    moves: list[rules.Move],
    kind: str,
    origin: str,
    person_id: uuid.UUID,
    from_person_id: uuid.UUID | None,
    reason: str,
    *,
    score: float | None = None,
    evidence: list[dict[str, object]] | None = None,
    undoes: int | None = None,
) -> IdentityDecision:
    """Make the moves, record them as an applied decision by ``principal``, audit it (counts only)."""
    repository.move(session, moves)
    decision = repository.add(
        session,
        IdentityDecision(
            kind=kind,
            state="applied",
            source=origin,
            person_id=person_id,
            from_person_id=from_person_id,
            encounter_ids=[m[0] for m in moves],
            moves=[list(m) for m in moves],
            score=None if score is None else round(score, 4),
            evidence=evidence or [],
            author_id=principal.user_id,
            decided_by_id=principal.user_id,
            reason=reason,
            undoes_id=undoes,
            decided_at=utcnow(),
        ),
    )
    details: dict[str, object] = {"encounters": len(moves), "source": origin}
    if undoes is not None:
        details["undoes"] = undoes
    audit.record(
        session,
        principal,
        f"identity.{kind}",
        record_type="identity_decision",
        record_id=str(decision.id),
        details=details,
    )
    return decision


def merge(
    session: Session, principal: Principal, source: uuid.UUID, target: uuid.UUID, reason: str
) -> IdentityDecision:
    """An analyst's merge of two persons: every encounter of ``source`` goes to ``target``."""
    return apply_move(session, principal, source, target, "merge", "manual", None, [], _reason(reason))


def split(
    session: Session, principal: Principal, person_id: uuid.UUID, encounter_ids: Sequence[uuid.UUID], reason: str
) -> IdentityDecision:
    """Some of a person's encounters become a new person; none is lost, and the rest stay."""
    reason = _reason(reason)
    person = repository.person(session, person_id)
    if person is None or person.merged_into_id:
        raise NotFound(N_("No person with this id."), field="person_id")
    theirs = set(repository.encounters_of(session, person_id))
    chosen = set(encounter_ids)
    if not chosen:
        raise InvalidInput(N_("Choose the registrations that belong to another person."), field="encounter_ids")
    if not chosen <= theirs:
        raise InvalidInput(N_("Some of these registrations are not this person's."), field="encounter_ids")
    if chosen == theirs:
        raise InvalidInput(N_("Leave at least one registration with this person."), field="encounter_ids")
    new = repository.new_person(session)
    moves = rules.moves((str(e) for e in chosen), str(person_id), str(new.id))
    return _apply(session, principal, moves, "split", "manual", person_id, new.id, reason)


def accept(session: Session, principal: Principal, decision_id: int, reason: str) -> IdentityDecision:
    """An analyst accepts a proposed merge or split: it is applied now, as a decision of its own."""
    proposal = _proposal(session, decision_id)
    if proposal.kind == "split":
        chosen = [uuid.UUID(e) for e in proposal.encounter_ids]
        applied = split(session, principal, proposal.person_id, chosen, reason)
        proposal.state, proposal.decided_by_id, proposal.decided_at = "accepted", principal.user_id, utcnow()
        proposal.reason = applied.reason
        return applied
    applied = apply_move(
        session,
        principal,
        proposal.from_person_id,  # type: ignore[arg-type]
        proposal.person_id,
        proposal.kind,
        proposal.source,
        proposal.score,
        proposal.evidence,
        _reason(reason),
    )
    # The proposal stays as it was made; the merge is a decision of its own, so replay keeps the real order.
    proposal.state, proposal.decided_by_id, proposal.decided_at = "accepted", principal.user_id, utcnow()
    proposal.reason = applied.reason
    return applied


def reject(session: Session, principal: Principal, decision_id: int, reason: str) -> IdentityDecision:
    proposal = _proposal(session, decision_id)
    proposal.state, proposal.decided_by_id, proposal.decided_at = "rejected", principal.user_id, utcnow()
    proposal.reason = _reason(reason)
    audit.record(session, principal, "identity.reject", record_type="identity_decision", record_id=str(decision_id))
    return proposal


def undo(session: Session, principal: Principal, decision_id: int, reason: str) -> IdentityDecision:
    """Put back exactly what a decision moved. Refused while a later decision moved the same encounters again
    (undo that one first), so nothing is ever lost or overwritten."""
    reason = _reason(reason)
    original = repository.decision(session, decision_id, lock=True)
    if original is None:
        raise NotFound(N_("No such decision."), field="decision_id")
    if original.state != "applied" or original.kind == "undo":
        raise Conflict(N_("Only an applied merge or split can be undone."), field="decision_id")
    moves = [tuple(m) for m in original.moves]
    current = repository.person_of(session, (uuid.UUID(m[0]) for m in moves))
    if rules.stale(moves, {str(k): str(v) for k, v in current.items()}):  # type: ignore[arg-type]
        raise Conflict(N_("A later decision moved these registrations again; undo it first."), field="decision_id")
    if original.kind in ("merge", "attach") and original.from_person_id:
        source = repository.person(session, original.from_person_id)
        if source is not None:
            source.merged_into_id = None
    original.state = "undone"
    return _apply(
        session,
        principal,
        rules.reverse(moves),  # type: ignore[arg-type]
        "undo",
        "manual",
        original.from_person_id or original.person_id,
        original.person_id,
        reason,
        undoes=original.id,
    )


def _proposal(session: Session, decision_id: int) -> IdentityDecision:
    proposal = repository.decision(session, decision_id, lock=True)
    if proposal is None:
        raise NotFound(N_("No such decision."), field="decision_id")
    if proposal.state != "proposed":
        raise Conflict(N_("This proposal was already decided."), field="decision_id")
    return proposal


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(N_("Give the reason for the decision."), field="reason")
    return reason[:2000]


# -- reading -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayCheck:
    encounters: int
    decisions: int
    differences: list[str]


def replay_check(session: Session) -> ReplayCheck:
    """Rebuild the encounter → person map from registrations and decisions and compare it with the table."""
    registered, current = repository.person_map(session)
    log = repository.applied_moves(session)
    rebuilt = rules.replay(registered, ([tuple(m) for m in moves] for moves in log))  # type: ignore[misc]
    differences = sorted(e for e in current if rebuilt.get(e) != current[e])
    return ReplayCheck(len(current), len(log), differences)


def current_person(session: Session, person_id: uuid.UUID) -> uuid.UUID:
    """The person a (possibly merged) person id stands for now."""
    current = enrolment.current_person_id(session, person_id)
    if current is None:
        raise NotFound(N_("No person with this id."), field="person_id")
    return current
