"""JSON API of accounts and tokens (bearer-token authenticated)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from travesia.auth import accounts, service
from travesia.auth.guards import auth_context
from travesia.auth.schemas import Me, TokenOut, UserCreate, UserOut, UserUpdate
from travesia.core.guards import Require
from travesia.core.http import DbSession
from travesia.core.permissions import Perm
from travesia.core.principal import Principal

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.get("/me", response_model=Me)
def me(principal: Annotated[Principal, Depends(Require(Perm.ACCOUNT_SELF))]) -> Me:
    return Me(
        user_id=principal.user_id,
        username=principal.username,
        roles=sorted(principal.roles),
        station=principal.station_code,
        via=principal.via,
    )


@router.get("/users", response_model=list[UserOut])
def list_users(session: DbSession, principal: Annotated[Principal, Depends(Require(Perm.USERS_READ))]) -> list[UserOut]:
    return [accounts.to_out(user) for user in accounts.list_users(session, principal)]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(
    request: Request,
    data: UserCreate,
    session: DbSession,
    principal: Annotated[Principal, Depends(Require(Perm.USERS_MANAGE))],
) -> UserOut:
    return accounts.to_out(accounts.create_user(session, auth_context(request), principal, data))


@router.get("/users/{user_id}", response_model=UserOut)
def get_user(
    user_id: uuid.UUID,
    session: DbSession,
    principal: Annotated[Principal, Depends(Require(Perm.USERS_READ))],
    purpose: str | None = None,
) -> UserOut:
    return accounts.to_out(accounts.get_user(session, principal, user_id, purpose))


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(
    user_id: uuid.UUID,
    data: UserUpdate,
    session: DbSession,
    principal: Annotated[Principal, Depends(Require(Perm.USERS_MANAGE))],
) -> UserOut:
    return accounts.to_out(accounts.update_user(session, principal, user_id, data))


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(
    session: DbSession, principal: Annotated[Principal, Depends(Require(Perm.ACCOUNT_SELF))]
) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in service.list_tokens(session, principal)]


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(
    token_id: uuid.UUID,
    session: DbSession,
    principal: Annotated[Principal, Depends(Require(Perm.ACCOUNT_SELF))],
) -> TokenOut:
    return TokenOut.model_validate(service.revoke_token(session, principal, token_id))
