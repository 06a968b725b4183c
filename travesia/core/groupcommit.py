"""Group commit: concurrent requests' writes made by one writer thread in one transaction, each in its own savepoint
(with its own audit events, chained in the order written), and each request answered only once the commit that
holds its write is durable.

Why: every write transaction pays for the write lock (SQLite's one lock; on PostgreSQL the audit chain's head row,
which every writer holds from its first event to its commit) and for a durable commit. Requests that arrive while a
group is being written wait for the next group, so under load one lock and one commit serve many requests, and the
lock is never handed from request to request.

The writer has a database handle of its own (``Database.twin``): a request that has written something (a token's
last-use time) keeps this process's write gate until it ends, and must not wait for a writer that needs that gate;
nor can waiting requests, each holding a pooled connection, starve the writer of one."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.orm import Session

from travesia.core.db import AFTER_COMMIT, AFTER_COMMIT_KEYS, Database
from travesia.core.errors import N_
from travesia.core.logging import get_logger
from travesia.core.writelock import WriteBusy

T = TypeVar("T")
LINGER_SECONDS = 0.05
log = get_logger("travesia.groupcommit")


@dataclass
class _Job(Generic[T]):
    work: Callable[[Session], T]
    done: threading.Event = field(default_factory=threading.Event)
    result: T | None = None
    error: BaseException | None = None


class GroupWriter:
    """``write(work)`` runs ``work(session)`` in the next group's transaction and returns its result after the
    commit (or raises its error: a failed write is undone alone, the others commit)."""

    def __init__(self, db: Database, *, max_group: int = 64, wait_seconds: float = 60.0) -> None:
        self.db, self.max_group, self.wait_seconds = db, max_group, wait_seconds
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()
        self.groups = 0  # transactions committed (for tests and figures)

    def write(self, work: Callable[[Session], T]) -> T:
        job: _Job[T] = _Job(work)
        self._ensure_running()
        self._jobs.put(job)
        if not job.done.wait(self.wait_seconds):
            # The write may still be made later: the client retries with the same id and is answered as a replay.
            raise WriteBusy(N_("The system is busy. Try again in a moment."))
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]

    def stop(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=self.wait_seconds)
            self._thread = None

    def _ensure_running(self) -> None:
        with self._start:
            if self._thread is None or not self._thread.is_alive():  # never started, or ended by a fatal error
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            # Requests first: while groups keep coming, worker processes wait (as they wait for a request's own
            # transaction on SQLite); they go on once no request has come for LINGER_SECONDS.
            with self.db.requests_first():
                while True:
                    group, stopping = self._group(job)
                    self._commit(group)
                    if stopping:
                        return
                    try:
                        next_job = self._jobs.get(timeout=LINGER_SECONDS)
                    except queue.Empty:
                        break
                    if next_job is None:
                        return
                    job = next_job

    def _group(self, first: _Job[Any]) -> tuple[list[_Job[Any]], bool]:
        """The first job and whatever arrived while the last group was written; whether a stop came with them."""
        group = [first]
        while len(group) < self.max_group:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return group, True
            group.append(job)
        return group, False

    def _commit(self, group: list[_Job[Any]]) -> None:
        try:
            with self.db.transaction() as session:
                for job in group:
                    _write_one(session, job)
            self.groups += 1
        except Exception as error:
            if len(group) > 1:  # the commit itself failed: each write again, alone, so that only its own fails
                log.warning("group commit failed; writing alone", extra={"error": type(error).__name__})
                for job in group:
                    job.result, job.error = None, None
                    self._commit([job])
                return
            group[0].result, group[0].error = None, error
        for job in group:
            job.done.set()


def _write_one(session: Session, job: _Job[Any]) -> None:
    """One request's write in a savepoint of its own: its failure undoes it alone (and drops the side effects it
    asked for after commit), unless it is a refusal whose own record must be kept (``keeps_writes``)."""
    actions = len(session.info.get(AFTER_COMMIT, []))
    keys = set(session.info.get(AFTER_COMMIT_KEYS, ()))
    savepoint = session.begin_nested()
    try:
        job.result = job.work(session)
        savepoint.commit()
    except Exception as error:
        job.error = error
        if getattr(error, "keeps_writes", False):
            savepoint.commit()
        else:
            savepoint.rollback()
            del session.info.get(AFTER_COMMIT, [])[actions:]
            session.info[AFTER_COMMIT_KEYS] = keys
