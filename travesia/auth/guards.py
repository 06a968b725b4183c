"""Route guards: every route declares exactly one, in its signature — ``Public()``, ``Require(Perm.X)`` or
``SecondFactorStep()``. A test walks the route table and checks each route against the permission table.

Pages authenticate with the session cookie, ``/api/`` routes with a bearer token; never the other way round,
so the API needs no CSRF token and a page cannot be driven by a leaked API token.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from travesia.auth import service
from travesia.auth.service import STAGE_ENROL, STAGE_FULL, STAGE_SECOND_FACTOR, AuthContext
from travesia.core.http import SESSION_COOKIE, DbSession, is_api
from travesia.core.logging import get_logger
from travesia.core.permissions import Perm, allows, roles_for
from travesia.core.principal import Principal
from travesia.models import User, WebSession

log = get_logger("travesia.auth")


class NotAuthenticated(Exception):
    """401 for the API; for pages, a redirect to the login page or to the pending second-factor step."""

    def __init__(self, redirect_to: str = "/login") -> None:
        super().__init__(redirect_to)
        self.redirect_to = redirect_to


class PermissionDenied(Exception):
    """403: authenticated, but no role of the caller holds the route's permission."""


@dataclass
class PendingLogin:
    web_session: WebSession
    user: User


def auth_context(request: Request) -> AuthContext:
    return request.app.state.auth


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value else None


def authenticate(request: Request, session: Session) -> Principal:
    if is_api(request):
        principal = service.principal_from_token(session, _bearer(request))
        if principal is None:
            raise NotAuthenticated()
        request.state.principal = principal
        return principal
    found = service.session_from_cookie(session, auth_context(request), request.cookies.get(SESSION_COOKIE))
    if found is None:
        raise NotAuthenticated()
    web_session, user = found
    if web_session.stage == STAGE_SECOND_FACTOR:
        raise NotAuthenticated("/login/second-factor")
    if web_session.stage == STAGE_ENROL:
        raise NotAuthenticated("/login/second-factor/setup")
    if web_session.stage != STAGE_FULL:
        raise NotAuthenticated()
    principal = service.principal_for(
        user, station_id=web_session.station_id, via="session", credential_id=web_session.token_hash
    )
    request.state.principal = principal
    request.state.web_session = web_session
    return principal


class Guard:
    """Base class, so the route-table test can find every route's guard among its dependencies."""

    permission: Perm | None = None

    def describe(self) -> str:
        raise NotImplementedError


class Public(Guard):
    def __call__(self) -> None:
        return None

    def describe(self) -> str:
        return "public"


class Require(Guard):
    def __init__(self, permission: Perm) -> None:
        self.permission = permission

    def __call__(self, request: Request, session: DbSession) -> Principal:
        principal = authenticate(request, session)
        if not allows(principal.roles, self.permission):  # type: ignore[arg-type]
            log.warning("permission denied", extra={"user_id": str(principal.user_id), "perm": self.permission})
            raise PermissionDenied()
        return principal

    def describe(self) -> str:
        roles = ",".join(sorted(roles_for(self.permission)))  # type: ignore[arg-type]
        return f"{self.permission} [{roles}]"


class SecondFactorStep(Guard):
    """Only a browser session that passed the password and now owes its second factor (or its enrolment)."""

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def __call__(self, request: Request, session: DbSession) -> PendingLogin:
        found = service.session_from_cookie(session, auth_context(request), request.cookies.get(SESSION_COOKIE))
        if found is None or found[0].stage != self.stage:
            raise NotAuthenticated()
        return PendingLogin(web_session=found[0], user=found[1])

    def describe(self) -> str:
        return f"pending:{self.stage}"
