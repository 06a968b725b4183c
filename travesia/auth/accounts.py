"""Use cases of user administration: create, read (audited), update, deactivate, reset a second factor."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.auth import repository
from travesia.auth import service as auth_service
from travesia.auth.schemas import StationRef, UserCreate, UserOut, UserUpdate
from travesia.auth.service import AuthContext, check_new_password
from travesia.core.db import utcnow
from travesia.core.errors import N_, Conflict, InvalidInput, NotFound
from travesia.core.principal import Principal, Role
from travesia.models import User
from travesia.stations import service as stations


def to_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=[Role(link.role) for link in user.roles],
        stations=[StationRef.model_validate(link.station) for link in user.stations],
        is_active=user.is_active,
        second_factor=user.totp_enabled_at is not None,
        created_at=user.created_at,
    )


def create_user(session: Session, ctx: AuthContext, principal: Principal, data: UserCreate) -> User:
    if repository.user_by_username(session, data.username) is not None:
        raise Conflict(N_("That user name is taken."), field="username")
    check_new_password(data.password, username=data.username, display_name=data.display_name)
    station_rows = stations.resolve_codes(session, data.stations)
    now = utcnow()
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=ctx.hasher.hash(data.password),
        password_changed_at=now,
        created_at=now,
    )
    repository.add_user(session, user, [role.value for role in data.roles], station_rows)
    audit.record(
        session,
        principal,
        "user.create",
        record_type="user",
        record_id=user.id,
        details={"roles": sorted(r.value for r in data.roles), "stations": [s.code for s in station_rows]},
    )
    return repository.reload_links(session, user)


def get_user(session: Session, principal: Principal, user_id: uuid.UUID, purpose: str | None = None) -> User:
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound(N_("No such user."), field="user_id")
    audit.record(session, principal, "user.read", record_type="user", record_id=user.id, purpose=purpose)
    return user


def list_users(session: Session, principal: Principal) -> list[User]:
    users = repository.list_users(session)
    audit.record(session, principal, "user.list", details={"count": len(users)})
    return users


def update_user(session: Session, principal: Principal, user_id: uuid.UUID, data: UserUpdate) -> User:
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound(N_("No such user."), field="user_id")
    changed = sorted(data.model_dump(exclude_unset=True))
    if user.id == principal.user_id and (data.is_active is False or (data.roles and Role.ADMIN not in data.roles)):
        raise InvalidInput(N_("You cannot deactivate yourself or remove your own admin role."), field="roles")
    if data.display_name is not None:
        user.display_name = data.display_name
    if data.roles is not None:
        repository.set_roles(session, user, [role.value for role in data.roles])
    if data.stations is not None:
        repository.set_stations(session, user, stations.resolve_codes(session, data.stations))
    if data.is_active is not None:
        user.is_active = data.is_active
        if not data.is_active:
            repository.revoke_user_sessions(session, user.id, utcnow())
    audit.record(session, principal, "user.update", record_type="user", record_id=user.id, details={"fields": changed})
    return repository.reload_links(session, user)


def reset_second_factor(session: Session, principal: Principal, user_id: uuid.UUID) -> User:
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound(N_("No such user."), field="user_id")
    auth_service.reset_second_factor(session, principal, user)
    return user


def user_for_principal(session: Session, principal: Principal) -> User:
    user = repository.user_by_id(session, principal.user_id) if principal.user_id else None
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def find_user(session: Session, username: str) -> User | None:
    return repository.user_by_username(session, username)


def _by_name(session: Session, username: str) -> User:
    user = repository.user_by_username(session, username)
    if user is None:
        raise NotFound(N_("No such user."), field="username")
    return user


def set_password(session: Session, ctx: AuthContext, principal: Principal, username: str, password: str) -> None:
    """An operator sets a password (account recovery); every session of the user ends."""
    user = _by_name(session, username)
    check_new_password(password, username=user.username, display_name=user.display_name)
    user.password_hash = ctx.hasher.hash(password)
    user.password_changed_at = utcnow()
    repository.revoke_user_sessions(session, user.id, utcnow())
    audit.record(session, principal, "user.password_set", record_type="user", record_id=user.id)


def reset_second_factor_by_name(session: Session, principal: Principal, username: str) -> None:
    auth_service.reset_second_factor(session, principal, _by_name(session, username))
