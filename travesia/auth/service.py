"""Authentication use cases: password login with rate limits, second factor (TOTP), web sessions, API tokens.

Services never commit; every outcome that matters (including refusals) is audited in the caller's transaction.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.auth import repository
from travesia.auth.passwords import Hasher, password_problems
from travesia.core.crypto import Keyring, keyed_digest, token_digest
from travesia.core.db import utcnow
from travesia.core.errors import N_, Forbidden, InvalidInput, NotFound, TooManyAttempts
from travesia.core.principal import ROLES_REQUIRING_TOTP, Principal, Role
from travesia.core.settings import Settings
from travesia.models import ApiToken, User, WebSession

STAGE_FULL = "full"
STAGE_SECOND_FACTOR = "second_factor"
STAGE_ENROL = "enrol_second_factor"
TOKEN_PREFIX = "trv_"  # noqa: S105 - a marker, not a secret
TOTP_ISSUER = "Travesía"
TOUCH_EVERY = timedelta(seconds=60)  # write last-seen at most once a minute per session


@dataclass(frozen=True)
class AuthContext:
    """What authentication needs from the application: settings, the password hasher and the keyring."""

    settings: Settings
    hasher: Hasher
    keyring: Keyring


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    session_token: str | None = None
    stage: str | None = None
    locked: bool = False


def anonymous(via: str = "session") -> Principal:
    return Principal(user_id=None, username="anonymous", roles=frozenset(), via=via)


def principal_for(user: User, *, station_id: uuid.UUID | None, via: str, credential_id: str | None) -> Principal:
    stations = {link.station_id: link.station for link in user.stations}
    active = station_id if station_id in stations else (user.stations[0].station_id if user.stations else None)
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=frozenset(Role(link.role) for link in user.roles),
        station_id=active,
        station_code=stations[active].code if active else None,
        station_ids=frozenset(stations),
        via=via,
        credential_id=credential_id,
    )


def requires_second_factor(user: User) -> bool:
    return any(Role(link.role) in ROLES_REQUIRING_TOTP for link in user.roles)


# -- login ----------------------------------------------------------------------------------------------------
def _keys(ctx: AuthContext, username: str, address: str) -> tuple[str, str]:
    secret = ctx.settings.secret
    return (
        keyed_digest(secret, "login-account", username.strip().lower()),
        keyed_digest(secret, "login-address", address),
    )


def _rate_limited(session: Session, ctx: AuthContext, account_key: str, address_key: str) -> bool:
    since = utcnow() - timedelta(minutes=ctx.settings.login_window_minutes)
    by_account, by_address = repository.failures_since(session, since, account_key=account_key, address_key=address_key)
    return (
        by_account >= ctx.settings.login_max_failures_account or by_address >= ctx.settings.login_max_failures_address
    )


def login(session: Session, ctx: AuthContext, username: str, password: str, address: str) -> LoginResult:
    account_key, address_key = _keys(ctx, username, address)
    if _rate_limited(session, ctx, account_key, address_key):
        audit.record(session, anonymous(), "auth.login", outcome="refused", details={"reason": "rate_limited"})
        return LoginResult(ok=False, locked=True)
    user = repository.user_by_username(session, username)
    valid = ctx.hasher.verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.is_active:
        repository.add_failure(session, utcnow(), account_key, address_key)
        repository.prune_failures(session, utcnow() - timedelta(days=1))
        actor = principal_for(user, station_id=None, via="session", credential_id=None) if user else anonymous()
        reason = "inactive" if user is not None and valid else "bad_credentials"
        audit.record(session, actor, "auth.login", outcome="failed", details={"reason": reason})
        return LoginResult(ok=False)
    if ctx.hasher.needs_rehash(user.password_hash):
        user.password_hash = ctx.hasher.hash(password)
    repository.clear_account_failures(session, account_key)
    repository.delete_expired_sessions(session, utcnow())
    if user.totp_enabled_at is not None:
        stage = STAGE_SECOND_FACTOR
    elif requires_second_factor(user):
        stage = STAGE_ENROL
    else:
        stage = STAGE_FULL
    token, web_session = _new_web_session(session, ctx, user, stage, station_id=None)
    principal = principal_for(user, station_id=web_session.station_id, via="session", credential_id=None)
    audit.record(session, principal, "auth.login", details={"stage": stage})
    return LoginResult(ok=True, session_token=token, stage=stage)


def _new_web_session(
    session: Session, ctx: AuthContext, user: User, stage: str, station_id: uuid.UUID | None
) -> tuple[str, WebSession]:
    now = utcnow()
    token = secrets.token_urlsafe(32)
    home = user.stations[0].station_id if user.stations else None
    web_session = WebSession(
        token_hash=token_digest(token),
        user_id=user.id,
        stage=stage,
        station_id=station_id or home,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=ctx.settings.session_hours),
    )
    repository.add_web_session(session, web_session)
    return token, web_session


def session_from_cookie(session: Session, ctx: AuthContext, token: str | None) -> tuple[WebSession, User] | None:
    """The live session and active user behind a cookie, or None if it is unknown, revoked, expired or idle."""
    if not token or len(token) > 128:
        return None
    web_session = repository.web_session_by_hash(session, token_digest(token))
    if web_session is None or web_session.revoked_at is not None:
        return None
    now = utcnow()
    idle_limit = web_session.last_seen_at + timedelta(minutes=ctx.settings.session_idle_minutes)
    if now >= web_session.expires_at or now >= idle_limit:
        return None
    user = repository.user_by_id(session, web_session.user_id)
    if user is None or not user.is_active:
        return None
    if now - web_session.last_seen_at > TOUCH_EVERY:
        web_session.last_seen_at = now
    return web_session, user


def logout(session: Session, ctx: AuthContext, token: str | None) -> None:
    found = session_from_cookie(session, ctx, token)
    if found is None:
        return
    web_session, user = found
    web_session.revoked_at = utcnow()
    principal = principal_for(user, station_id=web_session.station_id, via="session", credential_id=None)
    audit.record(session, principal, "auth.logout")


def switch_station(session: Session, principal: Principal, web_session: WebSession, station_id: uuid.UUID) -> None:
    if station_id not in principal.station_ids:
        raise Forbidden(N_("You are not assigned to that station."), field="station_id")
    web_session.station_id = station_id
    audit.record(session, principal, "auth.switch_station", record_type="station", record_id=station_id)


# -- second factor ----------------------------------------------------------------------------------------------
def _totp_context(user: User) -> bytes:
    return b"totp:" + user.id.bytes


def _totp(ctx: AuthContext, user: User) -> pyotp.TOTP:
    if user.totp_secret is None:
        raise InvalidInput(N_("No second factor is being set up."), field="code")
    secret = ctx.keyring.decrypt(user.totp_secret, context=_totp_context(user)).decode()
    return pyotp.TOTP(secret)


def _accept_code(ctx: AuthContext, user: User, code: str) -> bool:
    """A valid code for the current step or one step either side (clock drift), never reused."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    totp = _totp(ctx, user)
    now_step = int(utcnow().timestamp()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if secrets.compare_digest(totp.generate_otp(step), code) and step > (user.totp_last_step or -1):
            user.totp_last_step = step
            return True
    return False


def start_enrolment(session: Session, ctx: AuthContext, user: User) -> str:
    """Create (or keep) a pending TOTP secret; return the otpauth:// URI the authenticator app scans."""
    if user.totp_enabled_at is not None:
        raise InvalidInput(N_("A second factor is already active."), field="code")
    if user.totp_secret is None:
        user.totp_secret = ctx.keyring.encrypt(pyotp.random_base32().encode(), context=_totp_context(user))
        session.flush()
    return _totp(ctx, user).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def confirm_enrolment(session: Session, ctx: AuthContext, principal: Principal, user: User, code: str) -> None:
    if user.totp_enabled_at is not None:
        raise InvalidInput(N_("A second factor is already active."), field="code")
    if not _accept_code(ctx, user, code):
        audit.record(session, principal, "auth.second_factor_enrol", outcome="failed")
        raise InvalidInput(N_("That code is not valid. Check the time on your device and try again."), field="code")
    user.totp_enabled_at = utcnow()
    audit.record(session, principal, "auth.second_factor_enrol", record_type="user", record_id=user.id)


def complete_second_factor(
    session: Session, ctx: AuthContext, web_session: WebSession, user: User, code: str, address: str
) -> str:
    """Check the code for a session waiting for it; on success return a fresh session token (the old one is
    revoked, so a token seen before the second factor is worth nothing after it)."""
    principal = principal_for(user, station_id=web_session.station_id, via="session", credential_id=None)
    account_key, address_key = _keys(ctx, user.username, address)
    if _rate_limited(session, ctx, account_key, address_key):
        audit.record(session, principal, "auth.second_factor", outcome="refused", details={"reason": "rate_limited"})
        raise TooManyAttempts(N_("Too many failed attempts. Wait a few minutes and try again."))
    if web_session.stage == STAGE_ENROL:
        confirm_enrolment(session, ctx, principal, user, code)
    elif not _accept_code(ctx, user, code):
        repository.add_failure(session, utcnow(), account_key, address_key)
        audit.record(session, principal, "auth.second_factor", outcome="failed")
        raise InvalidInput(N_("That code is not valid. Check the time on your device and try again."), field="code")
    else:
        audit.record(session, principal, "auth.second_factor")
    web_session.revoked_at = utcnow()
    token, _ = _new_web_session(session, ctx, user, STAGE_FULL, station_id=web_session.station_id)
    return token


def reset_second_factor(session: Session, principal: Principal, user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    repository.revoke_user_sessions(session, user.id, utcnow())
    audit.record(session, principal, "user.second_factor_reset", record_type="user", record_id=user.id)


# -- passwords ---------------------------------------------------------------------------------------------------
def check_new_password(password: str, *, username: str, display_name: str, field: str = "password") -> None:
    problems = password_problems(password, context_words=(username, *display_name.split(), "travesia"))
    if problems:
        raise InvalidInput(problems[0], field=field)


def change_password(
    session: Session, ctx: AuthContext, principal: Principal, user: User, current: str, new: str
) -> None:
    if not ctx.hasher.verify(user.password_hash, current):
        audit.record(session, principal, "auth.password_change", outcome="failed")
        raise InvalidInput(N_("The current password is not correct."), field="current_password")
    check_new_password(new, username=user.username, display_name=user.display_name, field="new_password")
    user.password_hash = ctx.hasher.hash(new)
    user.password_changed_at = utcnow()
    keep = principal.credential_id if principal.via == "session" else None
    repository.revoke_user_sessions(session, user.id, utcnow(), keep=keep)
    audit.record(session, principal, "auth.password_change", record_type="user", record_id=user.id)


# -- API tokens --------------------------------------------------------------------------------------------------
def create_token(
    session: Session, ctx: AuthContext, principal: Principal, name: str, days: int
) -> tuple[ApiToken, str]:
    if principal.user_id is None:
        raise Forbidden(N_("Only user accounts can hold API tokens."))
    if days > ctx.settings.token_max_days:
        raise InvalidInput(
            N_("A token may last at most %(days)s days."), field="days", days=ctx.settings.token_max_days
        )
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=principal.user_id,
        name=name,
        token_hash=token_digest(plaintext),
        prefix=plaintext[:10],
        expires_at=utcnow() + timedelta(days=days),
    )
    repository.add_token(session, token)
    audit.record(session, principal, "token.create", record_type="api_token", record_id=token.id)
    return token, plaintext


def principal_from_token(session: Session, token: str | None) -> Principal | None:
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 128:
        return None
    row = repository.token_by_hash(session, token_digest(token))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = repository.user_by_id(session, row.user_id)
    if user is None or not user.is_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
    return principal_for(user, station_id=None, via="token", credential_id=str(row.id))


def list_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    return repository.tokens_of(session, principal.user_id) if principal.user_id else []


def revoke_token(session: Session, principal: Principal, token_id: uuid.UUID) -> ApiToken:
    token = repository.token_of(session, principal.user_id, token_id) if principal.user_id else None
    if token is None:
        raise NotFound(N_("No such token."), field="token_id")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, principal, "token.revoke", record_type="api_token", record_id=token.id)
    return token
