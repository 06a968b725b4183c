"""Pages of signing in and out, the second factor, and the user's own account."""

from __future__ import annotations

import uuid
from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from travesia.auth import accounts, service
from travesia.auth.guards import PendingLogin, SecondFactorStep, auth_context
from travesia.auth.schemas import TokenCreate
from travesia.auth.service import STAGE_ENROL, STAGE_FULL, STAGE_SECOND_FACTOR
from travesia.core.errors import N_, DomainError
from travesia.core.guards import Public, Require
from travesia.core.http import SESSION_COOKIE, DbSession, client_address, settings_of, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal
from travesia.core.templating import render
from travesia.core.validation import field_errors

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)

PublicRoute = Annotated[None, Depends(Public())]
Self = Annotated[Principal, Depends(Require(Perm.ACCOUNT_SELF))]
MAX_FORM = 1024


def safe_next(target: str | None) -> str:
    """Only local paths: an attacker's link must not send a fresh login to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _t(request: Request):
    return gettext_for(request.state.locale)


def _with_session_cookie(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=settings_of(request).cookie_secure,
        samesite="lax",
        path="/",
        max_age=int(settings_of(request).session_hours * 3600),
    )
    return response


@router.get("/login")
def login_page(request: Request, _: PublicRoute, next: str = "/") -> Response:
    return render(request, "auth/login.html", {"next": safe_next(next), "username": ""})


@router.post("/login")
def login_submit(
    request: Request,
    session: DbSession,
    _: PublicRoute,
    username: Annotated[str, Form(max_length=MAX_FORM)] = "",
    password: Annotated[str, Form(max_length=MAX_FORM)] = "",
    next: Annotated[str, Form(max_length=MAX_FORM)] = "/",
) -> Response:
    result = service.login(session, auth_context(request), username, password, client_address(request))
    context = {"next": safe_next(next), "username": username}
    if result.locked:
        context["error"] = _t(request)(N_("Too many failed attempts. Wait a few minutes and try again."))
        return render(request, "auth/login.html", context, status_code=429)
    if not result.ok:
        context["error"] = _t(request)(N_("The user name or password is not correct."))
        return render(request, "auth/login.html", context, status_code=401)
    target = {
        STAGE_FULL: safe_next(next),
        STAGE_SECOND_FACTOR: "/login/second-factor",
        STAGE_ENROL: "/login/second-factor/setup",
    }[result.stage or STAGE_FULL]
    return _with_session_cookie(request, RedirectResponse(target, status_code=303), result.session_token or "")


@router.post("/logout")
def logout(request: Request, session: DbSession, _: PublicRoute) -> Response:
    service.logout(session, auth_context(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- second factor at login ------------------------------------------------------------------------------------
@router.get("/login/second-factor")
def second_factor_page(
    request: Request, _: Annotated[PendingLogin, Depends(SecondFactorStep(STAGE_SECOND_FACTOR))]
) -> Response:
    return render(request, "auth/second_factor.html", {"action": "/login/second-factor"})


@router.post("/login/second-factor")
def second_factor_submit(
    request: Request,
    session: DbSession,
    pending: Annotated[PendingLogin, Depends(SecondFactorStep(STAGE_SECOND_FACTOR))],
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    return _finish_second_factor(request, session, pending, code, "auth/second_factor.html", {})


@router.get("/login/second-factor/setup")
def second_factor_setup_page(
    request: Request,
    session: DbSession,
    pending: Annotated[PendingLogin, Depends(SecondFactorStep(STAGE_ENROL))],
) -> Response:
    return render(request, "auth/second_factor_setup.html", _enrolment(request, session, pending.user))


@router.post("/login/second-factor/setup")
def second_factor_setup_submit(
    request: Request,
    session: DbSession,
    pending: Annotated[PendingLogin, Depends(SecondFactorStep(STAGE_ENROL))],
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    context = _enrolment(request, session, pending.user)
    return _finish_second_factor(request, session, pending, code, "auth/second_factor_setup.html", context)


def _finish_second_factor(
    request: Request, session: DbSession, pending: PendingLogin, code: str, template: str, context: dict
) -> Response:
    ctx = auth_context(request)
    try:
        token = service.complete_second_factor(
            session, ctx, pending.web_session, pending.user, code, client_address(request)
        )
    except DomainError as error:
        context.update({"errors": field_errors(error, _t(request)), "action": request.url.path})
        return render(request, template, context, status_code=error.status_code)
    return _with_session_cookie(request, RedirectResponse("/", status_code=303), token)


def _enrolment(request: Request, session: DbSession, user: object) -> dict:
    uri = service.start_enrolment(session, auth_context(request), user)  # type: ignore[arg-type]
    qr = segno.make(uri, error="m")
    secret = uri.split("secret=")[1].split("&")[0]
    return {"qr_svg": qr.svg_data_uri(scale=5), "secret": secret, "action": request.url.path}


# -- own account -----------------------------------------------------------------------------------------------
def _account_page(request: Request, session: DbSession, principal: Principal, **extra: object) -> Response:
    user = accounts.user_for_principal(session, principal)
    context = {
        "user": accounts.to_out(user),
        "tokens": service.list_tokens(session, principal),
        "max_days": settings_of(request).token_max_days,
        **extra,
    }
    status = 422 if extra.get("errors") else 200
    return render(request, "auth/account.html", context, status_code=status)


@router.get("/account")
def account(request: Request, session: DbSession, principal: Self) -> Response:
    return _account_page(request, session, principal)


@router.post("/account/password")
def change_password(
    request: Request,
    session: DbSession,
    principal: Self,
    current_password: Annotated[str, Form(max_length=MAX_FORM)] = "",
    new_password: Annotated[str, Form(max_length=MAX_FORM)] = "",
) -> Response:
    user = accounts.user_for_principal(session, principal)
    try:
        service.change_password(session, auth_context(request), principal, user, current_password, new_password)
    except DomainError as error:
        return _account_page(request, session, principal, errors=field_errors(error, _t(request)))
    return _account_page(request, session, principal, notice=_t(request)(N_("Your password was changed.")))


@router.post("/account/station")
def switch_station(
    request: Request, session: DbSession, principal: Self, station_id: Annotated[uuid.UUID, Form()]
) -> Response:
    service.switch_station(session, principal, request.state.web_session, station_id)
    return RedirectResponse("/", status_code=303)


@router.post("/account/tokens")
def create_token(
    request: Request,
    session: DbSession,
    principal: Self,
    name: Annotated[str, Form(max_length=MAX_FORM)] = "",
    days: Annotated[str, Form(max_length=10)] = "30",
) -> Response:
    try:
        data = TokenCreate(name=name, days=days)  # type: ignore[arg-type]
        _, plaintext = service.create_token(session, auth_context(request), principal, data.name, data.days)
    except (DomainError, ValidationError) as error:
        return _account_page(request, session, principal, errors=field_errors(error, _t(request)))
    return _account_page(request, session, principal, new_token=plaintext)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, session: DbSession, principal: Self, token_id: uuid.UUID) -> Response:
    service.revoke_token(session, principal, token_id)
    return RedirectResponse("/account", status_code=303)


@router.get("/account/second-factor")
def own_second_factor_page(request: Request, session: DbSession, principal: Self) -> Response:
    user = accounts.user_for_principal(session, principal)
    if user.totp_enabled_at is not None:
        return RedirectResponse("/account", status_code=303)
    return render(request, "auth/second_factor_setup.html", _enrolment(request, session, user))


@router.post("/account/second-factor")
def own_second_factor_submit(
    request: Request, session: DbSession, principal: Self, code: Annotated[str, Form(max_length=20)] = ""
) -> Response:
    user = accounts.user_for_principal(session, principal)
    try:
        service.confirm_enrolment(session, auth_context(request), principal, user, code)
    except DomainError as error:
        context = _enrolment(request, session, user) | {"errors": field_errors(error, _t(request))}
        return render(request, "auth/second_factor_setup.html", context, status_code=error.status_code)
    return _account_page(request, session, principal, notice=_t(request)(N_("Second factor activated.")))
