"""Every piece of background work, as tasks on one job queue: huey (coleifer/huey, a small, long-kept task queue),
run by worker processes (``travesia worker``), never by the web processes, which only enqueue.

Why huey: it is the one well-kept queue we found that stores its jobs in SQLite *and* in PostgreSQL with no broker
to run (``SqliteHuey`` beside the embedded database; ``SqlHuey`` over peewee on the central PostgreSQL), with
retries, delays and periodic tasks. procrastinate and pgqueuer are PostgreSQL-only; dramatiq, rq, arq, celery and
saq want Redis or RabbitMQ, which a field station does not have.

The jobs carry no personal data, only ids. What must not be lost is not in the queue but in the database: every
encounter has its biometric and ``screenings`` state from the moment it is stored, every list version its
``rescreened_at``, every export job its state; the jobs are the wake-up and the retry machinery, and a periodic
sweep picks up anything a lost job left behind. Work is claimed in the database with a lease (biometrics and
screening ``claim``), so two workers on two hosts never process the same encounter twice, and a worker killed
mid-step leaves its encounter to be taken again once the lease expires, with nothing of its half-done step
committed (each step is one transaction with its audit event).

A task does a bounded amount of work and enqueues itself again when more is due: a backlog of 50,000 never holds a
worker in one task (a SIGTERM stops it within one batch) and other jobs (an export, a re-screening) interleave."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from huey import Huey, SqliteHuey, crontab
from huey.contrib.sql_huey import SqlHuey
from huey.exceptions import TaskLockedException
from peewee import PostgresqlDatabase
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from travesia.audit import heads
from travesia.audit import service as audit
from travesia.biometrics import jobs as bio_jobs
from travesia.biometrics import service as biometrics
from travesia.core import crypto
from travesia.core.db import Database, utcnow
from travesia.core.logging import get_logger
from travesia.enrolment import staging
from travesia.exchange import exports as exchange_exports
from travesia.identity import service as identity
from travesia.protection import service as protection
from travesia.screening import jobs as screening_jobs
from travesia.screening import service as screening
from travesia.statistics import service as statistics

log = get_logger("travesia.pipeline")


QUEUE_SCHEMA = "jobs"
WAKE_EVERY = 0.25  # seconds: a web process sends at most one wake-up this often, and one trailing after a burst
BIOMETRIC_BATCH = 50  # encounters per task run: bounded work, then the task enqueues itself again
SCREENING_BATCH = 200
SYNC_CHAIN = "sync-chain"  # the queue's key-value store: the token of the live chain of sync rounds


def make_queue(url: str, data_dir: str) -> Huey:
    if url.startswith("sqlite"):
        folder = Path(data_dir) / "queue"
        folder.mkdir(parents=True, exist_ok=True)
        return SqliteHuey("travesia", filename=str(folder / "jobs.db"), results=False, utc=True)
    parts = make_url(url)
    database = PostgresqlDatabase(
        parts.database,
        user=parts.username,
        password=parts.password,
        host=parts.host,
        port=parts.port,
        prefer_psycopg3=True,
        # The queue's tables live in a schema of their own, out of the way of our models and migrations.
        options=f"-c search_path={QUEUE_SCHEMA}",
    )
    database.execute_sql(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}")
    database.close()  # opened again by whichever thread or process uses the queue
    return SqlHuey("travesia", database=database, results=False, utc=True)


@dataclass(frozen=True)
class AuditSigning:
    """Where the workers' scheduled tree heads are signed and written, and how often (when the trail grew)."""

    key_path: Path
    heads_path: Path
    every: timedelta


# The steps after an encounter's screening, in order, in the screening's transaction (retried together): identity
# first, so that vulnerability flags land on the person the encounter now belongs to.
AFTER_SCREENING = (identity.resolve_encounter, protection.derive_flags)


def after_screening(session: Session, encounter_id: uuid.UUID) -> None:
    for step in AFTER_SCREENING:
        step(session, encounter_id)


