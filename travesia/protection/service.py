"""Protection use cases: vulnerability flags (derived and recorded), trafficking screenings, asylum claims,
referrals, cases with notes and follow-ups, safe-conduct passes, and the holds the non-refoulement gate reads.

Every write that can create a hold locks the person first (``repository.lock_persons``), as the manifest placement
does, so a placement and a new hold never cross. Audited in the caller's transaction; the caller commits."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict, Forbidden, InvalidInput, NotFound, RuleProblem
from travesia.core.principal import Principal, Role, cli_principal
from travesia.enrolment import reads as enrolment
from travesia.enrolment import rules as enrolment_rules
from travesia.enrolment.scope import visible_encounter, visible_person
from travesia.models import (
    AsylumClaim,
    CaseNote,
    FollowUp,
    ProtectionCase,
    ProtectionFlag,
    Referral,
    TraffickingScreening,
)
from travesia.protection import repository, rules
from travesia.protection.schemas import (
    CaseIn,
    ClaimUpdateIn,
    FlagIn,
    FollowUpIn,
    NoteIn,
    ReferralIn,
    ScreeningIn,
)

SYSTEM_NOTE = "derived at registration"
SYSTEM = cli_principal("protection-step")


def _person(session: Session, principal: Principal, person_id: uuid.UUID) -> uuid.UUID:
    """The person, visible to the caller by the station rule (core.scope), locked for a write that may add a hold."""
    person = visible_person(session, principal, person_id)
    repository.lock_persons(session, [person])
    return person


# -- the gate's question ----------------------------------------------------------------------------------------------
def lock_for_hold(session: Session, person_ids: list[uuid.UUID]) -> None:
    """The lock every write that can create a hold takes first: a manifest placement takes it too, so a hold and a
    placement of the same person never pass each other."""
    repository.lock_persons(session, person_ids)


def record_read(session: Session, principal: Principal, person_id: uuid.UUID) -> None:
    """A protection file read is a read of the person's most sensitive data: audited under the person's id."""
    person = _person(session, principal, person_id)
    audit.record(session, principal, "protection.read", record_type="person", record_id=person)


def holds(session: Session, person_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    """Reason codes that keep each person off a repatriation manifest (empty list: none)."""
    found = repository.facts(session, person_ids)
    return {p: rules.holds(found.get(p, rules.ProtectionFacts())) for p in person_ids}


# -- vulnerability ----------------------------------------------------------------------------------------------------
def derive_flags(session: Session, encounter_id: uuid.UUID) -> list[ProtectionFlag]:
    """At registration (the pipeline's step after identity): a child without a carer, an older person alone.
    Idempotent: an open flag of the same kind is not repeated."""
    encounter = enrolment.encounter(session, encounter_id)
    if encounter is None:
        return []
    on = encounter.occurred_at.date()
    others = (
        [e for e in enrolment.family_of(session, encounter.group_id) if e.id != encounter.id]
        if encounter.group_id
        else []
    )

    me = enrolment_rules.member_of(encounter, on)
    group = [enrolment_rules.member_of(o, on) for o in others]
    traveller = rules.Traveller(
        age=me.age,
        child_status=enrolment_rules.child_status(me, group),
        adults_with=sum(1 for m in group if m.age >= enrolment_rules.ADULT_AGE),
    )
    made = [
        ProtectionFlag(
            person_id=encounter.person_id, encounter_id=encounter.id, kind=kind, source="derived",
            details={"note": SYSTEM_NOTE, "rule": kind}, recorded_at=utcnow(),
        )
        for kind in rules.derived_flags(traveller)
        if repository.open_flag(session, encounter.person_id, kind) is None
    ]  # fmt: skip
    if made:
        repository.lock_persons(session, [encounter.person_id])
        repository.add(session, *made)
    for flag in made:  # who raised it: the rule, named, at this registration
        audit.record(
            session, SYSTEM, "protection.flag_derived", record_type="person", record_id=flag.person_id,
            details={"kind": flag.kind, "rule": rules.DERIVED_RULES[flag.kind].__name__, "flag": str(flag.id),
                     "encounter": str(encounter.id)},
        )  # fmt: skip
    return made


def record_flag(session: Session, principal: Principal, person_id: uuid.UUID, data: FlagIn) -> ProtectionFlag:
    person = _person(session, principal, person_id)
    if data.encounter_id is not None:
        visible_encounter(session, principal, data.encounter_id, field="encounter_id")
    details: dict[str, object] = {"note": data.note} if data.note else {}
    if data.washington_group:
        try:
            domains = rules.wg_disability(dict(data.washington_group))
        except RuleProblem as problem:
            raise InvalidInput(problem.message, field="washington_group", **problem.params) from None
        if not domains:
            raise InvalidInput(
                N_(
                    "No domain reaches 'a lot of difficulty': by the Washington Group cut-off this is not a disability."
                ),
                field="washington_group",
            )
        details = {**details, "washington_group": dict(data.washington_group), "domains": domains}
    flag = ProtectionFlag(
        person_id=person, encounter_id=data.encounter_id, kind=data.kind, source="recorded", details=details,
        recorded_by_id=principal.user_id, recorded_at=utcnow(),
    )  # fmt: skip
    repository.add(session, flag)
    audit.record(
        session, principal, "protection.flag", record_type="person", record_id=person, details={"kind": data.kind}
    )
    return flag


def close_flag(session: Session, principal: Principal, flag_id: uuid.UUID, reason: str) -> ProtectionFlag:
    flag = repository.flag(session, flag_id)
    if flag is None or not sees(session, principal, flag.person_id):
        raise NotFound(N_("No such flag."), field="flag_id")
    if flag.closed_at is not None:
        raise Conflict(N_("This flag is already closed."), field="flag_id")
    flag.closed_at, flag.closed_by_id, flag.close_reason = utcnow(), principal.user_id, reason
    audit.record(session, principal, "protection.flag_close", record_type="person", record_id=flag.person_id,
                 details={"kind": flag.kind})  # fmt: skip
    return flag


def sees(session: Session, principal: Principal, person_id: uuid.UUID) -> bool:
    """A record of a person (flag, case, referral, claim, pass) is there for the caller only if the person is."""
    try:
        visible_person(session, principal, person_id)
    except NotFound:
        return False
    return True


# -- trafficking ------------------------------------------------------------------------------------------------------
def screen_trafficking(
    session: Session, principal: Principal, person_id: uuid.UUID, data: ScreeningIn
) -> TraffickingScreening:
    person = _person(session, principal, person_id)
    try:
        score = rules.score_trafficking(data.answers)
    except RuleProblem as problem:
        raise InvalidInput(problem.message, field="answers", **problem.params) from None
    row = TraffickingScreening(
        person_id=person, answers=dict(data.answers), outcome=score.outcome, reasons=score.reasons,
        interviewer_id=principal.user_id, at=utcnow(),
    )  # fmt: skip
    repository.add(session, row)
    audit.record(session, principal, "protection.trafficking_screening", record_type="person", record_id=person,
                 details={"outcome": score.outcome})  # fmt: skip
    return row


def refer(session: Session, principal: Principal, person_id: uuid.UUID, data: ReferralIn) -> Referral:
    person = _person(session, principal, person_id)
    if data.case_id is not None and repository.case(session, data.case_id) is None:
        raise NotFound(N_("No such case."), field="case_id")
    referral = Referral(
        person_id=person, case_id=data.case_id, kind=data.kind, partner=data.partner, consent=data.consent,
        opened_by_id=principal.user_id, opened_at=utcnow(),
    )  # fmt: skip
    repository.add(session, referral)
    audit.record(session, principal, "protection.refer", record_type="person", record_id=person,
                 details={"kind": data.kind, "consent": data.consent})  # fmt: skip
    return referral


def close_referral(session: Session, principal: Principal, referral_id: uuid.UUID, outcome: str) -> Referral:
    referral = repository.referral(session, referral_id)
    if referral is None or not sees(session, principal, referral.person_id):
        raise NotFound(N_("No such referral."), field="referral_id")
    if referral.state == "closed":
        raise Conflict(N_("This referral is already closed."), field="referral_id")
    referral.state, referral.closed_at, referral.outcome = "closed", utcnow(), outcome
    audit.record(session, principal, "protection.referral_close", record_type="person", record_id=referral.person_id,
                 details={"kind": referral.kind})  # fmt: skip
    return referral


# -- asylum -----------------------------------------------------------------------------------------------------------
def record_intention(session: Session, principal: Principal, person_id: uuid.UUID, note: str | None) -> AsylumClaim:
    """Anyone who meets the person records it, at any step: from this moment the person is protected."""
    person = _person(session, principal, person_id)
    now = utcnow()
    entry = {"state": "intention", "on": now.date().isoformat(), "by": str(principal.user_id or principal.username)}
    claim = AsylumClaim(person_id=person, state="intention", history=[entry], recorded_by_id=principal.user_id,
                        recorded_at=now, updated_at=now)  # fmt: skip
    repository.add(session, claim)
    audit.record(session, principal, "protection.asylum_intention", record_type="person", record_id=person)
    return claim


def update_claim(session: Session, principal: Principal, claim_id: uuid.UUID, data: ClaimUpdateIn) -> AsylumClaim:
    claim = repository.claim(session, claim_id, lock=True)
    if claim is None or not sees(session, principal, claim.person_id):
        raise NotFound(N_("No such claim."), field="claim_id")
    if not rules.can_move_claim(claim.state, data.state):
        raise Conflict(
            N_("A claim cannot go from %(current)s to %(new)s."), field="state", current=claim.state, new=data.state
        )
    last = date.fromisoformat(str(claim.history[-1]["on"])) if claim.history else None
    if last and data.on < last:
        raise InvalidInput(N_("This date is before the claim's previous step."), field="on")
    if data.on > utcnow().date():
        raise InvalidInput(N_("This date is in the future."), field="on")
    claim.state = data.state
    claim.authority = data.authority or claim.authority
    claim.authority_ref = data.authority_ref or claim.authority_ref
    by = str(principal.user_id or principal.username)
    claim.history = [*claim.history, {"state": data.state, "on": data.on.isoformat(), "by": by}]
    claim.updated_at = utcnow()
    audit.record(session, principal, "protection.claim_update", record_type="person", record_id=claim.person_id,
                 details={"state": data.state})  # fmt: skip
    return claim


# -- cases ------------------------------------------------------------------------------------------------------------
def age_today(session: Session, principal: Principal, person_id: uuid.UUID) -> int | None:
    """The person's age today, from the birth date of their latest registration the principal sees."""
    encounters = enrolment.person_encounters(session, person_id, principal)
    if not encounters:
        return None
    return enrolment_rules.member_of(encounters[-1], date.today()).age


def case_kinds_offered(session: Session, principal: Principal, person_id: uuid.UUID) -> list[str]:
    return list(rules.case_kinds_for(age_today(session, principal, _person(session, principal, person_id))))


def open_case(session: Session, principal: Principal, person_id: uuid.UUID, data: CaseIn) -> ProtectionCase:
    person = _person(session, principal, person_id)
    age = age_today(session, principal, person)
    if data.kind not in rules.case_kinds_for(age):
        raise InvalidInput(
            N_("A child protection case is for a child; this person is %(age)s years old."), field="kind", age=age
        )
    case = ProtectionCase(person_id=person, kind=data.kind, assigned_to_id=data.assigned_to or principal.user_id,
                          opened_by_id=principal.user_id, opened_at=utcnow())  # fmt: skip
    repository.add(session, case)
    audit.record(session, principal, "protection.case_open", record_type="person", record_id=person,
                 details={"kind": data.kind, "case_id": str(case.id)})  # fmt: skip
    return case


def _case(session: Session, principal: Principal, case_id: uuid.UUID) -> ProtectionCase:
    case = repository.case(session, case_id)
    if case is None or not sees(session, principal, case.person_id):
        raise NotFound(N_("No such case."), field="case_id")
    return case


def assign(session: Session, principal: Principal, case_id: uuid.UUID, to: uuid.UUID) -> ProtectionCase:
    case = _case(session, principal, case_id)
    if not repository.is_protection_staff(session, to):
        raise InvalidInput(N_("Cases are assigned to an active protection officer or supervisor."), field="to")
    case.assigned_to_id = to
    audit.record(session, principal, "protection.case_assign", record_type="protection_case", record_id=case.id,
                 details={"to": str(to)})  # fmt: skip
    return case


def add_note(session: Session, principal: Principal, case_id: uuid.UUID, data: NoteIn) -> CaseNote:
    case = _case(session, principal, case_id)
    note = CaseNote(
        case_id=case.id, text=data.text, visibility=data.visibility, author_id=principal.user_id, at=utcnow()
    )
    repository.add(session, note)
    audit.record(session, principal, "protection.note", record_type="protection_case", record_id=case.id)
    return note


def visible_notes(session: Session, principal: Principal, case_id: uuid.UUID) -> list[CaseNote]:
    """Notes marked 'assigned' are for the case's officer (and the author, and the supervisor) only."""
    case = _case(session, principal, case_id)
    audit.record(session, principal, "protection.case_read", record_type="protection_case", record_id=case.id)
    return [
        n
        for n in repository.notes(session, case.id)
        if n.visibility == "protection"
        or principal.user_id in (case.assigned_to_id, n.author_id)
        or Role.SUPERVISOR in principal.roles
    ]


def add_follow_up(session: Session, principal: Principal, case_id: uuid.UUID, data: FollowUpIn) -> FollowUp:
    case = _case(session, principal, case_id)
    if data.due_on < utcnow().date() - timedelta(days=1):
        raise InvalidInput(N_("A follow-up is due today or later."), field="due_on")
    item = FollowUp(case_id=case.id, due_on=data.due_on, what=data.what)
    repository.add(session, item)
    audit.record(session, principal, "protection.follow_up", record_type="protection_case", record_id=case.id)
    return item


def complete_follow_up(session: Session, principal: Principal, follow_up_id: uuid.UUID) -> FollowUp:
    item = repository.follow_up(session, follow_up_id)
    case = repository.case(session, item.case_id) if item is not None else None
    if item is None or case is None or not sees(session, principal, case.person_id):
        raise NotFound(N_("No such follow-up."), field="follow_up_id")
    if item.done_at is None:
        item.done_at, item.done_by_id = utcnow(), principal.user_id
        audit.record(session, principal, "protection.follow_up_done", record_type="protection_case",
                     record_id=item.case_id)  # fmt: skip
    return item


def close_case(session: Session, principal: Principal, case_id: uuid.UUID, reason: str) -> ProtectionCase:
    case = _case(session, principal, case_id)
    if case.state == "closed":
        raise Conflict(N_("This case is already closed."), field="case_id")
    if (
        principal.user_id not in (case.assigned_to_id,)
        and Role.SUPERVISOR not in principal.roles
        and principal.via != "cli"
    ):
        raise Forbidden(N_("Only the case's officer or a supervisor closes a case."), field="case_id")
    case.state, case.closed_at, case.close_reason = "closed", utcnow(), reason
    audit.record(session, principal, "protection.case_close", record_type="protection_case", record_id=case.id)
    return case
