import sqlite3
import time
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


def _lock_is_free(path) -> bool:
    raw = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        raw.close()


def test_a_request_reads_without_the_write_lock_and_takes_it_at_its_first_write(tmp_path):
    """A lazy unit of work (every web request's): authenticating and reading hold no lock, so another process's
    writer goes on; the first write takes the lock, held until the commit; what the other wrote is seen."""
    path = tmp_path / "lazy.db"
    migrations.upgrade(f"sqlite:///{path}")
    db, worker = Database(f"sqlite:///{path}"), Database(f"sqlite:///{path}")
    with db.transaction(lazy=True) as request:
        assert request.execute(text("SELECT count(*) FROM stations")).scalar_one() == 0
        assert _lock_is_free(path)
        with worker.transaction() as writer:  # a worker process commits meanwhile: not blocked by the reader
            writer.add(Station(code="W1", name="w", kind="reception"))
        request.add(Station(code="R1", name="r", kind="reception"))
        request.flush()
        assert not _lock_is_free(path)  # the request writes: it holds the lock now
        assert request.execute(text("SELECT count(*) FROM stations")).scalar_one() == 2  # a fresh snapshot
    assert _lock_is_free(path)
    worker.dispose()
    db.dispose()


@pytest.mark.parametrize("refused", [False, True])
def test_a_savepoint_in_a_lazy_request_survives_its_first_write(tmp_path, refused):
    """A request that opens a savepoint before it writes (a partner's query: the refused work undone, its refusal
    kept): the first write ends the read snapshot, which must not take the savepoint with it."""
    path = tmp_path / "nested.db"
    migrations.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    with db.transaction(lazy=True) as request:
        request.execute(text("SELECT count(*) FROM stations")).scalar_one()
        savepoint = request.begin_nested()
        request.add(Station(code="IN-SAVEPOINT", name="s", kind="reception"))
        request.flush()  # the first write: the lock is taken here
        savepoint.rollback() if refused else savepoint.commit()
        request.add(Station(code="AFTER", name="a", kind="reception"))
    with db.transaction(readonly=True) as check:
        codes = set(check.execute(text("SELECT code FROM stations")).scalars())
    assert codes == ({"AFTER"} if refused else {"IN-SAVEPOINT", "AFTER"})
    db.dispose()


def test_a_locking_read_takes_the_write_lock_first(tmp_path):
    """The audit chain's head is read FOR UPDATE: on SQLite that is when a request takes the lock, so two requests
    can never chain onto the same head."""
    from travesia.audit import service as audit
    from travesia.core.principal import cli_principal

    path = tmp_path / "head.db"
    migrations.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    with db.transaction(lazy=True) as request:
        request.execute(text("SELECT 1")).scalar_one()
        assert _lock_is_free(path)
        audit.record(request, cli_principal("test"), "test.locking_read")
        assert not _lock_is_free(path)
    with db.transaction(readonly=True) as reader:
        assert audit.verify(reader).ok
    db.dispose()


def test_a_cancelled_request_rolls_back_and_releases_the_lock(tmp_path):
    import asyncio

    path = tmp_path / "cancel.db"
    migrations.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    with pytest.raises(asyncio.CancelledError), db.transaction(lazy=True) as request:
        request.add(Station(code="GONE", name="g", kind="reception"))
        request.flush()
        assert not _lock_is_free(path)
        raise asyncio.CancelledError  # the client went away, or the server's timeout fired
    assert _lock_is_free(path)
    assert db._write_gate.acquire(timeout=0)  # this process's writers are not left waiting either
    db._write_gate.release()
    with db.transaction(readonly=True) as reader:
        assert reader.execute(text("SELECT count(*) FROM stations")).scalar_one() == 0
    db.dispose()


def test_no_transaction_holds_the_write_lock_past_its_bound(tmp_path):
    """A write transaction whose statement runs past ``max_lock_seconds`` is interrupted and rolled back."""
    path = tmp_path / "bound.db"
    migrations.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}", max_lock_seconds=0.3)
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    started = time.monotonic()
    with pytest.raises(Exception, match="interrupted"), db.transaction(lazy=True) as request:
        request.add(Station(code="SLOW", name="s", kind="reception"))
        request.flush()
        request.execute(text(endless)).scalar_one()
    assert time.monotonic() - started < 5
    assert _lock_is_free(path)
    with db.transaction(lazy=True) as later:  # the pooled connection has no deadline left behind
        later.execute(text("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
                           "SELECT count(*) FROM c")).scalar_one()  # fmt: skip
    db.dispose()


def test_after_commit_runs_only_once_the_transaction_committed(tmp_path):
    from travesia.core.db import after_commit

    db = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    ran: list[str] = []
    with db.transaction(lazy=True) as session:
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    with pytest.raises(RuntimeError), db.transaction(lazy=True) as session:
        after_commit(session, lambda: ran.append("rolled back"))
        raise RuntimeError("refused")
    assert ran == ["committed"]
    db.dispose()


def test_more_concurrent_requests_than_pooled_connections_all_write_and_leave_the_lock_free(tmp_path):
    """16 threads against a pool of 8 (+8 overflow, closed when they come back): every transaction commits with
    its audit event, and the lock is free at the end (a connection closed by the pool once leaked it)."""
    import threading

    from travesia.audit import service as audit
    from travesia.core.principal import cli_principal

    path = tmp_path / "many.db"
    migrations.upgrade(f"sqlite:///{path}")
    db = Database(f"sqlite:///{path}")
    errors: list[BaseException] = []

    def requests(worker: int) -> None:
        for n in range(25):
            try:
                with db.transaction(lazy=True) as session:
                    session.execute(text("SELECT count(*) FROM stations")).scalar_one()
                    session.add(Station(code=f"T{worker}-{n}", name="t", kind="reception"))
                    session.flush()
                    audit.record(session, cli_principal("test"), "test.concurrent")
            except BaseException as error:  # collected: a thread's exception would otherwise vanish
                errors.append(error)

    threads = [threading.Thread(target=requests, args=(w,)) for w in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and not any(t.is_alive() for t in threads)
    with db.transaction(readonly=True) as reader:
        assert reader.execute(text("SELECT count(*) FROM stations")).scalar_one() == 400
        assert audit.verify(reader).ok
    assert db._write_gate.acquire(timeout=0) and _lock_is_free(path)
    db._write_gate.release()
    db.dispose()