class Pipeline:
    """The tasks, registered on the queue by name. A web process builds one to enqueue (``enqueue``) and never runs
    a task; a worker process builds one and runs them (``travesia worker``); tests run them with ``run_once``."""

    def __init__(
        self,
        db: Database,
        bio: biometrics.Biometrics,
        screener: screening.Screener,
        queue: Huey,
        *,
        data_dir: Path | None = None,
        sync_agent: Callable[[], object] | None = None,
        sync_interval: float = 30.0,
        lease: timedelta = timedelta(minutes=5),
        audit_signing: AuditSigning | None = None,
    ) -> None:
        self.db, self.bio, self.screener, self.queue = db, bio, screener, queue
        self.audit_signing = audit_signing
        self.lease = lease
        self.data_dir = data_dir
        self.sync_interval = sync_interval
        self._make_agent, self._agent = sync_agent, None
        self.process_due = queue.task(retries=5, retry_delay=30, name="process_due")(self._process_due)
        self.rescreen = queue.task(retries=3, retry_delay=60, name="rescreen")(self._rescreen)
        self.export = queue.task(retries=0, name="export")(self._export)
        self.sync_round = queue.task(retries=0, name="sync_round")(self._sync_round)
        self.sweep = queue.periodic_task(crontab(minute="*"), name="sweep")(self._sweep)
        self._wake_lock = threading.Lock()
        self._last_wake = float("-inf")
        self._trailing_at = float("-inf")

    # -- what the web processes (and the CLI) call, after their transaction has committed ----------------------
    def enqueue(self, job: str, *args: str) -> None:
        """A job by name: ``process_due`` (the steps after an enrolment), ``rescreen`` (a list version id),
        ``export`` (an export job id), ``sync_now``."""
        if job == "process_due":
            self.wake()
        elif job == "rescreen":
            self.rescreen(*args)
        elif job == "export":
            self.export(*args)
        elif job == "sync_now":
            self.sync_round(None)
        else:
            raise ValueError(f"unknown job {job!r}")

    def wake(self) -> None:
        """Wake the workers for the steps after an enrolment, at most once every WAKE_EVERY seconds per process: a
        burst of 500 enrolments a second sends four wake-ups, not 500. A call inside the window schedules one
        trailing wake-up at the window's end (unless one is already due after now), so the last enrolment of a
        burst is never left for the minute's sweep."""
        now = time.monotonic()
        with self._wake_lock:
            if now - self._last_wake >= WAKE_EVERY:
                self._last_wake = now
                send: float | None = 0.0
            elif self._trailing_at > now:
                send = None  # the trailing wake-up already scheduled runs after this commit
            else:
                self._trailing_at = self._last_wake + WAKE_EVERY
                send = self._trailing_at - now
        if send == 0.0:
            self.process_due()
        elif send is not None:
            self.process_due.schedule(delay=send)

    def after_list_import(self, version_id: uuid.UUID) -> None:
        self.rescreen(str(version_id))

    # -- the tasks, in a worker --------------------------------------------------------------------------------
    def _process_due(self) -> None:
        """One bounded batch of the biometric step, then of screening (with identity and protection rules in the
        screening's transaction); again, as a new task, while anything was done."""
        did = bio_jobs.run_pending(self.db, self.bio, limit=BIOMETRIC_BATCH, lease=self.lease)["processed"]
        # On PostgreSQL every writer queues for the audit chain's head row, held from a transaction's first event to
        # its commit: one registration a transaction keeps a request's wait behind a worker short. On SQLite the
        # whole database is one lock anyway (and requests go first), so a few a transaction save commits.
        per_transaction = screening_jobs.PER_TRANSACTION if self.db.is_sqlite else 1
        did += screening_jobs.run_pending(
            self.db,
            self.screener,
            limit=SCREENING_BATCH,
            then=after_screening,
            lease=self.lease,
            per_transaction=per_transaction,
        )["screened"]
        if did:
            self.process_due()

    def screen_pending(self) -> dict[str, int]:
        """One batch of the steps after the biometric one, in the foreground (``travesia jobs screen``, tests)."""
        return screening_jobs.run_pending(self.db, self.screener, then=after_screening)

    def _rescreen(self, version_id: str) -> None:
        screening_jobs.rescreen_version(self.db, self.screener, uuid.UUID(version_id))

    def _export(self, job_id: str) -> None:
        if self.data_dir is None:
            raise RuntimeError("the pipeline has no data folder for exports")
        try:
            exchange_exports.run_export(self.db, uuid.UUID(job_id), self.data_dir)
        except Exception as error:  # recorded on the job; the partner reads it there
            log.warning("export failed", extra={"job": job_id, "error": type(error).__name__})

    def _sync_round(self, chain: str | None) -> None:
        """A field station's sync round with central (one at a time however many workers run). ``chain``: the
        regular rounds, each scheduling the next, under the token of the worker that started them (a chain left in
        the queue by a worker that was restarted ends there); None: "sync now"."""
        if self._make_agent is None:
            return
        if chain is not None and self.queue.get(SYNC_CHAIN, peek=True) != chain:
            return  # a stale chain
        if self._agent is None:
            self._agent = self._make_agent()
        agent = self._agent
        try:
            with self.queue.lock_task("sync"):
                if chain is None:
                    agent.retry_now()  # type: ignore[attr-defined]
                agent.run_once()  # type: ignore[attr-defined]
        except TaskLockedException:
            pass  # another worker's round is under way
        finally:
            if chain is not None:
                self.sync_round.schedule(args=(chain,), delay=self.sync_interval)

    def start_sync(self) -> None:
        """The first of the regular rounds (the periodic worker of a field station that has a central address)."""
        if self._make_agent is not None:
            self.queue.flush_locks("sync")  # a worker killed during a round left its lock
            token = uuid.uuid4().hex
            self.queue.put(SYNC_CHAIN, token)
            self.sync_round(token)

    def _sweep(self) -> None:
        """Every minute: what a lost wake-up left, the dashboard's roll-ups, forms' staged images past their day,
        re-screening not yet done, and a signed audit tree head when the last is older than its interval."""
        self.process_due()
        with self.db.transaction() as session:
            statistics.refresh(session)
            staging.sweep(session)  # images kept for a form's correction that no submission used within a day
        screening_jobs.rescreen_pending(self.db, self.screener)
        if self.audit_signing is not None:
            self.sign_audit_head(self.audit_signing)

    def sign_audit_head(self, signing: AuditSigning, *, now: datetime | None = None) -> heads.SignedHead | None:
        """A new signed tree head if the trail grew and the last head is older than ``signing.every``. The stored
        tree is brought up to date in short transactions first, so no request waits behind a long one."""
        try:
            last = heads.latest(signing.heads_path)
        except heads.HeadFileProblem as problem:
            log.error("audit heads file damaged: not signing", extra={"line": problem.line})
            return None
        now = now or utcnow()
        if last is not None and now - datetime.fromisoformat(last.signed_at) < signing.every:
            return None
        while True:  # the hashing in read transactions, each write a few rows: no request waits behind it
            with self.db.transaction(readonly=True) as session:
                nodes, remaining = audit.pending_tree_nodes(session, limit=8)
            if nodes:
                with self.db.transaction() as session:
                    audit.store_tree_nodes(session, nodes)
            if not remaining:
                break
        key = crypto.load_or_create_key(signing.key_path)
        try:
            with self.db.transaction(lazy=True) as session:
                return audit.sign_head(session, key, signing.heads_path)
        except audit.HistoryRewritten as refused:
            log.error("audit history does not extend the last signed head: not signing", extra={"size": refused.size})
            return None

    def run_once(self) -> int:
        """Run every job that is due now (periodic and delayed ones included) in this thread, until the queue is
        empty; returns how many ran. For tests and `travesia jobs run --once`."""
        ran = 0
        for task in self.queue.read_periodic(utcnow().replace(tzinfo=None)):
            self.queue.enqueue(task)
        while True:
            for task in self.queue.read_schedule(utcnow().replace(tzinfo=None)):
                self.queue.enqueue(task)
            task = self.queue.dequeue()
            if task is None:
                return ran
            try:
                self.queue.execute(task)
            except Exception as exc:  # huey has scheduled the retry; the runner goes on
                log.warning("job failed", extra={"job": task.name, "error": type(exc).__name__})
            ran += 1
