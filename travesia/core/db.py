"""Engines, sessions and the column types every model shares.

SQLite is the embedded default (WAL, foreign keys on, BEGIN IMMEDIATE for writing transactions so that a read
followed by a write never fails half-way with SQLITE_BUSY); PostgreSQL (psycopg 3) is the central store.
Services never commit: ``Database.transaction()`` (used by the request, job and CLI wrappers) commits once.

A web request's unit of work is *lazy* (``transaction(lazy=True)``): it authenticates, validates and reads in a
snapshot that holds no lock, and takes SQLite's one write lock only at its first write (a flush, an INSERT/UPDATE/
DELETE, or a ``SELECT ... FOR UPDATE``), keeping it until the commit that follows. Reads made before that point may
be older than the write, exactly as under PostgreSQL's READ COMMITTED: code that must read what it then writes
locks it first with ``FOR UPDATE`` (the audit chain's head, sequences, the non-refoulement gate), which on SQLite is
the moment the lock is taken. A transaction cannot hold the lock past ``max_lock_seconds``: SQLite interrupts its
statement and the transaction rolls back.

Across processes a turnstile puts the officers first (``core.writelock``): a worker process
(``Database(background=True)``) begins a write only while no writer of a web or CLI process wants one.

Side effects that must wait for the commit (a job to enqueue) go through ``after_commit``: they run once the
transaction is durable and are dropped if it rolls back.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from travesia.core.logging import get_logger
from travesia.core.writelock import Turnstile, WriteLock

READONLY = "travesia_readonly"
LAZY = "travesia_lazy_write"
AFTER_COMMIT = "travesia_after_commit"
AFTER_COMMIT_KEYS = "travesia_after_commit_keys"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

log = get_logger("travesia.db")


def utcnow() -> datetime:
    return datetime.now(UTC)


def start_of_day(day: date) -> datetime:
    """Midnight UTC at the start of ``day``: a filter's "from" day."""
    return datetime.combine(day, clock.min, UTC)


def end_of_day(day: date) -> datetime | None:
    """Midnight UTC after ``day`` (a filter's "to" day, taken whole); None for the last day a date can name, which
    has no day after it (``until=9999-12-31`` is "no end", not an overflow)."""
    return None if day == date.max else start_of_day(day) + timedelta(days=1)


