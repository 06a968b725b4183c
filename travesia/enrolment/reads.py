"""What other domains may read of registrations (the enrolment domain's published read model): each function
answers one question; the repository behind it stays private to the domain (pyproject.toml's contracts)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from travesia.core.db import utcnow
from travesia.core.principal import Principal
from travesia.enrolment import repository
from travesia.enrolment.rules import ADULT_AGE
from travesia.models import Document, Encounter


def encounter(session: Session, encounter_id: uuid.UUID, principal: Principal | None = None) -> Encounter | None:
    """A registration with its documents; with a principal, only if the station rule lets them see it."""
    return repository.encounter(session, encounter_id, principal)


def documents_of(session: Session, encounter_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Document]]:
    """The documents of each registration named (those without any are absent)."""
    return repository.documents_of(session, encounter_ids)


def family_of(session: Session, group_id: uuid.UUID) -> list[Encounter]:
    """Every registration of a travelling group, in the order they were recorded."""
    return repository.group_members(session, group_id)


def latest_encounters(session: Session, person_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Encounter]:
    """Each named person's most recent registration (for lists that name people)."""
    return repository.latest_encounters(session, person_ids)


def adults_of_nationality(session: Session, nationality: str, limit: int) -> list[uuid.UUID]:
    """Persons of a nationality born more than 18 years ago, the most recently registered first."""
    return repository.adults_of_nationality(session, nationality, utcnow().year - ADULT_AGE, limit)


def person_encounters(session: Session, person_id: uuid.UUID, principal: Principal) -> list[Encounter]:
    """A person's registrations the principal may see, oldest first."""
    return repository.person_encounters(session, person_id, principal)


def current_person_id(session: Session, person_id: uuid.UUID) -> uuid.UUID | None:
    """The person a (possibly merged) person id stands for now; None when there is no such person."""
    return repository.current_person_id(session, person_id)


def captured_biometrics(session: Session, encounter_id: uuid.UUID) -> set[tuple[str, int | None]]:
    """(modality, finger position) of the images a registration already has."""
    return repository.captured_biometrics(session, encounter_id)


def by_name_tokens(session: Session, principal: Principal, tokens: Sequence[str], limit: int) -> list[Encounter]:
    """Registrations whose name key holds every token, newest first."""
    return repository.search(session, principal, name_tokens=tokens, limit=limit)


def related_records(session: Session, record_id: str) -> list[str]:
    """For the auditor's "who looked at this person": the ids under which reads of a person's data are recorded
    besides the person's own (every registration, its group, persons merged into them). Another id: nothing."""
    try:
        person = uuid.UUID(record_id)
    except ValueError:
        return []
    return [str(i) for i in repository.records_of_person(session, person)]
