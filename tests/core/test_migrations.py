from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect
from sqlalchemy.pool import NullPool

from travesia.app import create_app
from travesia.core import migrations
from travesia.core.db import Database
from travesia.models import Base


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names - {"alembic_version"}


def test_upgrade_downgrade_upgrade(fresh_database_url):
    migrations.upgrade(fresh_database_url)
    assert _tables(fresh_database_url) == set(Base.metadata.tables)
    migrations.downgrade(fresh_database_url, "base")
    assert _tables(fresh_database_url) == set()
    migrations.upgrade(fresh_database_url)
    assert _tables(fresh_database_url) == set(Base.metadata.tables)


def test_models_and_migrations_agree(database_url):
    engine = create_engine(database_url, poolclass=NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == [], f"models differ from migrations; write a migration: {diff}"


def test_readyz_reports_pending_migrations(fresh_database_url, settings):
    db = Database(fresh_database_url)
    with TestClient(create_app(settings, db)) as client:
        pending = client.get("/readyz")
        assert pending.status_code == 503 and pending.json()["migrations"] == "pending"
        migrations.upgrade(fresh_database_url)
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["migrations"] == migrations.head_revision()
        assert client.get("/healthz").json() == {"status": "ok"}
    db.dispose()


def test_readyz_reports_an_unreachable_database(settings):
    db = Database("postgresql+psycopg://nobody@127.0.0.1:9/none")
    with TestClient(create_app(settings, db)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
