"""Worker processes: ``travesia worker`` runs huey's consumer over the pipeline's tasks; ``--processes N`` and
``travesia serve`` start such processes as children and supervise them (restarted if they die, stopped with the
parent, and killed by the kernel if the parent is killed: a SIGKILLed server leaves no orphan working on).

Each worker is its own process with one task thread (the steps are CPU-bound Python: threads would share one
core). Processes are started fresh, not forked, so no database connection or model is shared between them."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

from travesia.biometrics import service as biometrics
from travesia.core import crypto
from travesia.core.db import Database
from travesia.core.logging import get_logger
from travesia.core.settings import STATION_KEY_FILE, Settings
from travesia.pipeline.jobs import AuditSigning, Pipeline, make_queue
from travesia.screening import service as screening
from travesia.sync.agent import Agent

log = get_logger("travesia.worker")

PR_SET_PDEATHSIG = 1
STOP_GRACE_S = 10.0


def build_pipeline(cfg: Settings, db: Database | None = None, bio: biometrics.Biometrics | None = None) -> Pipeline:
    """The pipeline over the configured database and queue; a field station with a central address gets its sync
    agent (built in the worker, when the first round runs)."""
    db = db or Database(cfg.sqlalchemy_url, sqlite_synchronous=cfg.sqlite_synchronous)
    bio = bio or biometrics.Biometrics.from_settings(cfg)
    pipeline: Pipeline | None = None

    def make_agent() -> Agent:
        key = crypto.load_or_create_key(cfg.data_dir / STATION_KEY_FILE)

        def rescreen(version_ids: list[object]) -> None:
            for version_id in version_ids:
                pipeline.after_list_import(version_id)  # type: ignore[union-attr, arg-type]

        interval = cfg.sync_interval
        return Agent(db, key, cfg.central_url, after_lists=rescreen, bio=bio, backoff=(interval / 2, interval * 16))  # type: ignore[arg-type]

    station_sync = bool(cfg.station and cfg.central_url)
    pipeline = Pipeline(
        db,
        bio,
        screening.Screener(),
        make_queue(cfg.sqlalchemy_url, str(cfg.data_dir)),
        data_dir=cfg.data_dir,
        sync_agent=make_agent if station_sync else None,
        sync_interval=cfg.sync_interval,
        lease=timedelta(seconds=cfg.job_lease_seconds),
        audit_signing=AuditSigning(cfg.audit_key_path, cfg.audit_heads_path, timedelta(minutes=cfg.audit_sign_minutes)),
    )
    return pipeline


def run_worker(cfg: Settings, *, periodic: bool = True) -> None:
    """One worker process: huey's consumer in this (main) thread, one task thread, until SIGINT (finish the task
    in hand) or SIGTERM (stop now: the task's transaction rolls back and its claim's lease lets another take it)."""
    # background: on SQLite this process begins a write only while no request wants one (core.db's turnstile)
    db = Database(cfg.sqlalchemy_url, sqlite_synchronous=cfg.sqlite_synchronous, background=True)
    pipeline = build_pipeline(cfg, db)
    biometrics.load(pipeline.bio)
    if periodic:
        pipeline.start_sync()
        pipeline.wake()  # whatever was left due while no worker ran
    consumer = pipeline.queue.create_consumer(
        workers=1,
        worker_type="thread",
        periodic=periodic,
        initial_delay=0.05,  # idle polling: 50 ms, backing off to 1 s
        backoff=1.5,
        max_delay=1.0,
        scheduler_interval=1,
    )
    try:
        consumer.run()
    finally:
        biometrics.save(pipeline.bio)
        pipeline.db.dispose()


def die_with_parent(parent_pid: int | None = None) -> None:
    """In a child process (a worker before exec, a web process at start): the kernel sends it SIGTERM when its
    parent dies, however it died, so a SIGKILLed server leaves no process behind. A parent that died before the
    request reached the kernel (a web process imports the application for seconds first) is noticed here: the
    child ends at once instead of serving on as an orphan. ``parent_pid``: the parent at fork (default: the
    process that spawned this one through multiprocessing)."""
    with contextlib.suppress(OSError):  # not Linux: the supervisor's stop() still ends the child on a normal exit
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    spawner = multiprocessing.parent_process()
    parent = parent_pid if parent_pid is not None else spawner.pid if spawner is not None else None
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


class Supervisor:
    """Worker processes as children: started, restarted after a crash (with back-off), stopped with the parent."""

    def __init__(self, count: int, env: dict[str, str] | None = None) -> None:
        self.count, self.env = count, env
        self.children: list[subprocess.Popen[bytes] | None] = [None] * count
        self.stopping = threading.Event()
        self.watcher = threading.Thread(target=self._watch, name="worker-supervisor", daemon=True)

    def command(self, index: int) -> Sequence[str]:
        # Only the first runs the periodic sweep and the station's sync rounds: once per deployment is enough.
        extra = [] if index == 0 else ["--no-periodic"]
        return [sys.executable, "-m", "travesia.cli", "worker", "--processes", "1", *extra]

    def _spawn(self, index: int) -> None:
        self.children[index] = subprocess.Popen(
            self.command(index),
            env=self.env,
            preexec_fn=functools.partial(die_with_parent, os.getpid()) if sys.platform == "linux" else None,
        )

    def start(self) -> None:
        for index in range(self.count):
            self._spawn(index)
        self.watcher.start()

    def _watch(self) -> None:
        delays = [1.0] * self.count
        while not self.stopping.wait(1.0):
            for index, child in enumerate(self.children):
                if child is None or child.poll() is None or self.stopping.is_set():
                    continue
                log.warning("worker exited; restarting", extra={"worker": index, "code": child.returncode})
                time.sleep(min(delays[index], 30.0))
                delays[index] *= 2
                if not self.stopping.is_set():
                    self._spawn(index)

    def stop(self) -> None:
        """SIGTERM to every child, then SIGKILL to any still running after the grace period."""
        self.stopping.set()
        live = [c for c in self.children if c is not None and c.poll() is None]
        for child in live:
            child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in live:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def wait(self) -> None:
        """Until SIGINT or SIGTERM (``travesia worker --processes N`` in the foreground)."""
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(1.0):
            pass
        self.stop()
