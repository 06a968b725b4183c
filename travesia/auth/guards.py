"""How callers are authenticated: pages with the session cookie, ``/api/`` routes with a bearer token; never the
other way round, so the API needs no CSRF token and a page cannot be driven by a leaked API token.

``authenticate`` is plugged into the application as ``app.state.authenticate`` for core's ``Require`` guard.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.orm import Session

from travesia.auth import service
from travesia.auth.service import STAGE_ENROL, STAGE_FULL, STAGE_SECOND_FACTOR, AuthContext
from travesia.core.guards import Guard, NotAuthenticated
from travesia.core.http import SESSION_COOKIE, DbSession, is_api
from travesia.core.principal import Principal
from travesia.models import User, WebSession


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
