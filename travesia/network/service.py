"""Network use cases: record what an interview or an inspection found, expand a person's network a hop at a time,
detect and flag communities, review a flag. Audited in the caller's transaction; the caller commits."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict, InvalidInput, NotFound
from travesia.core.principal import Principal
from travesia.core.scope import station_scope
from travesia.enrolment.scope import visible_encounter
from travesia.identity.service import current_person
from travesia.models import Inspection, InspectionSubject, NetworkCluster, Seizure, TravelContact
from travesia.network import graph, repository
from travesia.network.schemas import (
    ContactIn,
    DetectionOut,
    InspectionIn,
    InspectionOut,
    LinkOut,
    NetworkOut,
    NodeOut,
    SeizureOut,
)
from travesia.stations import service as stations

FLAG_SCORE = 3.0  # a community is flagged from this score: one strong reason, or two weaker ones
MAX_HOPS = 3


def record_contact(session: Session, principal: Principal, encounter_id: uuid.UUID, data: ContactIn) -> TravelContact:
    visible_encounter(session, principal, encounter_id)
    contact = TravelContact(
        encounter_id=encounter_id,
        kind=data.kind,
        name=data.name,
        phone=data.phone,
        account=data.account,
        key=graph.contact_key(data.name, data.phone, data.account),
        amount_usd=data.amount_usd,
        notes=data.notes,
        recorded_by_id=principal.user_id,
        recorded_at=utcnow(),
    )
    repository.add(session, contact)
    audit.record(
        session, principal, "contact.record", record_type="encounter", record_id=encounter_id,
        details={"kind": data.kind, "contact_id": str(contact.id)},
    )  # fmt: skip
    return contact


def record_inspection(session: Session, principal: Principal, data: InspectionIn) -> InspectionOut:
    station = stations.station_by_code(session, data.station)
    if station is None:
        raise NotFound(N_("No station with code %(code)s."), field="station", code=data.station)
    found = repository.encounters(session, [s.encounter_id for s in data.subjects])
    scope = station_scope(principal)
    for i, subject in enumerate(data.subjects):
        encounter = found.get(subject.encounter_id)
        if encounter is None or (scope is not None and encounter.station_id not in scope):
            raise NotFound(N_("No such registration."), field=f"subjects.{i}.encounter_id")
    inspection = Inspection(
        station_id=station.id,
        occurred_at=data.occurred_at,
        method=data.method,
        result=data.result,
        conveyance=data.conveyance,
        route_countries=list(data.route_countries),
        notes=data.notes,
        officer_id=principal.user_id,
        recorded_at=utcnow(),
    )
    repository.add(session, inspection)
    repository.add(
        session,
        *[
            InspectionSubject(inspection_id=inspection.id, encounter_id=s.encounter_id, role=s.role)
            for s in data.subjects
        ],
        *[Seizure(inspection_id=inspection.id, **s.model_dump()) for s in data.seizures],
    )
    audit.record(
        session, principal, "inspection.record", record_type="inspection", record_id=inspection.id,
        details={"result": data.result, "subjects": len(data.subjects), "seizures": len(data.seizures)},
    )  # fmt: skip
    return inspections_out(session, [inspection])[0]


def inspections_out(session: Session, inspections: list[Inspection]) -> list[InspectionOut]:
    ids = [i.id for i in inspections]
    subjects, seizures = repository.subjects(session, ids), repository.seizures(session, ids)
    codes = stations.codes_by_id(session, {i.station_id for i in inspections})
    return [
        InspectionOut(
            id=i.id,
            station=codes.get(i.station_id, ""),
            occurred_at=i.occurred_at,
            method=i.method,
            result=i.result,
            conveyance=i.conveyance,
            route_countries=i.route_countries,
            notes=i.notes,
            subjects=[{"person_id": p, "role": r} for p, r in subjects.get(i.id, [])],
            seizures=[SeizureOut.model_validate(s) for s in seizures.get(i.id, [])],
        )
        for i in inspections
    ]


def get_inspection(session: Session, principal: Principal, inspection_id: uuid.UUID) -> InspectionOut:
    inspection = repository.inspection(session, inspection_id)
    if inspection is None:
        raise NotFound(N_("No such inspection."), field="inspection_id")
    audit.record(session, principal, "inspection.read", record_type="inspection", record_id=inspection_id)
    return inspections_out(session, [inspection])[0]


def person_inspections(session: Session, person_id: uuid.UUID) -> list[tuple[InspectionOut, str]]:
    """The inspections a person was present at, with their role (for the person page; the caller audits)."""
    rows = repository.inspections_of(session, person_id)
    return list(zip(inspections_out(session, [i for i, _ in rows]), [role for _, role in rows], strict=True))


def person_contacts(session: Session, person_id: uuid.UUID) -> list[TravelContact]:
    return list(repository.contacts_of(session, person_id))


# -- the network around a person --------------------------------------------------------------------------------------
def neighbourhood(
    session: Session, principal: Principal, person_id: uuid.UUID, hops: int = 1, purpose: str | None = None
) -> NetworkOut:
    if not 1 <= hops <= MAX_HOPS:
        raise InvalidInput(N_("Expand one to %(most)s hops."), field="hops", most=MAX_HOPS)
    centre = str(current_person(session, person_id))
    hood = graph.expand(centre, hops, lambda frontier: repository.holdings(session, frontier))
    audit.record(
        session, principal, "network.read", record_type="person", record_id=centre, purpose=purpose,
        details={"hops": hops, "persons": len(hood.hops)},
    )  # fmt: skip
    names = repository.labels(session, hood.hops)
    places = graph.layout(hood)
    nodes = [
        NodeOut(
            person_id=p,
            hop=hop,
            name=str(names.get(p, {}).get("name", "")),
            nationality=names.get(p, {}).get("nationality"),  # type: ignore[arg-type]
            born=names.get(p, {}).get("born"),  # type: ignore[arg-type]
            x=places[p][0],
            y=places[p][1],
        )
        for p, hop in sorted(hood.hops.items(), key=lambda item: (item[1], item[0]))
    ]
    return NetworkOut(
        centre=centre,
        hops=hops,
        nodes=nodes,
        links=[LinkOut(a=k.a, b=k.b, kind=k.kind, key=k.key, detail=k.detail) for k in hood.links],
        hidden=[{"kind": kind, "key": key, "more": n} for (kind, key), n in sorted(hood.hidden.items())],
        truncated=hood.truncated,
    )


# -- community detection ----------------------------------------------------------------------------------------------
def detect(session: Session, principal: Principal) -> DetectionOut:
    """Find communities over every link, flag those with reasons enough, and replace the open flags of the last
    run (reviewed flags stay as they were reviewed)."""
    holdings = repository.holdings(session)
    found = graph.communities(holdings)
    members = {p for community in found for p in community}
    profiles = repository.labels(session, members) if members else {}
    facts = graph.Facts(
        holdings=holdings,
        alerts=repository.live_alerts(session, members) if members else {},
        children_alone=repository.children_alone(session, members) if members else frozenset(),
        groups=repository.groups_of(session, members) if members else {},
        profiles={p: (label["sex"], label["born"]) for p, label in profiles.items()},
    )
    superseded = repository.supersede_open_clusters(session)
    flagged = []
    for community in found:
        result = graph.flag(community, facts)
        if result.score >= FLAG_SCORE:
            flagged.append(
                NetworkCluster(
                    algorithm=graph.ALGORITHM,
                    size=len(community),
                    score=result.score,
                    reasons=result.reasons,
                    person_ids=community,
                    state="open",
                    run_at=utcnow(),
                )
            )
    if flagged:
        repository.add(session, *flagged)
    out = DetectionOut(persons=len(members), communities=len(found), flagged=len(flagged), superseded=superseded)
    audit.record(session, principal, "network.detect", details=out.model_dump())
    return out


def review_cluster(session: Session, principal: Principal, cluster_id: int, note: str) -> NetworkCluster:
    cluster = repository.cluster(session, cluster_id, lock=True)
    if cluster is None:
        raise NotFound(N_("No such cluster."), field="cluster_id")
    if cluster.state != "open":
        raise Conflict(N_("This cluster was already reviewed or replaced by a later run."), field="cluster_id")
    cluster.state, cluster.note = "reviewed", note
    cluster.reviewed_by_id, cluster.reviewed_at = principal.user_id, utcnow()
    audit.record(session, principal, "network.cluster_review", record_type="network_cluster", record_id=str(cluster_id))
    return cluster
