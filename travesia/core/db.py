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

Across processes, SQLite's lock is handed out by its busy handler, which polls with sleeps of up to 100 ms and
favours whoever retries first: worker processes writing back to back starved the web processes' requests (seconds
for /readyz). A turnstile (two ``flock`` files beside the database, ``_Turnstile``) puts the officers first: a
worker process (``Database(background=True)``) begins a write only while no writer of a web or CLI process wants
one, and such a writer waits at most for the one worker transaction under way.

Side effects that must wait for the commit (a job to enqueue) go through ``after_commit``: they run once the
transaction is durable and are dropped if it rolls back.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from travesia.core.errors import N_, DomainError
from travesia.core.logging import get_logger

READONLY = "travesia_readonly"
LAZY = "travesia_lazy_write"
AFTER_COMMIT = "travesia_after_commit"
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

log = get_logger("travesia.db")


class WriteBusy(DomainError):
    """The write lock could not be had in time (another writer holds it): the caller may retry."""

    status_code = 503


def utcnow() -> datetime:
    return datetime.now(UTC)


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


class _Turnstile:
    """Who goes first for SQLite's write lock across processes (see the module's docstring): two flocks beside
    the database. A request holds ``intent`` shared from the moment it wants to write until it is done, and
    ``gate`` shared while it waits for and holds the write lock. A worker takes ``intent`` exclusively (so only
    while no request wants to write), tries ``gate`` exclusively, and lets ``intent`` go at once: requests that
    arrive during its transaction wait for that one transaction only, and no worker starts another before them.
    (Web processes taking ``gate`` exclusively among themselves, instead of meeting in SQLite's busy handler, was
    measured too: within the noise of this 2-core machine, 56–83 against 74 enrolments/s.)"""

    def __init__(self, path: str) -> None:
        self.gate_path, self.intent_path = f"{path}-writers", f"{path}-intent"

    def enter(self, *, background: bool, wait_seconds: float) -> tuple[int, int | None]:
        """Descriptors of its own per transaction (threads of one process must not share a flock)."""
        gate = os.open(self.gate_path, os.O_RDWR | os.O_CREAT, 0o600)
        intent = os.open(self.intent_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if background:
                _worker_turn(gate, intent)
                os.close(intent)
                return gate, None
            fcntl.flock(intent, fcntl.LOCK_SH)  # a worker holds it exclusively for a moment only
            _flock_bounded(gate, fcntl.LOCK_SH, wait_seconds)
            return gate, intent
        except BaseException:
            os.close(gate)
            os.close(intent)
            raise

    @staticmethod
    def leave(fds: tuple[int, int | None]) -> None:
        for fd in fds:
            if fd is not None:
                os.close(fd)  # closing releases the flock


def _worker_turn(gate: int, intent: int) -> None:
    while True:
        fcntl.flock(intent, fcntl.LOCK_EX)  # woken by the kernel once no request wants to write
        try:
            fcntl.flock(gate, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass  # another worker's transaction: wait for its end below, with requests free to go first
        finally:
            fcntl.flock(intent, fcntl.LOCK_UN)
        fcntl.flock(gate, fcntl.LOCK_SH)
        fcntl.flock(gate, fcntl.LOCK_UN)


def _flock_bounded(fd: int, mode: int, wait_seconds: float) -> None:
    """Waiting at most for the worker transaction under way; bounded, so a stuck worker cannot hang a request (it
    answers "busy" instead)."""
    deadline, pause = time.monotonic() + wait_seconds, 0.0002
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise WriteBusy(N_("The system is busy. Try again in a moment.")) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.002)


class _WriteLock:
    """SQLite's write lock for one transaction: the turnstile, this process's gate, then BEGIN IMMEDIATE; for a
    lazy transaction taken at its first write, else when it begins; released when it ends."""

    def __init__(
        self,
        gate: threading.Semaphore,
        turnstile: _Turnstile | None,
        *,
        background: bool = False,
        wait_seconds: float = 30.0,
        max_seconds: float | None = None,
    ) -> None:
        self.gate, self.turnstile, self.background = gate, turnstile, background
        self.wait_seconds, self.max_seconds = wait_seconds, max_seconds
        self.held = False
        self.fds: tuple[int, int | None] | None = None
        self.raw: Any = None

    def acquire(self) -> None:
        """The turnstile and the gate; the caller then begins (or upgrades to) a writing transaction."""
        if self.turnstile is not None:
            self.fds = self.turnstile.enter(background=self.background, wait_seconds=self.wait_seconds)
        if not self.gate.acquire(timeout=self.wait_seconds):
            self._leave_turnstile()
            raise WriteBusy(N_("The system is busy. Try again in a moment."))
        self.held = True

    def take(self, raw: Any) -> None:
        """End a lazy transaction's read snapshot and begin writing on the same DBAPI connection (nothing was
        written yet)."""
        if self.held:
            return
        self.acquire()
        self.raw = raw
        try:
            raw.execute("COMMIT")
            raw.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.release()
            raise
        if self.max_seconds is not None:
            deadline = time.monotonic() + self.max_seconds
            # Checked every few thousand VM steps: a statement running past the deadline is interrupted.
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)

    def clear_deadline(self) -> None:
        """Before the connection goes back to the pool (which may close it, or hand it to another thread)."""
        if self.raw is not None:
            with contextlib.suppress(sqlite3.ProgrammingError):  # already closed
                self.raw.set_progress_handler(None, 0)
            self.raw = None

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        try:
            self.clear_deadline()
        finally:
            self.gate.release()
            self._leave_turnstile()

    def _leave_turnstile(self) -> None:
        if self.fds is not None and self.turnstile is not None:
            self.turnstile.leave(self.fds)
        self.fds = None


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
        # SQLite has one writer at a time. Writers of this process queue here instead of in SQLite's busy
        # handler, which sleeps in steps of up to 100 ms (measured: p50 60 ms at 74 enrolments/s before this).
        # A semaphore, not a lock: FastAPI may finish a request's transaction on another thread than it began.
        self._write_gate = threading.Semaphore(1) if self.dialect == "sqlite" and bind is None else None
        path = self.url.database if self.dialect == "sqlite" else None
        self._turnstile = _Turnstile(os.path.abspath(path)) if path and path != ":memory:" else None
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
        """A unit of work: commit on success, roll back on any error (a cancelled request included).

        ``lazy``: read without the write lock and take it at the first write (web requests; see the module's
        docstring). Otherwise a writing transaction takes the lock when it begins (jobs, CLI)."""
        lock = None
        gate = self._write_gate
        if readonly:
            session = self.session(readonly=True)
        elif lazy and gate is not None:
            lock = _WriteLock(gate, self._turnstile, max_seconds=self.max_lock_seconds)
            session = self._factory()
            session.info[LAZY] = lock
            session.connection(execution_options={READONLY: True, LAZY: lock})
        else:
            if gate is not None:
                lock = _WriteLock(gate, self._turnstile, background=self.background, wait_seconds=60.0)
                lock.acquire()
            session = self.session()
        try:
            yield session
            if readonly:
                session.rollback()
            else:
                session.commit()
        except BaseException:
            session.rollback()
            session.info.pop(AFTER_COMMIT, None)
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


def _run_after_commit(session: Session) -> None:
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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front: a deferred transaction that reads and then writes fails with
        # SQLITE_BUSY_SNAPSHOT when another writer committed in between, and busy_timeout cannot help it.
        if conn.get_execution_options().get(READONLY):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
