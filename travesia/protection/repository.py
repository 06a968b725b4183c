"""The only SQL of protection. Records hang on a person id; a person's records include those of every person
merged into them, so a merge never drops a protection hold."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import Date, Select, Subquery, and_, distinct, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session

from travesia.models import (
    AsylumClaim,
    CaseNote,
    Encounter,
    FollowUp,
    Person,
    ProtectionCase,
    ProtectionFlag,
    Referral,
    SafeConductPass,
    TraffickingScreening,
    User,
    UserRole,
)
from travesia.protection.rules import ProtectionFacts
from travesia.protection.schemas import CaseQueueFilter


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)
    session.flush()


def lock_persons(session: Session, person_ids: Iterable[uuid.UUID]) -> None:
    """Row locks on the persons, in a fixed order (no deadlock between two officers): whoever places a person on
    a manifest and whoever records a protection hold for them take the same lock, so one waits for the other.
    SQLite serialises writers on its own."""
    ids = sorted(set(person_ids), key=str)
    if ids and session.get_bind().dialect.name != "sqlite":
        session.execute(select(Person.id).where(Person.id.in_(ids)).order_by(Person.id).with_for_update())


def with_merged(session: Session, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """Every person id that stands for one of ``person_ids`` (itself and those merged into it) → that person."""
    owner = {p: p for p in person_ids}
    frontier = set(owner)
    while frontier:
        rows = session.execute(select(Person.id, Person.merged_into_id).where(Person.merged_into_id.in_(frontier)))
        frontier = set()
        for merged, into in rows:
            if merged not in owner:
                owner[merged] = owner[into]
                frontier.add(merged)
    return owner


def facts(session: Session, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, ProtectionFacts]:
    owner = with_merged(session, person_ids)
    ids = list(owner)
    flags: dict[uuid.UUID, list[str]] = defaultdict(list)
    claims: dict[uuid.UUID, list[str]] = defaultdict(list)
    referrals: dict[uuid.UUID, list[str]] = defaultdict(list)
    cases: dict[uuid.UUID, list[str]] = defaultdict(list)
    for person, kind in session.execute(
        select(ProtectionFlag.person_id, ProtectionFlag.kind).where(
            ProtectionFlag.person_id.in_(ids), ProtectionFlag.closed_at.is_(None)
        )
    ):
        flags[owner[person]].append(kind)
    for person, state in session.execute(
        select(AsylumClaim.person_id, AsylumClaim.state).where(AsylumClaim.person_id.in_(ids))
    ):
        claims[owner[person]].append(state)
    last_trafficking_referral: dict[uuid.UUID, object] = {}
    for person, kind, state, opened in session.execute(
        select(Referral.person_id, Referral.kind, Referral.state, Referral.opened_at).where(Referral.person_id.in_(ids))
    ):
        if state != "closed":
            referrals[owner[person]].append(kind)
        if kind == "trafficking":
            last_trafficking_referral[owner[person]] = max(opened, last_trafficking_referral.get(owner[person], opened))
    for person, kind in session.execute(
        select(ProtectionCase.person_id, ProtectionCase.kind).where(
            ProtectionCase.person_id.in_(ids), ProtectionCase.state == "open"
        )
    ):
        cases[owner[person]].append(kind)
    latest_screening: dict[uuid.UUID, tuple[object, str]] = {}
    for person, outcome, at in session.execute(
        select(TraffickingScreening.person_id, TraffickingScreening.outcome, TraffickingScreening.at).where(
            TraffickingScreening.person_id.in_(ids)
        )
    ):
        key = owner[person]
        if key not in latest_screening or at > latest_screening[key][0]:  # type: ignore[operator]
            latest_screening[key] = (at, outcome)
    out = {}
    for person in set(owner.values()):
        screened = latest_screening.get(person)
        referred_after = (
            screened
            and last_trafficking_referral.get(person) is not None
            and (
                last_trafficking_referral[person] >= screened[0]  # type: ignore[operator]
            )
        )
        out[person] = ProtectionFacts(
            open_flags=tuple(flags[person]),
            claim_states=tuple(claims[person]),
            open_referrals=tuple(referrals[person]),
            open_cases=tuple(cases[person]),
            refer_screening=bool(screened and screened[1] == "refer" and not referred_after),
        )
    return out


def flag(session: Session, flag_id: uuid.UUID) -> ProtectionFlag | None:
    return session.get(ProtectionFlag, flag_id)


def open_flag(session: Session, person_id: uuid.UUID, kind: str) -> ProtectionFlag | None:
    stmt = select(ProtectionFlag).where(
        ProtectionFlag.person_id == person_id, ProtectionFlag.kind == kind, ProtectionFlag.closed_at.is_(None)
    )
    return session.execute(stmt.limit(1)).scalar_one_or_none()


def flags_of(session: Session, person_ids: Iterable[uuid.UUID]) -> Sequence[ProtectionFlag]:
    stmt = (
        select(ProtectionFlag)
        .where(ProtectionFlag.person_id.in_(list(person_ids)))
        .order_by(ProtectionFlag.recorded_at)
    )
    return session.execute(stmt).scalars().all()


def claim(session: Session, claim_id: uuid.UUID, *, lock: bool = False) -> AsylumClaim | None:
    stmt = select(AsylumClaim).where(AsylumClaim.id == claim_id)
    return session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()


def claims_of(session: Session, person_ids: Iterable[uuid.UUID]) -> Sequence[AsylumClaim]:
    stmt = select(AsylumClaim).where(AsylumClaim.person_id.in_(list(person_ids))).order_by(AsylumClaim.recorded_at)
    return session.execute(stmt).scalars().all()


def referral(session: Session, referral_id: uuid.UUID) -> Referral | None:
    return session.get(Referral, referral_id)


def referrals_of(session: Session, person_ids: Iterable[uuid.UUID]) -> Sequence[Referral]:
    stmt = select(Referral).where(Referral.person_id.in_(list(person_ids))).order_by(Referral.opened_at)
    return session.execute(stmt).scalars().all()


def case(session: Session, case_id: uuid.UUID) -> ProtectionCase | None:
    return session.get(ProtectionCase, case_id)


def cases_of(session: Session, person_ids: Iterable[uuid.UUID]) -> Sequence[ProtectionCase]:
    stmt = (
        select(ProtectionCase).where(ProtectionCase.person_id.in_(list(person_ids))).order_by(ProtectionCase.opened_at)
    )
    return session.execute(stmt).scalars().all()


def notes(session: Session, case_id: uuid.UUID) -> Sequence[CaseNote]:
    return session.execute(select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.at)).scalars().all()


def follow_ups(session: Session, case_ids: Iterable[uuid.UUID]) -> Sequence[FollowUp]:
    stmt = select(FollowUp).where(FollowUp.case_id.in_(list(case_ids))).order_by(FollowUp.due_on)
    return session.execute(stmt).scalars().all()


def follow_up(session: Session, follow_up_id: uuid.UUID) -> FollowUp | None:
    return session.get(FollowUp, follow_up_id)


# -- the protection queue ---------------------------------------------------------------------------------------
FAR = date(9999, 12, 31)  # no follow-up planned: after every date


def _next_due() -> Subquery:
    return (
        select(FollowUp.case_id, func.min(FollowUp.due_on).label("due"))
        .where(FollowUp.done_at.is_(None))
        .group_by(FollowUp.case_id)
        .subquery()
    )


def _cases_filtered(stmt: Select, due: Subquery, f: CaseQueueFilter, me: uuid.UUID | None, today: date) -> Select:
    stmt = stmt.where(ProtectionCase.state == "open")
    if f.view == "mine":
        stmt = stmt.where(ProtectionCase.assigned_to_id == me)
    if f.kind:
        stmt = stmt.where(ProtectionCase.kind == f.kind)
    if f.overdue:
        stmt = stmt.where(due.c.due < today)
    return stmt


def case_page(
    session: Session, f: CaseQueueFilter, me: uuid.UUID | None, today: date
) -> tuple[list[tuple[ProtectionCase, date | None, str | None]], str | None]:
    """Open cases, the next follow-up due first (none planned: last), then the oldest; with who holds each."""
    due = _next_due()
    key = func.coalesce(due.c.due, literal(FAR, Date))
    stmt = (
        select(ProtectionCase, due.c.due, User.display_name)
        .outerjoin(due, due.c.case_id == ProtectionCase.id)
        .outerjoin(User, User.id == ProtectionCase.assigned_to_id)
    )
    stmt = _cases_filtered(stmt, due, f, me, today)
    order = (key, ProtectionCase.opened_at, ProtectionCase.id)
    if f.after:
        at, opened, last = f.after.split("~")
        values = (date.fromisoformat(at), datetime.fromisoformat(opened), uuid.UUID(last))
        stmt = stmt.where(tuple_(*order) > tuple_(*(literal(v, c.type) for v, c in zip(values, order, strict=True))))
    rows = session.execute(stmt.order_by(*order).limit(f.limit + 1)).all()
    page = [(case, next_due, holder) for case, next_due, holder in rows[: f.limit]]
    last_case, last_due = (page[-1][0], page[-1][1]) if len(rows) > f.limit else (None, None)
    cursor = f"{last_due or FAR}~{last_case.opened_at.isoformat()}~{last_case.id}" if last_case else None
    return page, cursor


def intake_page(session: Session, f: CaseQueueFilter) -> tuple[list[tuple[uuid.UUID, datetime]], str | None]:
    """Persons with an open flag and no open case, the longest waiting first, with when they were first flagged."""
    with_case = select(ProtectionCase.person_id).where(ProtectionCase.state == "open")
    first = func.min(ProtectionFlag.recorded_at)
    stmt = select(ProtectionFlag.person_id, first).where(
        ProtectionFlag.closed_at.is_(None), ProtectionFlag.person_id.not_in(with_case)
    )
    if f.flag:
        stmt = stmt.where(ProtectionFlag.kind == f.flag)
    stmt = stmt.group_by(ProtectionFlag.person_id)
    if f.after:
        at, _, last = f.after.split("~")
        when, person = datetime.fromisoformat(at), uuid.UUID(last)
        stmt = stmt.having(or_(first > when, and_(first == when, ProtectionFlag.person_id > person)))
    rows = session.execute(stmt.order_by(first, ProtectionFlag.person_id).limit(f.limit + 1)).all()
    page = [(row[0], row[1]) for row in rows[: f.limit]]
    cursor = f"{page[-1][1].isoformat()}~-~{page[-1][0]}" if len(rows) > f.limit else None
    return page, cursor


def queue_counts(session: Session, f: CaseQueueFilter, me: uuid.UUID | None, today: date) -> dict[str, int]:
    """The tabs' numbers under the other filters: my cases, every open case, and the intake."""
    counts = {}
    for view in ("mine", "all"):
        due = _next_due()
        stmt = select(func.count()).select_from(ProtectionCase).outerjoin(due, due.c.case_id == ProtectionCase.id)
        counts[view] = int(session.execute(_cases_filtered(stmt, due, f.model_copy(update={"view": view}), me,
                                                           today)).scalar_one())  # fmt: skip
    with_case = select(ProtectionCase.person_id).where(ProtectionCase.state == "open")
    intake = select(func.count(distinct(ProtectionFlag.person_id))).where(
        ProtectionFlag.closed_at.is_(None), ProtectionFlag.person_id.not_in(with_case)
    )
    if f.flag:
        intake = intake.where(ProtectionFlag.kind == f.flag)
    counts["intake"] = int(session.execute(intake).scalar_one())
    return counts


def latest_names(session: Session, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Encounter]:
    stmt = select(Encounter).where(Encounter.person_id.in_(list(person_ids))).order_by(Encounter.occurred_at)
    return {e.person_id: e for e in session.execute(stmt).scalars()}


def pass_(session: Session, pass_id: uuid.UUID) -> SafeConductPass | None:
    return session.get(SafeConductPass, pass_id)


def revoked_passes(session: Session) -> list[str]:
    stmt = select(SafeConductPass.id).where(SafeConductPass.revoked_at.is_not(None)).order_by(SafeConductPass.id)
    return [str(p) for p in session.execute(stmt).scalars()]


def is_protection_staff(session: Session, user_id: uuid.UUID) -> bool:
    stmt = (
        select(UserRole.role)
        .join(User, User.id == UserRole.user_id)
        .where(User.id == user_id, User.is_active.is_(True))
    )
    return bool(set(session.execute(stmt).scalars()) & {"protection_officer", "supervisor"})
