"""The station rule (travesia.core.scope) applied to a person or a registration named by id: found and visible to
the caller, or NotFound with the same words as for an id that does not exist."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from travesia.core.errors import N_, NotFound
from travesia.core.principal import Principal
from travesia.core.scope import station_scope
from travesia.enrolment import repository
from travesia.models import Encounter


def visible_person(session: Session, principal: Principal, person_id: uuid.UUID) -> uuid.UUID:
    """The person an id stands for now (a merged id leads to its survivor), if the caller may see them."""
    current = repository.current_person_id(session, person_id)
    if current is None or not repository.person_in_scope(session, current, station_scope(principal)):
        raise NotFound(N_("No person with this id."), field="person_id")
    return current


def visible_encounter(
    session: Session, principal: Principal, encounter_id: uuid.UUID, *, field: str = "encounter_id"
) -> Encounter:
    encounter = repository.encounter(session, encounter_id, principal)
    if encounter is None:
        raise NotFound(N_("No registration with this id."), field=field)
    return encounter
