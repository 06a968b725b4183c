"""The application's shell: home page, language switch, health and readiness, navigation per role."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from travesia.core.errors import N_
from travesia.core.guards import Public, Require
from travesia.core.http import LANG_COOKIE, DbSession, settings_of
from travesia.core.migrations import current_revision, head_revision
from travesia.core.permissions import Perm, allows
from travesia.core.principal import Principal
from travesia.core.settings import SUPPORTED_LOCALES
from travesia.core.templating import render
from travesia.stations import service as stations

router = APIRouter(include_in_schema=False)

PublicRoute = Annotated[None, Depends(Public())]

# (path, label msgid, permission) — a link shows only to roles that hold its permission.
NAV = [
    ("/", N_("Home"), Perm.ACCOUNT_SELF),
    ("/enrol", N_("Register"), Perm.ENCOUNTERS_CREATE),
    ("/stations", N_("Stations"), Perm.STATIONS_READ),
    ("/sync", N_("Sync"), Perm.SYNC_OPERATE),
    ("/admin/users", N_("Users"), Perm.USERS_READ),
    ("/persons", N_("Persons"), Perm.ENCOUNTERS_READ),
    ("/alerts", N_("Alerts"), Perm.ALERTS_REVIEW),
    ("/identity/proposals", N_("Identities"), Perm.IDENTITY_DECIDE),
    ("/network/clusters", N_("Networks"), Perm.NETWORK_READ),
    ("/protection", N_("Protection"), Perm.PROTECTION_MANAGE),
    ("/flights", N_("Flights"), Perm.PROGRAMMES_MANAGE),
    ("/exchange", N_("Partners"), Perm.EXCHANGE_MANAGE),
    ("/statistics", N_("Statistics"), Perm.STATISTICS_READ),
    ("/audit", N_("Audit trail"), Perm.AUDIT_READ),
    ("/account", N_("My account"), Perm.ACCOUNT_SELF),
]


def nav_for(principal: Principal | None) -> list[tuple[str, str]]:
    if principal is None:
        return []
    return [(path, label) for path, label, perm in NAV if allows(principal.roles, perm)]


@router.get("/")
def home(
    request: Request, session: DbSession, principal: Annotated[Principal, Depends(Require(Perm.ACCOUNT_SELF))]
) -> Response:
    my_stations = [s for s in stations.list_stations(session) if s.id in principal.station_ids]
    return render(request, "home.html", {"my_stations": my_stations})


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, _: PublicRoute, next: str = "/") -> Response:
    target = next if next.startswith("/") and not next.startswith("//") else "/"
    response = RedirectResponse(target, status_code=303)
    if code in SUPPORTED_LOCALES:
        secure = settings_of(request).cookie_secure
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", secure=secure, httponly=True)
    return response


@router.get("/healthz")
def healthz(_: PublicRoute) -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, _: PublicRoute) -> Response:
    db = request.app.state.db
    try:
        current = current_revision(db.engine)
    except Exception:  # the database is unreachable: say so without leaking connection details
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    head = head_revision()
    if current != head:
        body = {
            "status": "unavailable",
            "database": "ok",
            "migrations": "pending",
            "current": current,
            "head": head,
        }
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "migrations": head})
