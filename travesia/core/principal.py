"""Who is acting: roles and the principal every service receives (defined here so every domain can use it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    REGISTRATION_OFFICER = "registration_officer"
    ANALYST = "analyst"
    SUPERVISOR = "supervisor"
    PROTECTION_OFFICER = "protection_officer"
    PROGRAMME_OFFICER = "programme_officer"
    PARTNER_LIAISON = "partner_liaison"
    STATISTICIAN = "statistician"
    AUDITOR = "auditor"
    ADMIN = "admin"


# Roles whose accounts must use a second factor (issue: required for admin and analyst).
ROLES_REQUIRING_TOTP = frozenset({Role.ADMIN, Role.ANALYST})


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. ``via`` is 'session', 'token', 'cli' or 'system'."""

    user_id: uuid.UUID | None
    username: str
    roles: frozenset[Role]
    station_id: uuid.UUID | None = None
    station_code: str | None = None
    station_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    via: str = "session"
    credential_id: str | None = None  # session digest or token id, for revocation from the account page


def cli_principal(os_user: str) -> Principal:
    """Operators at the console act with full power: they already hold the database and its keys."""
    return Principal(user_id=None, username=f"cli:{os_user}", roles=frozenset(Role), via="cli")


SYSTEM = Principal(user_id=None, username="system", roles=frozenset(), via="system")


def _label(text: str) -> str:  # marks a msgid for extraction (same as errors.N_)
    return text


ROLE_LABELS: dict[str, str] = {
    Role.REGISTRATION_OFFICER: _label("Registration officer"),
    Role.ANALYST: _label("Analyst"),
    Role.SUPERVISOR: _label("Supervisor"),
    Role.PROTECTION_OFFICER: _label("Protection officer"),
    Role.PROGRAMME_OFFICER: _label("Programme officer"),
    Role.PARTNER_LIAISON: _label("Partner liaison"),
    Role.STATISTICIAN: _label("Statistician"),
    Role.AUDITOR: _label("Auditor / data protection officer"),
    Role.ADMIN: _label("Administrator"),
}
