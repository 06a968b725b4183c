"""Every route declares exactly one guard; anonymous callers and every role the guard does not name are refused.

The table of (method, path) -> guard is kept in route_permissions.txt beside this file, so a change of who may do
what shows up in review. Regenerate it with UPDATE_ROUTE_SNAPSHOT=1 after a deliberate change.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from travesia.auth import service
from travesia.auth.guards import SecondFactorStep
from travesia.core.guards import Guard, Public, Require, guards_of
from travesia.core.http import API_PREFIXES, CSRF_COOKIE, SESSION_COOKIE, csrf_token_for
from travesia.core.permissions import roles_for
from travesia.core.principal import Role

SNAPSHOT = Path(__file__).with_name("route_permissions.txt")
FRAMEWORK_PUBLIC = {
    ("GET", "/api/openapi.json"),
    ("GET", "/api/docs"),
    ("HEAD", "/api/openapi.json"),
    ("HEAD", "/api/docs"),
}
DENIED_TEXT = "No tiene permiso para hacer esto"


def route_table(app) -> list[tuple[str, str, Guard | None]]:
    rows = []
    for ctx in iter_route_contexts(app.routes):
        methods = ctx.methods or set()
        path = ctx.path
        if path is None or path.startswith("/static"):
            continue
        dependant = getattr(ctx, "dependant", None)
        for method in sorted(methods - {"HEAD"}):
            if dependant is None:
                assert (method, path) in FRAMEWORK_PUBLIC, f"{method} {path} is not a FastAPI route"
                continue
            guards = guards_of(dependant)
            # The same guard instance may be reached twice through shared sub-dependencies; count distinct.
            distinct = list({id(g): g for g in guards}.values())
            assert len(distinct) == 1, f"{method} {path} has {len(distinct)} guards; it needs exactly one"
            rows.append((method, path, distinct[0]))
    return rows


def test_every_route_has_exactly_one_guard_and_matches_the_snapshot(app):
    rows = route_table(app)
    assert len(rows) >= 35, f"only {len(rows)} routes walked: the walk is broken"
    text = "".join(f"{m} {p} -> {g.describe()}\n" for m, p, g in sorted(rows, key=lambda r: (r[1], r[0])))
    if os.environ.get("UPDATE_ROUTE_SNAPSHOT"):
        SNAPSHOT.write_text(text)
    assert text == SNAPSHOT.read_text(), "route permissions changed: review, then UPDATE_ROUTE_SNAPSHOT=1"


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "en" if m.group(0) == "{code}" else str(uuid.uuid4()), path)


@pytest.fixture
def personas(make_user, session, auth_ctx, station):
    """One account per role, each with a live page session and an API token (made directly: no TOTP dance)."""
    result = {}
    for role in Role:
        user = make_user(f"persona.{role.value}", role)
        cookie, _ = service._new_web_session(session, auth_ctx, user, service.STAGE_FULL, station_id=None)
        principal = service.principal_for(user, station_id=None, via="session", credential_id=None)
        _, token = service.create_token(session, auth_ctx, principal, "rbac", 1)
        result[role] = (cookie, token)
    session.commit()
    return result


def call(client: TestClient, settings, method: str, path: str, cookie: str | None = None, token: str | None = None):
    client.cookies.clear()
    client.cookies.set(CSRF_COOKIE, "c" * 43)
    headers = {"X-CSRF-Token": csrf_token_for(settings, "c" * 43)}
    if cookie:
        client.cookies.set(SESSION_COOKIE, cookie)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.request(method, path, headers=headers)


def test_anonymous_callers_are_refused(app, client, settings):
    checked = 0
    for method, path, guard in route_table(app):
        if isinstance(guard, Public):
            continue
        response = call(client, settings, method, concrete(path))
        if path.startswith(API_PREFIXES):
            assert response.status_code == 401, f"{method} {path}: {response.status_code}"
        else:
            assert response.status_code == 303, f"{method} {path}: {response.status_code}"
            assert response.headers["location"].startswith("/login"), f"{method} {path}"
        checked += 1
    assert checked >= 30


def test_roles_not_named_are_refused_and_named_roles_pass(app, client, settings, personas):
    refused = allowed = 0
    for method, path, guard in route_table(app):
        if not isinstance(guard, Require):
            continue
        permitted = roles_for(guard.permission)
        for role, (cookie, token) in personas.items():
            api = path.startswith(API_PREFIXES)
            response = call(
                client,
                settings,
                method,
                concrete(path),
                cookie=None if api else cookie,
                token=token if api else None,
            )
            where = f"{method} {path} as {role}: {response.status_code}"
            if role in permitted:
                to_login = response.status_code == 303 and response.headers["location"].startswith("/login")
                assert response.status_code != 401 and not to_login and response.status_code < 500, where
                assert DENIED_TEXT not in response.text and "do not have permission" not in response.text, where
                allowed += 1
            else:
                assert response.status_code == 403, where
                refused += 1
    assert refused > 50 and allowed > 50


def test_pending_second_factor_routes_refuse_full_sessions(app, client, settings, personas):
    cookie, _ = personas[Role.ADMIN]
    for method, path, guard in route_table(app):
        if isinstance(guard, SecondFactorStep):
            response = call(client, settings, method, path, cookie=cookie)
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), f"{method} {path}"
