"""The FastAPI application: API and pages of every domain, one middleware, the error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import JSONResponse, RedirectResponse, Response

from travesia import __version__
from travesia.audit import api as audit_api
from travesia.audit import web as audit_web
from travesia.auth import admin_web, service
from travesia.auth import api as auth_api
from travesia.auth import web as auth_web
from travesia.auth.guards import authenticate
from travesia.auth.passwords import Hasher
from travesia.biometrics import api as biometrics_api
from travesia.biometrics import service as biometrics
from travesia.biometrics import web as biometrics_web
from travesia.core import crypto
from travesia.core.crypto import Keyring
from travesia.core.db import Database
from travesia.core.errors import N_, DomainError
from travesia.core.groupcommit import GroupWriter
from travesia.core.guards import NotAuthenticated, PermissionDenied
from travesia.core.http import BodyLimitMiddleware, CsrfRefused, RequestContextMiddleware, is_api
from travesia.core.i18n import gettext_for
from travesia.core.logging import configure_logging, get_logger
from travesia.core.openapi import complete_openapi
from travesia.core.settings import PASS_KEY_FILE, STATION_KEY_FILE, Settings, load_settings
from travesia.core.templating import render
from travesia.core.validation import api_errors
from travesia.enrolment import api as enrolment_api
from travesia.enrolment import reads as enrolment_reads
from travesia.enrolment import web as enrolment_web
from travesia.enrolment.schemas import EncounterIn
from travesia.exchange import api as exchange_api
from travesia.exchange import web as exchange_web
from travesia.identity import api as identity_api
from travesia.identity import web as identity_web
from travesia.network import api as network_api
from travesia.network import web as network_web
from travesia.persons import web as persons_web
from travesia.pipeline.worker import build_pipeline, die_with_parent
from travesia.privacy import api as privacy_api
from travesia.programmes import api as programmes_api
from travesia.programmes import web as programmes_web
from travesia.protection import api as protection_api
from travesia.protection import verify_web
from travesia.protection import web as protection_web
from travesia.screening import api as screening_api
from travesia.screening import web as screening_web
from travesia.stations import api as stations_api
from travesia.stations import web as stations_web
from travesia.statistics import api as statistics_api
from travesia.statistics import web as statistics_web
from travesia.sync import api as sync_api
from travesia.sync import station as sync_station
from travesia.sync import web as sync_web
from travesia.training import web as training_web
from travesia.training.exercises import MARKER as TRAINING_MARKER
from travesia.web import shell

STATIC_DIR = Path(__file__).resolve().parent / "static"
MB = 1024 * 1024
# The routes that take files, and the most each takes; every other body (JSON, forms) takes DEFAULT_BODY_LIMIT.
BODY_LIMITS = [
    (r"/api/v1/encounters", enrolment_api.MAX_UPLOAD),
    (r"/enrol", enrolment_web.MAX_FORM),
    (r"/api/v1/biometrics/(face-quality|search)", biometrics_api.MAX_IMAGE + MB),
    (r"/biometrics/face-check", biometrics_web.MAX_FRAME + MB),
    (r"/api/v1/sync/(batches|samples|feed)", sync_api.MAX_ENVELOPE),
    (r"/api/v1/watchlists/[^/]+/versions", screening_api.MAX_LIST_FILE + MB),
    (r"/match/[^/]+", 8 * MB),  # yente's batch of queries
]
DEFAULT_BODY_LIMIT = 2 * MB
log = get_logger("travesia.app")


def training_mode(settings: Settings) -> bool:
    """A training data folder is always served as training (its pages marked); training mode on any other folder is
    refused, so live data can never be shown as an exercise."""
    made_for_training = (settings.data_dir / TRAINING_MARKER).exists()
    if settings.training and not made_for_training:
        raise RuntimeError(f"{settings.data_dir} is not a training folder: make one with `travesia demo training`")
    return made_for_training


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    settings = settings or load_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The web process does no background work: it stores, audits, commits and enqueues; worker processes
        # (`travesia worker`, started by `travesia serve`) run the rest.
        if settings.station:  # mark the database as this field station's
            with app.state.db.transaction() as session:
                sync_station.setup(session, settings.station, settings.central_url)
        yield
        app.state.writer.stop()
        if app.state.writer.db is not app.state.db:
            app.state.writer.db.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="Travesía",
        version=__version__,
        description="Registration, screening, protection and programmes for migration authorities.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.training = training_mode(settings)
    app.state.db = db or Database(settings.sqlalchemy_url, sqlite_synchronous=settings.sqlite_synchronous)
    app.state.writer = GroupWriter(app.state.db.twin())  # enrolments from the API are written in groups
    app.state.auth = service.AuthContext(
        settings=settings,
        hasher=Hasher(settings.argon2_time_cost, settings.argon2_memory_kib),
        keyring=Keyring(settings.keyring_spec),
    )
    app.state.biometrics = biometrics.Biometrics.from_settings(settings)
    app.state.pass_key = crypto.load_or_create_key(settings.data_dir / PASS_KEY_FILE)
    app.state.audit_key = crypto.load_or_create_key(settings.audit_key_path)
    if settings.station:  # a field station signs its sync batches with a key of its own
        app.state.station_key = crypto.load_or_create_key(settings.data_dir / STATION_KEY_FILE)
    # Enqueues the background work (run by the workers; tests run it with ``pipeline.run_once()``).
    app.state.pipeline = build_pipeline(settings, app.state.db, app.state.biometrics)
    app.state.screener = app.state.pipeline.screener
    app.state.nav = shell.nav_for
    app.state.authenticate = authenticate
    app.state.related_records = enrolment_reads.related_records  # the auditor finds a person's reads by their id
    app.add_middleware(BodyLimitMiddleware, limits=BODY_LIMITS, default=DEFAULT_BODY_LIMIT)
    app.add_middleware(RequestContextMiddleware, settings=settings)  # outermost: its locale serves the 413
    # Static files only are compressed (htmx is 51 kB, 16 kB gzipped): pages carry the CSRF token next to what a
    # request reflects, and compressing them would open them to BREACH-style guessing.
    app.mount("/static", GZipMiddleware(StaticFiles(directory=STATIC_DIR), minimum_size=500), name="static")
    for router in (
        shell.router,
        auth_web.router,
        admin_web.router,
        stations_web.router,
        audit_web.router,
        enrolment_web.router,
        biometrics_web.router,
        screening_web.router,
        persons_web.router,
        identity_web.router,
        training_web.router,
        network_web.router,
        verify_web.router,
        protection_web.router,
        statistics_web.router,
        sync_web.router,
        exchange_web.router,
        programmes_web.router,
        auth_api.router,
        stations_api.router,
        audit_api.router,
        enrolment_api.router,
        biometrics_api.router,
        screening_api.router,
        identity_api.router,
        network_api.router,
        protection_api.router,
        programmes_api.router,
        programmes_api.pathways_router,
        privacy_api.router,
        statistics_api.router,
        sync_api.router,
        exchange_api.router,
    ):
        app.include_router(router)
    _install_error_handlers(app)
    app.openapi = lambda: complete_openapi(app, [EncounterIn])  # type: ignore[method-assign]
    return app


def create_web_process() -> FastAPI:
    """The factory each of several web processes calls (``TRAVESIA_WORKERS`` > 1): uvicorn's supervisor is its
    parent, and the process ends with it."""
    die_with_parent()
    return create_app()


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if is_api(request):
            body = {"detail": gettext_for(request.state.locale)(N_("Authentication required."))}
            return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": exc.redirect_to})
        target = exc.redirect_to
        if target == "/login" and request.method == "GET" and request.url.path != "/":
            target = f"/login?next={request.url.path}"
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(PermissionDenied)
    async def _denied(request: Request, exc: PermissionDenied) -> Response:
        message = gettext_for(request.state.locale)(N_("You do not have permission to do this."))
        if is_api(request):
            return JSONResponse({"detail": message}, status_code=403)
        return render(request, "errors/error.html", {"status": 403, "message": message}, status_code=403)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        message = gettext_for(request.state.locale)(
            N_("The form expired or did not come from this site. Reload the page and try again.")
        )
        return render(request, "errors/error.html", {"status": 403, "message": message}, status_code=403)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request) or exc.status_code not in (404, 405):
            return await http_exception_handler(request, exc)
        _ = gettext_for(request.state.locale)
        message = (
            _(N_("This page does not exist.")) if exc.status_code == 404 else _(N_("This action is not allowed here."))
        )
        return render(request, "errors/error.html", {"status": exc.status_code, "message": message}, exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # The type only: an exception's message may hold the data that caused it.
        log.error("unhandled error", extra={"request_id": request.state.request_id, "error": type(exc).__name__})
        message = gettext_for(request.state.locale)(N_("Something went wrong. The error was recorded."))
        if is_api(request):
            return JSONResponse({"detail": message, "request_id": request.state.request_id}, status_code=500)
        return render(request, "errors/error.html", {"status": 500, "message": message}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # Each problem by field and kind, in the caller's language; never the input itself (FastAPI's default
        # echoes it whole: a 200 MB body, or a person's data into a client's logs).
        return JSONResponse({"detail": api_errors(exc.errors(), gettext_for(request.state.locale))}, status_code=422)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        message = exc.translated(gettext_for(request.state.locale))
        if is_api(request):
            loc = ["body", *(int(p) if p.isdigit() else p for p in (exc.field.split(".") if exc.field else []))]
            detail = [{"loc": loc, "msg": message, "type": exc.kind}]
            return JSONResponse({"detail": detail}, status_code=exc.status_code)
        return render(request, "errors/error.html", {"status": exc.status_code, "message": message}, exc.status_code)
