"""Reading registrations for officers and the API: one registration, a person's or a group's, a search by name,
document, station and time (keyset pages), each read audited and scoped by the station rule."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core.errors import N_, NotFound
from travesia.core.principal import Principal
from travesia.core.scope import station_scope
from travesia.enrolment import repository, rules
from travesia.enrolment.schemas import (
    BiometricsOut,
    DocumentOut,
    EncounterOut,
    EncounterSummary,
    GroupMember,
    GroupOut,
)
from travesia.enrolment.scope import visible_person
from travesia.models import Encounter
from travesia.stations import service as stations


# -- reading ----------------------------------------------------------------------------------------------------
def get_encounter(session: Session, principal: Principal, encounter_id: uuid.UUID, purpose: str | None) -> EncounterOut:
    encounter = repository.encounter(session, encounter_id, principal)
    if encounter is None:
        raise NotFound(N_("No such registration."), field="encounter_id")
    audit.record(session, principal, "encounter.read", record_type="encounter", record_id=encounter.id, purpose=purpose)
    return to_out(session, encounter)


def to_out(
    session: Session, encounter: Encounter, *, replayed: bool = False, station_code: str | None = None
) -> EncounterOut:
    if station_code:
        codes = {encounter.station_id: station_code}
    else:
        codes = stations.codes_by_id(session, [encounter.station_id])
    return EncounterOut(
        id=encounter.id,
        person_id=encounter.person_id,
        group_id=encounter.group_id,
        relation=encounter.relation,
        station=codes[encounter.station_id],
        occurred_at=encounter.occurred_at,
        recorded_at=encounter.recorded_at,
        given_names=encounter.given_names,
        surnames=encounter.surnames,
        sex=encounter.sex,
        birth_date=rules.birth_text(encounter.birth_year, encounter.birth_month, encounter.birth_day),
        birth_estimated=encounter.birth_estimated,
        nationality=encounter.nationality,
        country_of_birth=encounter.country_of_birth,
        languages=encounter.languages,
        route_countries=encounter.route_countries,
        documents=[DocumentOut.model_validate(d) for d in encounter.documents],
        child_status=_child_status(session, encounter),
        corrects=encounter.corrects_id,
        biometrics=BiometricsOut(consent=encounter.biometric_consent, exemptions=encounter.biometric_exemptions),
        replayed=replayed,
    )


def _child_status(session: Session, encounter: Encounter) -> str | None:
    on = encounter.occurred_at.date()
    others = []
    if encounter.group_id:
        others = [
            rules.member_of(e, on)
            for e in repository.group_members(session, encounter.group_id)
            if e.id != encounter.id
        ]
    return rules.child_status(rules.member_of(encounter, on), others)


def summary(encounter: Encounter, codes: dict[uuid.UUID, str]) -> EncounterSummary:
    return EncounterSummary(
        id=encounter.id,
        person_id=encounter.person_id,
        station=codes[encounter.station_id],
        occurred_at=encounter.occurred_at,
        given_names=encounter.given_names,
        surnames=encounter.surnames,
        sex=encounter.sex,
        birth_date=rules.birth_text(encounter.birth_year, encounter.birth_month, encounter.birth_day),
        nationality=encounter.nationality,
    )


def search(
    session: Session, principal: Principal, *, name: str | None, limit: int, purpose: str | None, **filters: object
) -> list[EncounterSummary]:
    tokens = [t for t in rules.fold(name or "").split() if t]
    rows = repository.search(session, principal, name_tokens=tokens, limit=limit, **filters)  # type: ignore[arg-type]
    codes = stations.codes_by_id(session, [r.station_id for r in rows])
    # The search terms may be a name: the event records what was looked at, not what was typed.
    audit.record(
        session,
        principal,
        "encounter.search",
        purpose=purpose,
        details={"results": [str(r.id) for r in rows][:100], "count": len(rows)},
    )
    return [summary(r, codes) for r in rows]


def get_person(
    session: Session, principal: Principal, person_id: uuid.UUID, purpose: str | None
) -> list[EncounterSummary]:
    current = visible_person(session, principal, person_id)  # a merged id answers for the merged person
    encounters = repository.person_encounters(session, current, principal)
    audit.record(session, principal, "person.read", record_type="person", record_id=current, purpose=purpose)
    codes = stations.codes_by_id(session, [e.station_id for e in encounters])
    return [summary(e, codes) for e in encounters]


def get_group(session: Session, principal: Principal, group_id: uuid.UUID, purpose: str | None) -> GroupOut:
    group = repository.group(session, group_id)
    members = repository.group_members(session, group_id) if group else []
    scope = station_scope(principal)
    if group is None or (scope is not None and group.station_id not in scope):
        raise NotFound(N_("No such group."), field="group_id")
    audit.record(session, principal, "group.read", record_type="group", record_id=group_id, purpose=purpose)
    out = []
    for encounter in members:
        on = encounter.occurred_at.date()
        status = rules.child_status(
            rules.member_of(encounter, on), [rules.member_of(e, on) for e in members if e.id != encounter.id]
        )
        out.append(
            GroupMember(
                encounter_id=encounter.id,
                person_id=encounter.person_id,
                relation=encounter.relation,
                given_names=encounter.given_names,
                surnames=encounter.surnames,
                sex=encounter.sex,
                birth_date=rules.birth_text(encounter.birth_year, encounter.birth_month, encounter.birth_day),
                child_status=status,
            )
        )
    return GroupOut(id=group.id, kind=group.kind, members=out)