def new_id() -> uuid.UUID:
    """A UUIDv7 (RFC 9562): time-ordered, so inserts stay at the end of B-tree indexes, and unique across
    stations that create records offline. Python 3.11's uuid module has no uuid7 yet."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(secrets.token_bytes(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64  # 12 bits rand_a
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive; we normalise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use travesia.core.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Database:
    """One engine and its session factory."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "FULL",
        bind: Connection | None = None,
        max_lock_seconds: float = 10.0,
        background: bool = False,
    ) -> None:
        self.url = make_url(url)
        self.dialect = self.url.get_backend_name()
        self.max_lock_seconds, self.background = max_lock_seconds, background
        self._synchronous, self._bound = sqlite_synchronous, bind is not None
        # SQLite has one writer at a time. Writers of this process queue here instead of in SQLite's busy
        # handler, which sleeps in steps of up to 100 ms (measured: p50 60 ms at 74 enrolments/s before this).
        # A semaphore, not a lock: FastAPI may finish a request's transaction on another thread than it began.
        self._write_gate = threading.Semaphore(1) if self.dialect == "sqlite" and bind is None else None
        path = self.url.database if self.dialect == "sqlite" else None
        self._turnstile = Turnstile(os.path.abspath(path)) if path and path != ":memory:" else None
        if bind is not None:  # tests: everything joins one outer transaction that is rolled back
            self.engine = bind.engine
            self._factory = sessionmaker(bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint")
            return
        if self.dialect == "sqlite":
            self.engine = _sqlite_engine(url, sqlite_synchronous)
        else:
            self.engine = create_engine(
                url,
                hide_parameters=True,  # SQL errors must not carry personal data into logs
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=10,
            )
        self._factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        event.listen(self._factory, "do_orm_execute", _take_lock_before_locking_read)

    @contextmanager
    def requests_first(self) -> Iterator[None]:
        """While inside, worker processes begin no SQLite write transaction (the turnstile's ``intent`` held, see
        core.writelock): for the group writer of a web process while requests keep coming. No-op on PostgreSQL."""
        if self._turnstile is None or self.background:
            yield
            return
        fd = self._turnstile.want()
        try:
            yield
        finally:
            os.close(fd)

    def twin(self) -> Database:
        """The same database through an engine, pool and write gate of its own (the group writer's: see
        core.groupcommit); a test's database bound to one connection is its own twin."""
        if self._bound:
            return self
        return Database(
            self.url.render_as_string(hide_password=False),
            sqlite_synchronous=self._synchronous,
            max_lock_seconds=self.max_lock_seconds,
            background=self.background,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def session(self, *, readonly: bool = False) -> Session:
        session = self._factory()
        if readonly:
            session.connection(execution_options={READONLY: True})
        return session

    @contextmanager
    def transaction(self, *, readonly: bool = False, lazy: bool = False) -> Iterator[Session]:
        """A unit of work: commit on success, roll back on any error (a cancelled request included), except a domain
        refusal marked ``keeps_writes``, whose own record is committed before it reaches the caller.

        ``lazy``: read without the write lock and take it at the first write (web requests; see the module's
        docstring). Otherwise a writing transaction takes the lock when it begins (jobs, CLI)."""
        lock = None
        gate = self._write_gate
        if readonly:
            session = self.session(readonly=True)
        elif lazy and gate is not None:
            lock = WriteLock(gate, self._turnstile, max_seconds=self.max_lock_seconds)
            session = self._factory()
            session.info[LAZY] = lock
            session.connection(execution_options={READONLY: True, LAZY: lock})
        else:
            if gate is not None:
                lock = WriteLock(gate, self._turnstile, background=self.background, wait_seconds=60.0)
                lock.acquire()
            session = self.session()
        try:
            yield session
            if readonly:
                session.rollback()
            else:
                session.commit()
        except BaseException as error:
            if getattr(error, "keeps_writes", False) and not readonly:
                session.commit()  # the refusal's own record (the refused work was undone by its savepoint)
            else:
                session.rollback()
                session.info.pop(AFTER_COMMIT, None)
                session.info.pop(AFTER_COMMIT_KEYS, None)
            raise
        finally:
            if lock is not None:
                lock.clear_deadline()
            session.close()
            if lock is not None:
                lock.release()
        _run_after_commit(session)

    def dispose(self) -> None:
        self.engine.dispose()


def after_commit(session: Session, action: Callable[[], object]) -> None:
    """Run ``action`` once the session's transaction has committed (never if it rolls back): the outbox for side
    effects such as enqueueing the steps after an enrolment."""
    session.info.setdefault(AFTER_COMMIT, []).append(action)


def after_commit_once(session: Session, key: str, action: Callable[[], object]) -> None:
    """``after_commit`` unless an action under the same key is already waiting for this transaction (a group of
    enrolments written together needs one wake-up of the workers, not one each)."""
    keys = session.info.setdefault(AFTER_COMMIT_KEYS, set())
    if key not in keys:
        keys.add(key)
        after_commit(session, action)


def _run_after_commit(session: Session) -> None:
    session.info.pop(AFTER_COMMIT_KEYS, None)
    for action in session.info.pop(AFTER_COMMIT, []):
        try:
            action()
        except Exception as exc:  # the commit stands; the periodic sweep picks up what a lost wake-up left
            log.warning("after-commit action failed", extra={"error": type(exc).__name__})


def _take_lock_before_locking_read(state: ORMExecuteState) -> None:
    """A lazy SQLite session takes the write lock before a ``SELECT ... FOR UPDATE`` (SQLite drops the clause):
    what is read to be written must be read under the lock, and freshly (``populate_existing``)."""
    lock = state.session.info.get(LAZY)
    if lock is None or not state.is_select or getattr(state.statement, "_for_update_arg", None) is None:
        return
    if not lock.held:
        lock.take(state.session.connection().connection.driver_connection)
    state.update_execution_options(populate_existing=True)


def _is_write(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(WRITES)


def _sqlite_engine(url: str, synchronous: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    engine = create_engine(
        url,
        hide_parameters=True,  # SQL errors must not carry personal data into logs
        connect_args={"check_same_thread": False, "timeout": 30},
        # Pooled: opening a connection and setting its PRAGMAs per transaction cost 4x in throughput (measured by
        # bench/audit_chain.py: 488 vs 2,123 one-row transactions/s). A checked-out connection belongs to one
        # thread at a time, so check_same_thread=False is safe.
        pool_size=8,
        max_overflow=8,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, emit BEGIN (pysqlite's own transaction handling defers it and breaks
        # SAVEPOINT); see the SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL".
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(conn: Connection, cursor: Any, statement: str, *_args: Any) -> None:
        lock = conn.get_execution_options().get(LAZY)
        if lock is not None and not lock.held and _is_write(statement):
            lock.take(cursor.connection)

    @event.listens_for(engine, "savepoint")
    def _on_savepoint(conn: Connection, _name: str | None) -> None:
        # A savepoint is opened to write under it: a lazy transaction begins writing first, because beginning to
        # write ends the read snapshot with a COMMIT, which would take a savepoint opened before it along.
        lock = conn.get_execution_options().get(LAZY)
        if lock is not None and not lock.held:
            lock.take(conn.connection.driver_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front: a deferred transaction that reads and then writes fails with
        # SQLITE_BUSY_SNAPSHOT when another writer committed in between, and busy_timeout cannot help it.
        if conn.get_execution_options().get(READONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
