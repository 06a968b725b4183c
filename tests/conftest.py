"""Shared fixtures. The same tests run on SQLite (default) and on PostgreSQL when
TRAVESIA_TEST_DATABASE_URL is set (`make test` runs both; CI must not skip either).

Each test runs inside one outer transaction that is rolled back at the end; the application's own commits become
savepoints inside it. Tests that need real commits (subprocesses, migrations) use ``fresh_database_url``.

Lanes: `make test` runs the suite on SQLite, then on PostgreSQL only the tests that touch the database under test
(those that depend on ``database_under_test``); the others (pure rules, parsers, SQLite-only checks) gave the same
answer in the SQLite lane. ``slow`` marks tests that start processes, servers, browsers or Spark, or build a
database by migrations; `make test-fast` leaves them out.
"""

from __future__ import annotations

import base64
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from travesia.app import create_app
from travesia.auth import accounts
from travesia.auth.passwords import Hasher
from travesia.auth.schemas import UserCreate
from travesia.auth.service import AuthContext
from travesia.core import migrations
from travesia.core.crypto import Keyring
from travesia.core.db import Database
from travesia.core.principal import Role, cli_principal
from travesia.core.settings import Settings
from travesia.stations import service as stations
from travesia.stations.schemas import StationCreate

PG_URL = os.environ.get("TRAVESIA_TEST_DATABASE_URL")
PASSWORD = "correct horse battery staple 42"
TEST_KEY = base64.b64encode(b"k" * 32).decode()


SLOW_FIXTURES = {"fresh_database_url", "demo"}  # a database built by migrations; the demo served to a browser


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    if PG_URL:
        kept = [item for item in items if "database_under_test" in getattr(item, "fixturenames", ())]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def database_under_test() -> str | None:
    """The PostgreSQL server of this lane (None: SQLite); every fixture that makes a database depends on it."""
    return PG_URL


def _create_pg_database(admin_url: str) -> str:
    name = f"travesia_t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_pg_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def fresh_database_url(tmp_path: Path, database_under_test: str | None) -> Iterator[str]:
    """An empty database of the backend under test, not yet migrated."""
    if PG_URL:
        url = _create_pg_database(PG_URL)
        yield url
        _drop_pg_database(PG_URL, url)
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, database_under_test: str | None) -> Iterator[str]:
    url = _create_pg_database(PG_URL) if PG_URL else f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrations.upgrade(url)
    yield url
    if PG_URL:
        _drop_pg_database(PG_URL, url)


@pytest.fixture
def backend(database_url: str) -> str:
    return make_url(database_url).get_backend_name()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",  # type: ignore[arg-type]
        data_keys=f"k1:{TEST_KEY}",  # type: ignore[arg-type]
        argon2_time_cost=1,
        argon2_memory_kib=1024,  # fast hashing in tests; production uses RFC 9106's 64 MiB
    )


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    engine = Database(database_url).engine
    connection = engine.connect()
    outer = connection.begin()
    try:
        yield Database(database_url, bind=connection)
    finally:
        outer.rollback()
        connection.close()
        engine.dispose()


@pytest.fixture
def session(db: Database) -> Iterator:
    s = db.session()
    yield s
    s.close()


@pytest.fixture
def auth_ctx(settings: Settings) -> AuthContext:
    return AuthContext(settings=settings, hasher=Hasher(1, 1024), keyring=Keyring(settings.keyring_spec))


@pytest.fixture
def app(settings: Settings, db: Database):
    return create_app(settings, db)


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    # https: the session cookie is Secure, as in production.
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


@pytest.fixture
def station(session) -> object:
    return stations.create_station(
        session,
        cli_principal("test"),
        StationCreate(code="ERM-TEST", name="ERM de prueba", kind="reception", capacity=100),
    )


@pytest.fixture
def make_user(session, auth_ctx: AuthContext, station):
    def make(username: str, *roles: Role, stations_: list[str] | None = None, display_name: str = "Usuario Prueba"):
        data = UserCreate(
            username=username,
            display_name=display_name,
            password=PASSWORD,
            roles=list(roles),
            stations=stations_ or [station.code],
        )
        user = accounts.create_user(session, auth_ctx, cli_principal("test"), data)
        session.commit()
        return user

    return make


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """Load a page and return the CSRF token its forms carry."""
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> object:
    token = csrf_of(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def token_for(make_user, session, auth_ctx, username: str, role: Role) -> dict[str, str]:
    """A new user with one role and an API token: returns the Authorization header."""
    from travesia.auth import service as auth_service

    user = make_user(username, role)
    principal = auth_service.principal_for(user, station_id=None, via="token", credential_id=None)
    _, token = auth_service.create_token(session, auth_ctx, principal, "t", 1)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def import_population(db: Database, folder: Path, people: int, seed: int) -> tuple[list[dict], list[dict]]:
    """The demo's stations and a synthetic population bulk-imported: returns the bodies and their ground truth."""
    import csv
    import json

    from travesia.demo import ensure_stations
    from travesia.enrolment.bulk import run_import
    from travesia.synth.population import write

    with db.transaction() as session:
        ensure_stations(session, cli_principal("test"))
    write(folder, people, seed=seed)
    report, _ = run_import(db, cli_principal("test"), folder / "encounters.jsonl")
    assert report.rejected == 0
    with (folder / "ground_truth.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    bodies = [json.loads(line) for line in (folder / "encounters.jsonl").open(encoding="utf-8")]
    return bodies, rows
