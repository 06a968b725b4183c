import sqlite3
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from travesia.core import migrations
from travesia.core.db import Database, new_id, utcnow
from travesia.models import Station


def test_uuid7_is_time_ordered_and_versioned():
    ids = [new_id() for _ in range(200)]
    assert all(i.version == 7 for i in ids)
    assert len(set(ids)) == 200
    assert [i.bytes[:6] for i in ids] == sorted(i.bytes[:6] for i in ids)


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.transaction() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    db.dispose()


def test_datetimes_come_back_aware_in_utc(session):
    station = Station(code="TZ-TEST", name="tz", kind="reception", created_at=datetime(2026, 1, 2, 3, 4, 5, 6, UTC))
    session.add(station)
    session.flush()
    session.expire_all()
    again = session.get(Station, station.id)
    assert again.created_at == datetime(2026, 1, 2, 3, 4, 5, 6, UTC)
    assert again.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(session):
    session.add(Station(code="NAIVE", name="n", kind="reception", created_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()
    session.rollback()


def test_utcnow_is_aware():
    assert utcnow().tzinfo is UTC


def test_sql_errors_do_not_carry_values(session):
    from sqlalchemy.exc import IntegrityError

    session.add(Station(code="DUP-CODE", name="Estación Uno", kind="reception"))
    session.flush()
    nested = session.begin_nested()
    session.add(Station(code="DUP-CODE", name="Nombre Secreto De Persona", kind="reception"))
    with pytest.raises(IntegrityError) as error:
        session.flush()
    nested.rollback()
    assert "Nombre Secreto" not in str(error.value)


def test_sqlite_readers_do_not_block_writers_but_writers_queue(tmp_path):
    """Read-only sessions begin DEFERRED (a snapshot, no lock); writing sessions begin IMMEDIATE (the lock)."""
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    migrations.upgrade(url)
    db = Database(url)
    other = Database(url)
    with db.transaction(readonly=True) as reader:
        reader.execute(text("SELECT count(*) FROM stations")).scalar_one()
        with other.transaction() as writer:  # would wait 30 s and fail if the reader held the write lock
            writer.add(Station(code="W1", name="w", kind="reception"))
    other.dispose()
    with db.transaction() as first:
        first.add(Station(code="W2", name="w", kind="reception"))
        first.flush()
        raw = sqlite3.connect(tmp_path / "locks.db", timeout=0.1, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            raw.execute("BEGIN IMMEDIATE")  # a second writer waits for the first
        raw.close()
    db.dispose()
