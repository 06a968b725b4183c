"""The only SQL of accounts, sessions, tokens and login counters."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from travesia.models import ApiToken, LoginFailure, Station, User, UserRole, UserStation, WebSession


def _with_links():
    return (selectinload(User.roles), selectinload(User.stations).selectinload(UserStation.station))


def _joined_links():
    # One round trip for the hot path (every authenticated request) instead of three.
    return (joinedload(User.roles), joinedload(User.stations).joinedload(UserStation.station))


def user_by_username(session: Session, username: str) -> User | None:
    return session.execute(
        select(User).where(User.username == username.strip().lower()).options(*_with_links())
    ).scalar_one_or_none()


def user_by_id(session: Session, user_id: uuid.UUID) -> User | None:
    stmt = select(User).where(User.id == user_id).options(*_joined_links())
    return session.execute(stmt).unique().scalar_one_or_none()


def list_users(session: Session, *, limit: int = 500, offset: int = 0) -> list[User]:
    stmt = select(User).order_by(User.username).limit(limit).offset(offset).options(*_with_links())
    return list(session.execute(stmt).scalars())


def add_user(session: Session, user: User, roles: list[str], stations: list[Station]) -> User:
    session.add(user)
    session.flush()
    set_roles(session, user, roles)
    set_stations(session, user, stations)
    return user


def set_roles(session: Session, user: User, roles: list[str]) -> None:
    session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    session.add_all(UserRole(user_id=user.id, role=role) for role in dict.fromkeys(roles))
    session.flush()
    session.expire(user, ["roles"])


def set_stations(session: Session, user: User, stations: list[Station]) -> None:
    session.execute(delete(UserStation).where(UserStation.user_id == user.id))
    session.add_all(
        UserStation(user_id=user.id, station_id=station.id, position=index)
        for index, station in enumerate(dict.fromkeys(stations))
    )
    session.flush()
    session.expire(user, ["stations"])


def reload_links(session: Session, user: User) -> User:
    refreshed = user_by_id(session, user.id)
    assert refreshed is not None
    return refreshed


# -- web sessions ---------------------------------------------------------------------------------------------
def add_web_session(session: Session, web_session: WebSession) -> None:
    session.add(web_session)
    session.flush()


def web_session_by_hash(session: Session, token_hash: str) -> WebSession | None:
    return session.get(WebSession, token_hash)


def revoke_user_sessions(session: Session, user_id: uuid.UUID, now: datetime, keep: str | None = None) -> None:
    rows = session.execute(
        select(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    ).scalars()
    for row in rows:
        if row.token_hash != keep:
            row.revoked_at = now


def delete_expired_sessions(session: Session, now: datetime) -> int:
    result = session.execute(delete(WebSession).where(WebSession.expires_at < now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- API tokens -----------------------------------------------------------------------------------------------
def add_token(session: Session, token: ApiToken) -> None:
    session.add(token)
    session.flush()


def token_by_hash(session: Session, token_hash: str) -> ApiToken | None:
    return session.execute(select(ApiToken).where(ApiToken.token_hash == token_hash)).scalar_one_or_none()


def tokens_of(session: Session, user_id: uuid.UUID) -> list[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
    return list(session.execute(stmt).scalars())


def token_of(session: Session, user_id: uuid.UUID, token_id: uuid.UUID) -> ApiToken | None:
    stmt = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.id == token_id)
    return session.execute(stmt).scalar_one_or_none()


# -- failed logins ---------------------------------------------------------------------------------------------
def add_failure(session: Session, at: datetime, account_key: str, address_key: str) -> None:
    session.add(LoginFailure(at=at, account_key=account_key, address_key=address_key))
    session.flush()


def failures_since(session: Session, since: datetime, *, account_key: str, address_key: str) -> tuple[int, int]:
    by_account = session.execute(
        select(func.count()).where(LoginFailure.account_key == account_key, LoginFailure.at >= since)
    ).scalar_one()
    by_address = session.execute(
        select(func.count()).where(LoginFailure.address_key == address_key, LoginFailure.at >= since)
    ).scalar_one()
    return int(by_account), int(by_address)


def clear_account_failures(session: Session, account_key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.account_key == account_key))


def prune_failures(session: Session, before: datetime) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.at < before))
