"""The only SQL of the network: who holds which key (group, phone, document, contact, seized item), inspections,
flagged clusters. A person here is an encounter's current ``person_id``, so links follow merges and splits."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, and_, extract, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from travesia.enrolment.rules import ADULT_AGE, CARERS
from travesia.models import (
    Alert,
    Document,
    Encounter,
    Inspection,
    InspectionSubject,
    NetworkCluster,
    Seizure,
    TravelContact,
    TravelGroup,
)
from travesia.network.graph import Holding
from travesia.network.schemas import ClusterFilter

ROW_LIMIT = 5000  # per kind of link around a frontier: a hub never floods one request
LIVE_ALERTS = ("open", "under_review", "confirmed")


def add(session: Session, *rows: object) -> None:
    session.add_all(rows)
    session.flush()


def _ids(persons: Iterable[uuid.UUID | str]) -> list[uuid.UUID]:
    return [p if isinstance(p, uuid.UUID) else uuid.UUID(p) for p in persons]


# -- holdings --------------------------------------------------------------------------------------------------------
def _group_rows(persons: list[uuid.UUID] | None) -> Select:
    stmt = (
        select(Encounter.person_id, Encounter.group_id, TravelGroup.kind)
        .join(TravelGroup, TravelGroup.id == Encounter.group_id)
        .where(Encounter.group_id.is_not(None))
    )
    if persons is not None:
        mine = select(Encounter.group_id).where(Encounter.person_id.in_(persons), Encounter.group_id.is_not(None))
        stmt = stmt.where(Encounter.group_id.in_(mine))
    return stmt


def _phone_rows(persons: list[uuid.UUID] | None) -> Select:
    stmt = select(Encounter.person_id, Encounter.phone, Encounter.phone).where(Encounter.phone.is_not(None))
    if persons is not None:
        mine = select(Encounter.phone).where(Encounter.person_id.in_(persons), Encounter.phone.is_not(None))
        stmt = stmt.where(Encounter.phone.in_(mine))
    return stmt


def _document_rows(persons: list[uuid.UUID] | None) -> Select:
    key = Document.number + ":" + func.coalesce(Document.issuing_state, "")
    stmt = select(Encounter.person_id, key, Document.doc_type).join(Encounter, Encounter.id == Document.encounter_id)
    if persons is not None:
        own = aliased(Document)
        mine = (
            select(own.number).join(Encounter, Encounter.id == own.encounter_id).where(Encounter.person_id.in_(persons))
        )
        stmt = stmt.where(Document.number.in_(mine))
    return stmt


def _contact_rows(persons: list[uuid.UUID] | None) -> Select:
    stmt = select(Encounter.person_id, TravelContact.kind + "|" + TravelContact.key, TravelContact.name).join(
        Encounter, Encounter.id == TravelContact.encounter_id
    )
    if persons is not None:
        own = aliased(TravelContact)
        mine = select(own.key).join(Encounter, Encounter.id == own.encounter_id).where(Encounter.person_id.in_(persons))
        stmt = stmt.where(TravelContact.key.in_(mine))
    return stmt


def _inspection_rows(persons: list[uuid.UUID] | None) -> Select:
    """Persons present at one inspection that seized something."""
    stmt = (
        select(Encounter.person_id, InspectionSubject.inspection_id, InspectionSubject.role)
        .join(Encounter, Encounter.id == InspectionSubject.encounter_id)
        .join(Inspection, Inspection.id == InspectionSubject.inspection_id)
        .where(Inspection.result == "seizure")
    )
    if persons is not None:
        mine = (
            select(InspectionSubject.inspection_id)
            .join(Encounter, Encounter.id == InspectionSubject.encounter_id)
            .where(Encounter.person_id.in_(persons))
        )
        stmt = stmt.where(InspectionSubject.inspection_id.in_(mine))
    return stmt


def _item_rows(persons: list[uuid.UUID] | None) -> Select:
    """Persons present where the same item (by its reference) was seized, in any inspection."""
    stmt = (
        select(Encounter.person_id, Seizure.item_ref, Seizure.kind)
        .join(InspectionSubject, InspectionSubject.inspection_id == Seizure.inspection_id)
        .join(Encounter, Encounter.id == InspectionSubject.encounter_id)
        .where(Seizure.item_ref.is_not(None))
    )
    if persons is not None:
        own = aliased(Seizure)
        mine = (
            select(own.item_ref)
            .join(InspectionSubject, InspectionSubject.inspection_id == own.inspection_id)
            .join(Encounter, Encounter.id == InspectionSubject.encounter_id)
            .where(Encounter.person_id.in_(persons), own.item_ref.is_not(None))
        )
        stmt = stmt.where(Seizure.item_ref.in_(mine))
    return stmt


def holdings(session: Session, persons: Iterable[uuid.UUID | str] | None = None) -> list[Holding]:
    """Who holds the keys that ``persons`` hold (everyone's keys when None, for community detection)."""
    ids = None if persons is None else _ids(persons)
    out: list[Holding] = []
    sources = [
        ("group", _group_rows, lambda key, d: (str(key), str(d))),
        ("phone", _phone_rows, lambda key, d: (str(key), "")),
        ("document", _document_rows, lambda key, d: (str(key), str(d))),
        ("contact", _contact_rows, lambda key, d: (str(key), str(d or ""))),
        ("seizure", _inspection_rows, lambda key, d: ("inspection:" + str(key), str(d))),
        ("seizure", _item_rows, lambda key, d: ("item:" + str(key), str(d))),
    ]
    for kind, rows, shape in sources:
        stmt = rows(ids)
        if ids is not None:
            stmt = stmt.limit(ROW_LIMIT)
        for person, key, detail in session.execute(stmt):
            k, d = shape(key, detail)
            if kind == "contact":  # the stored key is 'guide|tel:…': the contact's role is the link's kind
                role, _, k = k.partition("|")
                out.append(Holding(str(person), role, k, d))
            else:
                out.append(Holding(str(person), kind, k, d))
    return out


# -- facts for flagging ----------------------------------------------------------------------------------------------
def live_alerts(session: Session, persons: Iterable[str]) -> dict[str, int]:
    stmt = (
        select(Encounter.person_id, func.count())
        .select_from(Alert)
        .join(Encounter, Encounter.id == Alert.encounter_id)
        .where(Alert.state.in_(LIVE_ALERTS), Encounter.person_id.in_(_ids(persons)))
        .group_by(Encounter.person_id)
    )
    return {str(p): int(n) for p, n in session.execute(stmt)}


def groups_of(session: Session, persons: Iterable[str]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    stmt = select(Encounter.person_id, Encounter.group_id).where(
        Encounter.person_id.in_(_ids(persons)), Encounter.group_id.is_not(None)
    )
    for person, group in session.execute(stmt):
        out[str(person)].add(str(group))
    return {p: frozenset(g) for p, g in out.items()}


def children_alone(session: Session, persons: Iterable[str]) -> frozenset[str]:
    """Minors registered with no group, or in a group with no parent or carer (age at the registration)."""
    age = extract("year", Encounter.occurred_at) - Encounter.birth_year
    minors = session.execute(
        select(Encounter.person_id, Encounter.group_id).where(Encounter.person_id.in_(_ids(persons)), age < ADULT_AGE)
    ).all()
    groups = {g for _, g in minors if g is not None}
    with_carer = set()
    if groups:
        stmt = select(Encounter.group_id).where(
            Encounter.group_id.in_(groups), Encounter.relation.in_(CARERS), age >= ADULT_AGE
        )
        with_carer = set(session.execute(stmt).scalars())
    return frozenset(str(p) for p, g in minors if g is None or g not in with_carer)


def labels(session: Session, persons: Iterable[str]) -> dict[str, dict[str, object]]:
    """Each person's latest names as registered, for the graph's nodes."""
    stmt = (
        select(
            Encounter.person_id,
            Encounter.given_names,
            Encounter.surnames,
            Encounter.nationality,
            Encounter.birth_year,
            Encounter.sex,
            Encounter.occurred_at,
        )
        .where(Encounter.person_id.in_(_ids(persons)))
        .order_by(Encounter.occurred_at)
    )
    out: dict[str, dict[str, object]] = {}
    for person, given, surnames, nationality, year, sex, _ in session.execute(stmt):
        out[str(person)] = {"name": f"{given} {surnames}".strip(), "nationality": nationality, "born": year, "sex": sex}
    return out


# -- contacts and inspections ----------------------------------------------------------------------------------------
def contacts_of(session: Session, person_id: uuid.UUID) -> Sequence[TravelContact]:
    stmt = (
        select(TravelContact)
        .join(Encounter, Encounter.id == TravelContact.encounter_id)
        .where(Encounter.person_id == person_id)
        .order_by(TravelContact.recorded_at)
    )
    return session.execute(stmt).scalars().all()


def inspection(session: Session, inspection_id: uuid.UUID) -> Inspection | None:
    return session.get(Inspection, inspection_id)


def inspections_of(session: Session, person_id: uuid.UUID) -> list[tuple[Inspection, str]]:
    stmt = (
        select(Inspection, InspectionSubject.role)
        .join(InspectionSubject, InspectionSubject.inspection_id == Inspection.id)
        .join(Encounter, Encounter.id == InspectionSubject.encounter_id)
        .where(Encounter.person_id == person_id)
        .order_by(Inspection.occurred_at)
    )
    return [(i, role) for i, role in session.execute(stmt)]


def subjects(session: Session, inspection_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[tuple[str, str]]]:
    stmt = (
        select(InspectionSubject.inspection_id, Encounter.person_id, InspectionSubject.role)
        .join(Encounter, Encounter.id == InspectionSubject.encounter_id)
        .where(InspectionSubject.inspection_id.in_(list(inspection_ids)))
    )
    out: dict[uuid.UUID, list[tuple[str, str]]] = defaultdict(list)
    for inspection_id, person, role in session.execute(stmt):
        out[inspection_id].append((str(person), role))
    return out


def seizures(session: Session, inspection_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Seizure]]:
    stmt = select(Seizure).where(Seizure.inspection_id.in_(list(inspection_ids)))
    out: dict[uuid.UUID, list[Seizure]] = defaultdict(list)
    for seizure in session.execute(stmt).scalars():
        out[seizure.inspection_id].append(seizure)
    return out


def encounters(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Encounter]:
    rows = session.execute(select(Encounter).where(Encounter.id.in_(list(ids)))).scalars()
    return {e.id: e for e in rows}


# -- clusters --------------------------------------------------------------------------------------------------------
def supersede_open_clusters(session: Session) -> int:
    result = session.execute(update(NetworkCluster).where(NetworkCluster.state == "open").values(state="superseded"))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def clusters(session: Session, state: str | None = "open", limit: int = 100) -> Sequence[NetworkCluster]:
    stmt = select(NetworkCluster).order_by(NetworkCluster.score.desc(), NetworkCluster.id).limit(limit)
    if state:
        stmt = stmt.where(NetworkCluster.state == state)
    return session.execute(stmt).scalars().all()


def _clusters_filtered(stmt: Select, f: ClusterFilter, *, with_state: bool = True) -> Select:
    if with_state:
        stmt = stmt.where(NetworkCluster.state == f.state)
    if f.min_size:
        stmt = stmt.where(NetworkCluster.size >= f.min_size)
    return stmt


def clusters_page(session: Session, f: ClusterFilter) -> tuple[list[NetworkCluster], str | None]:
    """One page of flagged networks, strongest first, and the next page's cursor (None: the last page)."""
    stmt = _clusters_filtered(select(NetworkCluster), f)
    if f.after:
        value, last = f.after.split("~")
        score = float(value)
        stmt = stmt.where(
            or_(NetworkCluster.score < score, and_(NetworkCluster.score == score, NetworkCluster.id > int(last)))
        )
    rows = list(
        session.execute(stmt.order_by(NetworkCluster.score.desc(), NetworkCluster.id).limit(f.limit + 1)).scalars()
    )
    page = rows[: f.limit]
    return page, (f"{page[-1].score!r}~{page[-1].id}" if len(rows) > f.limit else None)


def cluster_counts(session: Session, f: ClusterFilter) -> dict[str, int]:
    stmt = _clusters_filtered(select(NetworkCluster.state, func.count()), f, with_state=False)
    return {state: n for state, n in session.execute(stmt.group_by(NetworkCluster.state))}


def cluster(session: Session, cluster_id: int, *, lock: bool = False) -> NetworkCluster | None:
    stmt = select(NetworkCluster).where(NetworkCluster.id == cluster_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one_or_none()


def open_clusters_of(session: Session, person: str) -> list[NetworkCluster]:
    """Open clusters a person belongs to (JSON membership is checked here, the lists are short)."""
    return [c for c in clusters(session, "open", limit=1000) if person in c.person_ids]


def latest_run(session: Session) -> datetime | None:
    return session.execute(select(func.max(NetworkCluster.run_at))).scalar_one_or_none()
