"""SQLite's one write lock, taken in turn: by this process's writers (a semaphore), across processes by a
turnstile that puts requests before workers, then ``BEGIN IMMEDIATE``; and the bounded time a transaction may hold
it. ``core.db`` uses it for SQLite only: PostgreSQL locks rows, not the database.

Across processes, SQLite's lock is handed out by its busy handler, which polls with sleeps of up to 100 ms and
favours whoever retries first: worker processes writing back to back starved the web processes' requests (seconds
for /readyz). The turnstile (two ``flock`` files beside the database) puts the officers first: a worker process
begins a write only while no writer of a web or CLI process wants one, and such a writer waits at most for the one
worker transaction under way."""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from typing import Any

from travesia.core.errors import N_, DomainError


class WriteBusy(DomainError):
    """The write lock could not be had in time (another writer holds it): the caller may retry."""

    status_code = 503


class Turnstile:
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

    def want(self) -> int:
        """``intent`` held shared, on a descriptor of its own, until it is closed: no worker begins a transaction
        meanwhile (a group writer with more requests coming, see core.groupcommit)."""
        fd = os.open(self.intent_path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_SH)  # a worker holds it exclusively for a moment only
        return fd

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


class WriteLock:
    """SQLite's write lock for one transaction: the turnstile, this process's gate, then BEGIN IMMEDIATE; for a
    lazy transaction taken at its first write, else when it begins; released when it ends."""

    def __init__(
        self,
        gate: threading.Semaphore,
        turnstile: Turnstile | None,
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
