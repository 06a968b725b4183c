"""Accounts, their roles and stations, web sessions, API tokens and failed-login counters."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from travesia.models.base import Base, created_at, uuid_pk
from travesia.models.stations import Station


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = uuid_pk()
    username: Mapped[str] = mapped_column(String(64), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    password_changed_at: Mapped[datetime]
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)  # AES-GCM, see core.crypto
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]  # refuses a code replayed within its 30-second step
    locale: Mapped[str | None] = mapped_column(String(5))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at()

    roles: Mapped[list[UserRole]] = relationship(lazy="raise", cascade="all, delete-orphan", order_by="UserRole.role")
    stations: Mapped[list[UserStation]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="UserStation.position"
    )


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class UserStation(Base):
    __tablename__ = "user_stations"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    station_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)  # 0 = the user's home station

    station: Mapped[Station] = relationship(lazy="raise")


class WebSession(Base):
    """A browser session. The cookie holds a random token; we store only its SHA-256."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(24))  # 'second_factor', 'enrol_second_factor', 'full'
    station_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("stations.id"))
    created_at: Mapped[datetime] = created_at()
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (Index("ix_api_tokens_user", "user_id"),)

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists so a user can tell tokens apart
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class LoginFailure(Base):
    """One failed login or second-factor attempt. Keys are HMACs: people type passwords into the username
    field, and addresses are personal data, so neither is stored in clear."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_account", "account_key", "at"),
        Index("ix_login_failures_address", "address_key", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    account_key: Mapped[str] = mapped_column(String(64))
    address_key: Mapped[str] = mapped_column(String(64))
