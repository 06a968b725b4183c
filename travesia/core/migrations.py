"""Alembic driven from code: `travesia db upgrade/downgrade/current`, readiness checks and tests share this."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from travesia.core.db import READONLY

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head", connection: Connection | None = None) -> None:
    _run(command.upgrade, url, revision, connection)


def downgrade(url: str, revision: str = "-1", connection: Connection | None = None) -> None:
    _run(command.downgrade, url, revision, connection)


def _run(step: Callable[[Config, str], None], url: str, revision: str, connection: Connection | None) -> None:
    if connection is not None:
        step(alembic_config(url, connection), revision)
        return
    engine = create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # Batch migrations rebuild tables; foreign keys are checked once at the end instead of per copy.
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        step(alembic_config(url, conn), revision)
        conn.commit()
        if engine.dialect.name == "sqlite":
            problems = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"foreign key violations after migration: {problems[:5]}")
    engine.dispose()


@functools.cache  # the scripts do not change while the process runs; parsing them costs 100 ms per /readyz
def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations have {len(heads)} heads; merge them")
    return heads[0]


def current_revision(engine: Engine | Connection) -> str | None:
    if isinstance(engine, Connection):
        return MigrationContext.configure(engine).get_current_revision()
    # A read-only connection: on SQLite a writing one would wait for the write lock that a worker may hold.
    with engine.connect().execution_options(**{READONLY: True}) as conn:
        return MigrationContext.configure(conn).get_current_revision()
