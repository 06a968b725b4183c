"""The person page: one person with one history, gathered from every domain and cut to what the reader's roles may
see. Reading it is audited (who looked at a person is the auditor's question)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.errors import N_, NotFound
from travesia.core.permissions import Perm, allows
from travesia.core.principal import Principal, Role
from travesia.enrolment import reads as enrolment
from travesia.enrolment import rules as enrolment_rules
from travesia.enrolment.scope import visible_person
from travesia.identity import reads as identity
from travesia.models import Alert, Document, Encounter, IdentityDecision, Station, TravelContact
from travesia.network import service as network
from travesia.network.schemas import InspectionOut
from travesia.persons import repository, routemap
from travesia.protection import service as protection


@dataclass
class Visit:
    encounter: Encounter
    station: Station | None
    documents: list[Document]
    child_status: str | None  # shown only to the roles that see protection flags
    faces: list[uuid.UUID]


@dataclass
class GroupView:
    id: uuid.UUID
    occurred_at: datetime
    station: str
    members: list[Encounter]  # the other members, as registered then


@dataclass
class PersonFile:
    person_id: uuid.UUID
    merged_from: list[uuid.UUID]
    visits: list[Visit]
    names: list[str]
    route: list[str]
    route_svg: str
    faces: list[tuple[uuid.UUID, datetime, str]]  # sample, when, station
    groups: list[GroupView]
    documents: list[Document]
    see_protection: bool
    protection_flags: list[str]  # the child statuses that need attention (a child alone), from the registrations
    protection_holds: list[str]  # what keeps the person from a return (protection.holds' codes), for the banner
    alerts: list[Alert] | None  # None: the reader may not see alerts
    decisions: list[IdentityDecision] | None
    inspections: list[tuple[InspectionOut, str]] | None
    contacts: list[TravelContact] | None
    can_see_network: bool
    hidden_visits: int = 0  # registrations at stations outside the reader's scope
    notes: list[str] = field(default_factory=list)


# Protection flags are for those who act on them (and the officer who registers a child alone), not for
# investigation: the analyst does not see them.
CHILD_ALONE = frozenset({"separated", "unaccompanied"})  # an accompanied child needs no banner
PROTECTION_READERS = frozenset(
    {Role.PROTECTION_OFFICER, Role.SUPERVISOR, Role.PROGRAMME_OFFICER, Role.REGISTRATION_OFFICER}
)


def _sees_protection(principal: Principal) -> bool:
    return bool(principal.roles & PROTECTION_READERS)


def route_of(encounters: list[Encounter]) -> list[str]:
    """Origin (country of birth, else nationality), then the countries crossed as told, in first-told order."""
    route: list[str] = []
    for encounter in encounters:
        origin = encounter.country_of_birth or encounter.nationality
        for code in ([origin] if origin and not route else []) + list(encounter.route_countries or []):
            if code and code not in route:
                route.append(code)
    return route


def person_file(session: Session, principal: Principal, person_id: uuid.UUID, purpose: str | None) -> PersonFile:
    current = visible_person(session, principal, person_id)
    everything = enrolment.person_encounters(session, current, _unscoped(principal))
    encounters = enrolment.person_encounters(session, current, principal)
    audit.record(session, principal, "person.read", record_type="person", record_id=current, purpose=purpose)
    ids = [e.id for e in encounters]
    stations = repository.stations(session, {e.station_id for e in encounters})
    docs_by: dict[uuid.UUID, list[Document]] = defaultdict(list)
    for doc in repository.documents(session, ids):
        docs_by[doc.encounter_id].append(doc)
    faces = repository.faces(session, ids)
    faces_by: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for sample, encounter_id, _ in faces:
        faces_by[encounter_id].append(sample)
    sees_protection = _sees_protection(principal)
    group_ids = sorted({e.group_id for e in encounters if e.group_id}, key=str)
    members = list(repository.group_members(session, group_ids)) if group_ids else []
    visits = []
    for e in encounters:
        others = [m for m in members if m.group_id == e.group_id and m.id != e.id] if e.group_id else []
        status = _child_status(e, others) if sees_protection else None
        visits.append(Visit(e, stations.get(e.station_id), docs_by[e.id], status, faces_by[e.id]))
    codes = {e.id: stations[e.station_id].code if e.station_id in stations else "" for e in encounters}
    stops = _stops([stations.get(e.station_id) for e in encounters])
    route = route_of(encounters)
    names = list(dict.fromkeys(f"{e.given_names} {e.surnames}".strip() for e in encounters))
    return PersonFile(
        person_id=current,
        merged_from=repository.merged_from(session, current),
        visits=visits,
        names=names,
        route=route,
        route_svg=routemap.render(route, stops, " → ".join(route + [s.code for s in stops])),
        faces=[(sample, at, codes.get(eid, "")) for sample, eid, at in faces],  # type: ignore[misc]
        groups=_groups(encounters, members, stations),
        documents=[d for e in encounters for d in docs_by[e.id]],
        see_protection=sees_protection,
        protection_flags=sorted({v.child_status for v in visits if v.child_status in CHILD_ALONE}),
        protection_holds=protection.holds(session, [current])[current] if sees_protection else [],
        alerts=list(repository.alerts(session, ids)) if allows(principal.roles, Perm.ALERTS_REVIEW) else None,
        decisions=(
            list(identity.decisions_about(session, [current, *repository.merged_from(session, current)]))
            if allows(principal.roles, Perm.IDENTITY_DECIDE)
            else None
        ),
        inspections=network.person_inspections(session, current)
        if allows(principal.roles, Perm.NETWORK_READ)
        else None,
        contacts=network.person_contacts(session, current) if allows(principal.roles, Perm.NETWORK_READ) else None,
        can_see_network=allows(principal.roles, Perm.NETWORK_READ),
        hidden_visits=len(everything) - len(encounters),
    )


def _unscoped(principal: Principal) -> Principal:
    """The same caller seen with every station, only to count what their scope hides (nothing of it is shown)."""
    return replace(principal, via="system")


def _child_status(encounter: Encounter, others: list[Encounter]) -> str | None:
    on = encounter.occurred_at.date()
    member = enrolment_rules.member_of
    return enrolment_rules.child_status(member(encounter, on), [member(o, on) for o in others])


def _stops(stations: list[Station | None]) -> list[routemap.Stop]:
    stops: list[routemap.Stop] = []
    for s in stations:
        if s is None or s.latitude is None or s.longitude is None:
            continue
        if not stops or stops[-1].code != s.code:
            stops.append(routemap.Stop(s.code, s.name, s.latitude, s.longitude))
    return stops


def _groups(
    encounters: list[Encounter], members: list[Encounter], stations: dict[uuid.UUID, Station]
) -> list[GroupView]:
    """Each group once (a group is re-registered at every station it passes), each other member once."""
    views = []
    me = encounters[0].person_id
    for group_id in dict.fromkeys(e.group_id for e in encounters if e.group_id):
        first = next(e for e in encounters if e.group_id == group_id)
        others: dict[uuid.UUID, Encounter] = {}
        for m in members:
            if m.group_id == group_id and m.person_id != me:
                others.setdefault(m.person_id, m)
        station = stations.get(first.station_id)
        views.append(GroupView(group_id, first.occurred_at, station.code if station else "", list(others.values())))
    return views


def face_image(session: Session, person_id: uuid.UUID, sample_id: uuid.UUID, principal: Principal) -> tuple[bytes, str]:
    """A face image of this person's registrations (never anyone else's, never outside the reader's scope)."""
    current = visible_person(session, principal, person_id)
    found = repository.face_image(session, sample_id)
    readable = {e.id for e in enrolment.person_encounters(session, current, principal)}
    if found is None or found[0] not in readable:
        raise NotFound(N_("No such image."), field="sample_id")
    audit.record(session, principal, "person.face_read", record_type="person", record_id=current,
                 details={"sample": str(sample_id)})  # fmt: skip
    return found[1], found[2]
