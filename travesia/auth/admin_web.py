"""Pages for administrators: the user list, a user's page, creating users, (de)activating them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from travesia.auth import accounts
from travesia.auth.guards import auth_context
from travesia.auth.schemas import UserCreate, UserUpdate
from travesia.core.errors import DomainError
from travesia.core.guards import Require
from travesia.core.http import DbSession, verify_csrf
from travesia.core.i18n import gettext_for
from travesia.core.permissions import Perm
from travesia.core.principal import Principal, Role
from travesia.core.templating import render
from travesia.core.validation import field_errors
from travesia.stations import service as stations

router = APIRouter(prefix="/admin", dependencies=[Depends(verify_csrf)], include_in_schema=False)

Reader = Annotated[Principal, Depends(Require(Perm.USERS_READ))]
Manager = Annotated[Principal, Depends(Require(Perm.USERS_MANAGE))]


@router.get("/users")
def users_page(request: Request, session: DbSession, principal: Reader) -> Response:
    users = [accounts.to_out(u) for u in accounts.list_users(session, principal)]
    return render(request, "admin/users.html", {"users": users})


def _new_user_form(request: Request, session: DbSession, values: dict, errors: dict | None = None) -> Response:
    context = {
        "roles": list(Role),
        "stations": stations.list_stations(session),
        "values": values,
        "errors": errors,
    }
    return render(request, "admin/user_new.html", context, status_code=422 if errors else 200)


@router.get("/users/new")
def new_user_page(request: Request, session: DbSession, principal: Manager) -> Response:
    return _new_user_form(request, session, {"roles": [], "stations": []})


@router.post("/users")
def create_user(
    request: Request,
    session: DbSession,
    principal: Manager,
    username: Annotated[str, Form(max_length=200)] = "",
    display_name: Annotated[str, Form(max_length=400)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    stations_: Annotated[list[str] | None, Form(alias="stations")] = None,
) -> Response:
    values = {
        "username": username,
        "display_name": display_name,
        "roles": roles or [],
        "stations": stations_ or [],
    }
    try:
        data = UserCreate(password=password, **values)  # type: ignore[arg-type]
        user = accounts.create_user(session, auth_context(request), principal, data)
    except (DomainError, ValidationError) as error:
        return _new_user_form(request, session, values, field_errors(error, gettext_for(request.state.locale)))
    return RedirectResponse(f"/admin/users/{user.id}", status_code=303)


@router.get("/users/{user_id}")
def user_page(request: Request, session: DbSession, principal: Reader, user_id: uuid.UUID) -> Response:
    user = accounts.get_user(session, principal, user_id, purpose="administration")
    return render(request, "admin/user.html", {"user": accounts.to_out(user)})


@router.post("/users/{user_id}/active")
def set_active(
    request: Request,
    session: DbSession,
    principal: Manager,
    user_id: uuid.UUID,
    active: Annotated[bool, Form()] = False,
) -> Response:
    try:
        accounts.update_user(session, principal, user_id, UserUpdate(is_active=active))
    except DomainError as error:
        user = accounts.get_user(session, principal, user_id)
        errors = field_errors(error, gettext_for(request.state.locale))
        return render(request, "admin/user.html", {"user": accounts.to_out(user), "errors": errors}, 422)
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)


@router.post("/users/{user_id}/reset-second-factor")
def reset_second_factor(request: Request, session: DbSession, principal: Manager, user_id: uuid.UUID) -> Response:
    accounts.reset_second_factor(session, principal, user_id)
    return RedirectResponse(f"/admin/users/{user_id}", status_code=303)
