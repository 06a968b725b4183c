"""Who may see and act on which persons and registrations: the station rule, in one place.

The rule. An account whose only role is registration officer works at its stations: it reads, and acts on, the
persons and registrations of those stations only. A person registered only elsewhere is, to that account, not
there: every read and every write by id answers exactly as for an id that does not exist (404, the same words), so
the answer does not even reveal that the id exists. Why: a station officer needs the people in front of them, not
the route's history, and a stolen station account must not open the whole population.

Every other role of the authority works across stations (supervisors, analysts, protection and programme officers
follow people along a route that crosses stations by nature); the command line and the system's own steps are
unscoped. Partners never reach persons or registrations by id: only through their agreement's query and export.

Reads scope their statements with ``station_scope`` (enrolment.repository applies it to every Encounter query);
reads and writes that name a person or a registration go through enrolment.scope's ``visible_person`` and
``visible_encounter`` first. The route walk in tests/auth/test_station_scope.py calls every such route as an
officer of the same station, of another station, and as a partner."""

from __future__ import annotations

import uuid

from travesia.core.principal import Principal, Role

STATION_BOUND_ROLES = frozenset({Role.REGISTRATION_OFFICER})


def station_scope(principal: Principal) -> frozenset[uuid.UUID] | None:
    """None = every station; otherwise the stations whose persons and registrations this caller may see."""
    if principal.via in ("cli", "system") or not principal.roles <= STATION_BOUND_ROLES:
        return None
    return principal.station_ids
