"""Route guards: every route declares exactly one, in its signature — ``Public()`` or ``Require(Perm.X)`` (the
auth domain adds ``SecondFactorStep``). A test walks the route table and checks each against the permission table.

How a caller is authenticated is the auth domain's business; the application plugs it in as
``app.state.authenticate(request, session) -> Principal`` so that every domain can guard its routes without
importing auth (auth sits above audit and stations, which it writes to).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from travesia.core.http import DbSession
from travesia.core.logging import get_logger
from travesia.core.permissions import Perm, allows, roles_for
from travesia.core.principal import Principal

log = get_logger("travesia.guards")


class NotAuthenticated(Exception):
    """401 for the API; for pages, a redirect to the login page or to the pending second-factor step."""

    def __init__(self, redirect_to: str = "/login") -> None:
        super().__init__(redirect_to)
        self.redirect_to = redirect_to


class PermissionDenied(Exception):
    """403: authenticated, but no role of the caller holds the route's permission."""


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
        principal: Principal = request.app.state.authenticate(request, session)
        if not allows(principal.roles, self.permission):  # type: ignore[arg-type]
            log.warning("permission denied", extra={"user_id": str(principal.user_id), "perm": self.permission})
            raise PermissionDenied()
        return principal

    def describe(self) -> str:
        roles = ",".join(sorted(roles_for(self.permission)))  # type: ignore[arg-type]
        return f"{self.permission} [{roles}]"


def guards_of(dependant: Any) -> list[Guard]:
    """Every guard a route's dependency tree holds (the route walk and the OpenAPI document read them)."""
    found = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, Guard):
            found.append(dep.call)
        found.extend(guards_of(dep))
    return found
