"""The background steps after an enrolment, on a job queue: huey (coleifer/huey, a small, long-kept task queue).

Why huey: it is the one well-kept queue we found that stores its jobs in SQLite *and* in PostgreSQL with no broker
to run (``SqliteHuey`` beside the embedded database; ``SqlHuey`` over peewee on the central PostgreSQL), with
retries, delays and periodic tasks. procrastinate and pgqueuer are PostgreSQL-only; dramatiq, rq, arq, celery and
saq want Redis or RabbitMQ, which a field station does not have.

The jobs carry no personal data, only ids. What must not be lost is not in the queue but in the database: every
encounter has its ``screenings`` row from the moment it is stored, every list version its ``rescreened_at``; the
jobs are the wake-up and the retry machinery, and a periodic sweep picks up anything a lost job left behind.
In the server a thread runs the queue (``Runner``); ``travesia jobs run`` runs huey's own consumer instead."""

from __future__ import annotations

import uuid
from pathlib import Path

from huey import Huey, SqliteHuey, crontab
from huey.contrib.sql_huey import SqlHuey
from peewee import PostgresqlDatabase
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from travesia.biometrics import service as biometrics
from travesia.core.background import Loop
from travesia.core.db import Database, utcnow
from travesia.core.logging import get_logger
from travesia.identity import service as identity
from travesia.protection import service as protection
from travesia.screening import service as screening
from travesia.statistics import service as statistics

log = get_logger("travesia.pipeline")


QUEUE_SCHEMA = "jobs"


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
    return SqlHuey("travesia", database=database, results=False, utc=True)


# The steps after an encounter's screening, in order, in the screening's transaction (retried together): identity
# first, so that vulnerability flags land on the person the encounter now belongs to.
AFTER_SCREENING = (identity.resolve_encounter, protection.derive_flags)


def after_screening(session: Session, encounter_id: uuid.UUID) -> None:
    for step in AFTER_SCREENING:
        step(session, encounter_id)


class Pipeline:
    """The steps as queue tasks: screen what is due (after the biometric step), re-screen after a list version."""

    def __init__(self, db: Database, bio: biometrics.Biometrics, screener: screening.Screener, queue: Huey) -> None:
        self.db, self.bio, self.screener, self.queue = db, bio, screener, queue
        self.screen_due = queue.task(retries=5, retry_delay=30, name="screen_due")(self._screen_due)
        self.rescreen = queue.task(retries=3, retry_delay=60, name="rescreen")(self._rescreen)
        self.sweep = queue.periodic_task(crontab(minute="*"), name="sweep")(self._sweep)

    def screen_pending(self) -> dict[str, int]:
        """One batch of the steps after the biometric one: screening, then identity resolution (same transaction)."""
        return screening.run_pending(self.db, self.screener, then=after_screening)

    def _screen_due(self) -> None:
        while self.screen_pending()["screened"]:
            pass

    def _rescreen(self, version_id: str) -> None:
        screening.rescreen_version(self.db, self.screener, uuid.UUID(version_id))

    def _sweep(self) -> None:
        self._screen_due()
        with self.db.transaction() as session:
            statistics.refresh(session)
        screening.rescreen_pending(self.db, self.screener)

    # -- what the edges call, after their transaction has committed --------------------------------------------
    def after_enrolment(self) -> None:
        self.screen_due()

    def after_list_import(self, version_id: uuid.UUID) -> None:
        self.rescreen(str(version_id))

    def run_once(self) -> int:
        """Run every job that is due now (periodic and delayed ones included); returns how many ran."""
        now = utcnow().replace(tzinfo=None)
        for task in self.queue.read_periodic(now):
            self.queue.enqueue(task)
        for task in self.queue.read_schedule(now):
            self.queue.enqueue(task)
        ran = 0
        while (task := self.queue.dequeue()) is not None:
            try:
                self.queue.execute(task)
            except Exception as exc:  # huey has scheduled the retry; the runner goes on
                log.warning("job failed", extra={"job": task.name, "error": type(exc).__name__})
            ran += 1
        return ran


class Runner(Loop):
    """The server's thread for the queue (huey's consumer installs signal handlers, which only the main thread may
    do, and uvicorn owns those)."""

    def __init__(self, pipeline: Pipeline, interval: float = 1.0) -> None:
        super().__init__("job-runner", pipeline.run_once, interval)
