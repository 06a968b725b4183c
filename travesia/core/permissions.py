"""The one place that says which roles may do what. Routes declare a permission; this table maps it to roles.

A test walks every route and checks it against this table and a reviewed snapshot
(tests/auth/route_permissions.txt).
"""

from __future__ import annotations

from enum import StrEnum

from travesia.core.principal import Role


class Perm(StrEnum):
    ACCOUNT_SELF = "account:self"  # own home page, password, second factor, API tokens, active station
    STATIONS_READ = "stations:read"
    STATIONS_MANAGE = "stations:manage"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    ENCOUNTERS_CREATE = "encounters:create"
    ENCOUNTERS_READ = "encounters:read"
    BIOMETRICS_SEARCH = "biometrics:search"  # 1:N search with an image of someone not (yet) enrolled
    WATCHLISTS_MANAGE = "watchlists:manage"  # create lists, import versions
    WATCHLISTS_MATCH = "watchlists:match"  # ask the lists about a name (yente-compatible /match)
    ALERTS_REVIEW = "alerts:review"
    IDENTITY_DECIDE = "identity:decide"  # merge, split, accept or reject a proposal
    IDENTITY_UNDO = "identity:undo"  # undo a decision, the system's included
    NETWORK_READ = "network:read"  # links between persons, flagged clusters, inspections and seizures
    NETWORK_RECORD = "network:record"  # contacts named at interview, border-point inspections
    ASYLUM_INTENTION = "asylum:intention"  # record that a person wants to seek asylum (any officer, any step)
    PROTECTION_FLAG = "protection:flag"  # record a vulnerability (pregnancy, disability, ...) at registration
    PROTECTION_MANAGE = "protection:manage"  # cases, notes, referrals, claims, trafficking screenings, passes
    PROGRAMMES_MANAGE = "programmes:manage"  # flights, manifests, boarding
    PATHWAYS_EXPORT = "pathways:export"  # the partner's file of a legal pathway, under its agreement
    STATISTICS_READ = "statistics:read"  # aggregated figures, charts, forecasts
    PRIVACY_MANAGE = "privacy:manage"  # retention plans, subject-access reports (the data protection officer)
    EXCHANGE_MANAGE = "exchange:manage"  # data-sharing agreements, partner keys, NIST imports and exports
    SYNC_OPERATE = "sync:operate"  # a field station's sync: its status, "sync now"


ALL_ROLES = frozenset(Role)

ROLE_PERMISSIONS: dict[Perm, frozenset[Role]] = {
    Perm.ACCOUNT_SELF: ALL_ROLES,
    Perm.STATIONS_READ: ALL_ROLES,
    Perm.STATIONS_MANAGE: frozenset({Role.ADMIN}),
    Perm.EXCHANGE_MANAGE: frozenset({Role.PARTNER_LIAISON}),
    Perm.SYNC_OPERATE: frozenset({Role.REGISTRATION_OFFICER, Role.SUPERVISOR, Role.ADMIN}),
    Perm.USERS_READ: frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR}),
    Perm.USERS_MANAGE: frozenset({Role.ADMIN}),
    # The auditor watches the administrators too, so admin does not read the trail.
    Perm.AUDIT_READ: frozenset({Role.AUDITOR}),
    Perm.AUDIT_VERIFY: frozenset({Role.AUDITOR}),
    Perm.ENCOUNTERS_CREATE: frozenset({Role.REGISTRATION_OFFICER, Role.SUPERVISOR}),
    # Registration officers read their own stations' encounters only (scoped in enrolment.repository).
    Perm.ENCOUNTERS_READ: frozenset(
        {Role.REGISTRATION_OFFICER, Role.SUPERVISOR, Role.ANALYST, Role.PROTECTION_OFFICER, Role.PROGRAMME_OFFICER}
    ),
    # Searching by face or fingerprint is investigation: the analyst and the supervisor, not every officer.
    Perm.BIOMETRICS_SEARCH: frozenset({Role.ANALYST, Role.SUPERVISOR}),
    # Lists are sensitive: the analysts who work alerts and their supervisor, never the registration officer
    # (who sees only that a review is pending).
    Perm.WATCHLISTS_MANAGE: frozenset({Role.SUPERVISOR, Role.ANALYST}),
    Perm.WATCHLISTS_MATCH: frozenset({Role.ANALYST, Role.SUPERVISOR}),
    Perm.ALERTS_REVIEW: frozenset({Role.ANALYST, Role.SUPERVISOR}),
    Perm.IDENTITY_DECIDE: frozenset({Role.ANALYST, Role.SUPERVISOR}),
    # Undoing, automatic merges above all, is the supervisor's: the one who answers for the person table.
    Perm.IDENTITY_UNDO: frozenset({Role.SUPERVISOR}),
    # Who travels, pays and calls together is intelligence: the analysts and their supervisor.
    Perm.NETWORK_READ: frozenset({Role.ANALYST, Role.SUPERVISOR}),
    # Recorded where it is learnt: at interview (registration, protection) and at the border point's inspection.
    Perm.NETWORK_RECORD: frozenset({Role.REGISTRATION_OFFICER, Role.PROTECTION_OFFICER, Role.ANALYST, Role.SUPERVISOR}),
    # Whoever meets the person hears the request: every officer role records it; nobody may refuse to.
    Perm.ASYLUM_INTENTION: frozenset(
        {Role.REGISTRATION_OFFICER, Role.PROTECTION_OFFICER, Role.PROGRAMME_OFFICER, Role.ANALYST, Role.SUPERVISOR}
    ),
    Perm.PROTECTION_FLAG: frozenset({Role.REGISTRATION_OFFICER, Role.PROTECTION_OFFICER, Role.SUPERVISOR}),
    Perm.PROTECTION_MANAGE: frozenset({Role.PROTECTION_OFFICER, Role.SUPERVISOR}),
    # The programme officer sees that a person is held, never why: the gate answers with reason codes.
    Perm.PROGRAMMES_MANAGE: frozenset({Role.PROGRAMME_OFFICER, Role.SUPERVISOR}),
    # Exports leave the authority: the partner liaison who answers for the agreement, and the supervisor.
    Perm.PATHWAYS_EXPORT: frozenset({Role.PARTNER_LIAISON, Role.SUPERVISOR}),
    Perm.STATISTICS_READ: frozenset({Role.STATISTICIAN, Role.SUPERVISOR}),
    # The auditor acts as the data protection officer: sees what retention would remove, answers subject access.
    Perm.PRIVACY_MANAGE: frozenset({Role.AUDITOR}),
}


def roles_for(perm: Perm) -> frozenset[Role]:
    return ROLE_PERMISSIONS[perm]


def allows(roles: frozenset[Role], perm: Perm) -> bool:
    return bool(roles & ROLE_PERMISSIONS[perm])
