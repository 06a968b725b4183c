"""HTTP plumbing every domain's routes share: the per-request database session, client address, locale,
CSRF tokens, and one pure-ASGI middleware for request ids, security headers and request logs."""

from __future__ import annotations

import hmac
import json
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from travesia.core.crypto import keyed_digest
from travesia.core.db import Database, after_commit
from travesia.core.errors import N_
from travesia.core.i18n import gettext_for, negotiate
from travesia.core.logging import get_logger
from travesia.core.settings import Settings

SESSION_COOKIE = "travesia_session"
CSRF_COOKIE = "travesia_csrf"
LANG_COOKIE = "travesia_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

log = get_logger("travesia.http")


def get_db_session(request: Request) -> Iterator[Session]:
    """One unit of work per request, committed after the route returns and before the response is sent
    (the dependency is declared with scope="function"), so an answered write is durable. Lazy: authenticating,
    validating and reading hold no lock; the write lock is taken at the first write (core.db)."""
    db: Database = request.app.state.db
    with db.transaction(lazy=True) as session:
        yield session


DbSession = Annotated[Session, Depends(get_db_session, scope="function")]


def enqueue_after_commit(request: Request, session: Session, job: str, *args: str) -> None:
    """Background work by name (``process_due``, ``rescreen``, ``export``), enqueued for the worker processes once
    the request's transaction has committed, so the worker finds what the request stored."""
    pipeline = request.app.state.pipeline
    after_commit(session, lambda: pipeline.enqueue(job, *args))


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


API_PREFIXES = ("/api/", "/match/")  # /match/{dataset} sits where yente's clients expect it


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


def csrf_token_for(settings: Settings, cookie_value: str) -> str:
    return keyed_digest(settings.secret, "csrf", cookie_value)


def csrf_token(request: Request) -> str:
    return csrf_token_for(settings_of(request), request.state.csrf_cookie)


async def verify_csrf(request: Request) -> None:
    """Signed double-submit cookie: unsafe requests from pages carry HMAC(secret, csrf cookie) in a form field
    or header. A cross-site form cannot read the cookie, so it cannot forge the token."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    cookie = request.cookies.get(CSRF_COOKIE)
    expected = csrf_token_for(settings_of(request), cookie) if cookie else None
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfRefused()


class CsrfRefused(Exception):
    """Rendered as 403 by the application's handler."""


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        b"frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    ),
]


class RequestContextMiddleware:
    """Request id, locale and CSRF cookie on the way in; security headers and one JSON log line on the way out.
    The log names the route template (``/api/v1/users/{user_id}``), never the raw path or query string."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        cookies = _cookies(scope)
        state = scope.setdefault("state", {})
        request_id = secrets.token_hex(8)
        state["request_id"] = request_id
        # Pages are Spanish first whatever the browser prefers (the authority's language; English by the switch);
        # API clients choose with Accept-Language.
        accept = _header(scope, b"accept-language") if scope["path"].startswith("/api/") else None
        state["locale"] = negotiate(cookies.get(LANG_COOKIE), accept, self.settings.default_locale)
        new_csrf = CSRF_COOKIE not in cookies
        state["csrf_cookie"] = secrets.token_urlsafe(32) if new_csrf else cookies[CSRF_COOKIE]
        status_holder: dict[str, int] = {}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                headers.extend(SECURITY_HEADERS)
                if not scope["path"].startswith("/static/") and not any(k == b"cache-control" for k, _ in headers):
                    # Pages and API answers carry personal data: no browser or proxy keeps a copy.
                    headers.append((b"cache-control", b"no-store"))
                if self.settings.cookie_secure:
                    headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
                if new_csrf and not scope["path"].startswith(("/api/", "/static/")):
                    headers.append((b"set-cookie", self._csrf_cookie(state["csrf_cookie"])))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "route": getattr(route, "path", "unmatched"),
                    "status": status_holder.get("status", 500),
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )

    def _csrf_cookie(self, value: str) -> bytes:
        secure = "; Secure" if self.settings.cookie_secure else ""
        return f"{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}".encode()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookies(scope: Scope) -> dict[str, Any]:
    raw = _header(scope, b"cookie")
    if not raw:
        return {}
    result = {}
    for part in raw.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            result[name] = value
    return result


class BodyTooLarge(Exception):
    """Raised into the application when a request body passes its route's limit (the middleware answers 413)."""


TOO_LARGE = N_("The request is larger than %(size)s MB, the most this address takes.")


class BodyLimitMiddleware:
    """Request bodies counted as they arrive, chunked or not: past the route's limit nothing more is read and the
    answer is 413, whatever the application was doing with the body. ``limits`` pairs a path pattern with its
    limit in bytes (first match wins); other paths take ``default``. A declared Content-Length over the limit is
    refused before the body is read at all."""

    def __init__(self, app: ASGIApp, limits: Sequence[tuple[str, int]], default: int) -> None:
        self.app = app
        self.limits = [(re.compile(pattern), limit) for pattern, limit in limits]
        self.default = default

    def limit_for(self, path: str) -> int:
        return next((limit for pattern, limit in self.limits if pattern.fullmatch(path)), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        state = {"read": 0, "over": False, "started": False}

        async def counted_receive() -> Message:
            if state["over"]:
                raise BodyTooLarge()
            message = await receive()
            if message["type"] == "http.request":
                state["read"] += len(message.get("body", b""))
                if state["read"] > limit:
                    state["over"] = True
                    raise BodyTooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            if state["over"]:
                return  # the application's own answer to the cut body (400, 422, 500) is replaced by the 413
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not state["over"]:
                raise
        if state["over"] and not state["started"]:
            await self._refuse(scope, send, limit)

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        locale = scope.get("state", {}).get("locale", "es")
        message = gettext_for(locale)(TOO_LARGE, size=max(1, limit // (1024 * 1024)))
        if scope["path"].startswith(API_PREFIXES):
            detail = [{"loc": ["body"], "msg": message, "type": "too_large"}]
            body, kind = json.dumps({"detail": detail}).encode(), b"application/json"
        else:
            body, kind = f"<!doctype html><title>413</title><p>{message}</p>".encode(), b"text/html; charset=utf-8"
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
