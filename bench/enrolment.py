"""Enrolment speed, on SQLite and PostgreSQL, each beside bare baselines measured in the same run.

  * bulk import of N synthetic encounters (`travesia.enrolment.bulk.run_import`: validation, MRZ checks, the body
    hash and the rows' storage form in a process pool; idempotency lookups, COPY or executemany and an audit event
    per batch in one writer) vs a bare write of the very rows the import stores, through the same writer, into the
    same five tables (persons, travel groups, encounters, documents, screenings); and the import with its checks
    inline (one process);
  * API enrolment (`POST /api/v1/encounters`, JSON, no images) from C concurrent loopback clients while worker
    processes drain a backlog of B pending registrations (bulk-imported into a database of its own first):
    durable enrolments per second with their audit events, latency p50/p95/p99; meanwhile an officer's pages
    (`/` and `/enrol`, signed in) are fetched every 100 ms: their p95; and how many registrations the workers
    screened during the window; vs bare one-row transactions.

Run:  .venv/bin/python bench/enrolment.py [--rows 200000] [--backlog 50000] [--requests 8000] [--clients 16]
                                          [--web 2] [--workers 1] [--only sqlite|postgresql] [--processes N]
The clients run on the same 2-core machine as the server and the workers, so API figures include their CPU use.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from travesia.auth import accounts
from travesia.auth import service as auth_service
from travesia.auth.passwords import Hasher
from travesia.auth.schemas import UserCreate
from travesia.core import migrations
from travesia.core.bulkwrite import write_stored
from travesia.core.crypto import Keyring
from travesia.core.db import Database
from travesia.core.pgserver import LocalPostgres
from travesia.core.pool import default_processes
from travesia.core.principal import Role, cli_principal
from travesia.core.settings import load_settings
from travesia.demo import STATIONS
from travesia.enrolment import bulk, bulk_checks
from travesia.enrolment.bulk_files import read_rows
from travesia.models import Document, Encounter, Person, Screening, TravelGroup
from travesia.stations import service as stations
from travesia.synth.population import write

ADMIN = cli_principal("bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str) -> None:
    migrations.upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        for station in STATIONS:
            stations.create_station(session, ADMIN, station)
    db.dispose()


def synthetic(folder: Path, rows: int, seed: int = 42) -> Path:
    people = int(rows / 1.2) + 10  # about 1.5 encounters a person; trimmed to rows below
    write(folder, people, seed=seed)
    path = folder / "encounters.jsonl"
    trimmed = folder / f"encounters-{rows}.jsonl"
    with path.open(encoding="utf-8") as source, trimmed.open("w", encoding="utf-8") as out:
        for index, line in enumerate(source):
            if index >= rows:
                break
            out.write(line)
    return trimmed


def _stations(db: Database) -> dict:
    with db.transaction() as session:
        return {s.code: s for s in stations.list_stations(session)}


def bare_tables(db: Database, path: Path, batch_size: int) -> list[bulk.Tables]:
    """The rows the import would store, batch by batch, in storage form, made by the import's own code (checks and
    the writer's decisions) outside the timing."""
    out = []
    rows = list(read_rows(path))
    with db.transaction() as session:
        context = bulk.import_context(session, ADMIN)
        for start in range(0, len(rows), batch_size):
            checked = bulk_checks.check_chunk(context, rows[start : start + batch_size])
            _, _, tables = bulk.storage_tables(session, context, checked, checked.rows)
            out.append(tables)
            for shape, stored in tables:  # so that the next batch sees this one's groups; rolled back below
                write_stored(session.connection(), shape, stored)
        session.rollback()
    return out


def _empty(db: Database) -> None:
    with db.transaction() as session:  # TRUNCATE on PostgreSQL: its DELETE checks every foreign key that points at
        # a person row by row, which took over ten minutes for 200,000
        for model in (Screening, Document, Encounter, TravelGroup, Person):
            if db.is_sqlite:
                session.execute(delete(model))
            else:
                session.execute(text(f"TRUNCATE {model.__tablename__} CASCADE"))


def _bare(db: Database, tables: list[bulk.Tables]) -> float:
    """Seconds to write the rows bare, batch by batch, through the import's own writer (the driver's COPY on
    PostgreSQL, its executemany on SQLite; no checks, no decisions, no audit)."""
    started = time.perf_counter()
    for batch in tables:
        with db.transaction() as session:
            for shape, rows in batch:
                write_stored(session.connection(), shape, rows)
    elapsed = time.perf_counter() - started
    _empty(db)
    return elapsed


def bench_import(url: str, path: Path, rows: int, processes: int | None) -> tuple[float, float]:
    """The bare baseline first, into the same (empty) tables, emptied again; then the real import.
    Returns rows/s of the import and of the bare write."""
    db = Database(url)
    bare = _bare(db, bare_tables(db, path, 5000))
    started = time.perf_counter()
    report, _ = bulk.run_import(db, ADMIN, path, batch_size=5000, processes=processes)
    elapsed = time.perf_counter() - started
    assert report.stored == rows and report.rejected == 0, (report.stored, report.rejected)
    db.dispose()
    return rows / elapsed, rows / bare


def _second_database(url: str) -> str:
    """The API phase's own database on the same PostgreSQL server."""
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("CREATE DATABASE bench_api"))
    engine.dispose()
    return make_url(url).set(database="bench_api").render_as_string(hide_password=False)


OFFICER, PASSWORD = "bench.officer", "una frase de paso muy larga 2026"


def make_token(url: str, data_dir: Path) -> str:
    settings = load_settings(data_dir=data_dir, database_url=url)
    ctx = auth_service.AuthContext(settings, Hasher(1, 1024), Keyring(settings.keyring_spec))
    db = Database(url)
    with db.transaction() as session:
        data = UserCreate(
            username=OFFICER,
            display_name="Bench",
            password=PASSWORD,
            roles=[Role.REGISTRATION_OFFICER],
            stations=["ERM-SAN-VICENTE"],
        )
        user = accounts.create_user(session, ctx, ADMIN, data)
        principal = auth_service.principal_for(user, station_id=None, via="token", credential_id=None)
        _, token = auth_service.create_token(session, ctx, principal, "bench", 1)
    db.dispose()
    return token


def _wait_ready(base: str, seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def _signed_in(base: str) -> httpx.Client:
    """A browser-like client signed in as the officer (a registration officer needs no second factor)."""
    http = httpx.Client(base_url=base, timeout=30, follow_redirects=False)
    page = http.get("/login")
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = http.post("/login", data={"username": OFFICER, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    return http


def _screened(url: str) -> int:
    db = Database(url)
    with db.transaction(readonly=True) as session:
        done = session.execute(text("SELECT count(*) FROM screenings WHERE status = 'done'")).scalar_one()
    db.dispose()
    return int(done)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)] * 1000


def bench_api(url: str, data_dir: Path, args: argparse.Namespace) -> dict[str, float]:
    token = make_token(url, data_dir)
    port = free_port()
    env = {
        **os.environ,
        "TRAVESIA_DATABASE_URL": url,
        "TRAVESIA_DATA_DIR": str(data_dir),
        "TRAVESIA_PORT": str(port),
        "TRAVESIA_WORKERS": str(args.web),
        "TRAVESIA_LOG_LEVEL": "WARNING",
        "TRAVESIA_COOKIE_SECURE": "false",  # plain http on loopback
    }
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.Popen([sys.executable, "-m", "travesia.cli", "serve", "--no-worker"], env=env, **quiet)
    base = f"http://127.0.0.1:{port}"
    workers = None
    try:
        ready = _wait_ready(base, 60)
        workers = subprocess.Popen(
            [sys.executable, "-m", "travesia.cli", "worker", "--processes", str(args.workers)], env=env, **quiet
        )
        while _screened(url) == 0:  # the workers have started on the backlog
            time.sleep(0.5)
        browser = _signed_in(base)
        latencies: list[float] = []
        pages: list[float] = []
        lock = threading.Lock()
        done = threading.Event()
        per_client = args.requests // args.clients

        def client() -> None:
            headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
            with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
                for i in range(per_client):
                    body = {
                        "id": str(uuid.uuid4()),
                        "given_names": "Yohana",
                        "surnames": f"Rojas {i}",
                        "sex": "F",
                        "birth_date": "1995-02-03",
                        "nationality": "VEN",
                        "languages": ["es"],
                    }
                    started = time.perf_counter()
                    response = http.post("/api/v1/encounters", content=json.dumps(body))
                    elapsed = time.perf_counter() - started
                    if response.status_code != 201:
                        raise RuntimeError(response.text)
                    with lock:
                        latencies.append(elapsed)

        def officer() -> None:
            while not done.wait(0.1):
                for path in ("/", "/enrol"):
                    started = time.perf_counter()
                    if browser.get(path).status_code != 200:
                        raise RuntimeError(f"{path} failed")
                    pages.append(time.perf_counter() - started)

        prober = threading.Thread(target=officer)
        prober.start()
        before = _screened(url)
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        drained = _screened(url) - before
        done.set()
        prober.join()
        browser.close()
    finally:
        for process in (server, workers):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    return {
        "ready": ready,
        "rate": len(latencies) / wall,
        "p50": _percentile(latencies, 0.50),
        "p95": _percentile(latencies, 0.95),
        "p99": _percentile(latencies, 0.99),
        "pages_p95": _percentile(pages, 0.95),
        "pages": len(pages),
        "drain": drained / wall,
    }


def bare_transactions(url: str, n: int = 2000) -> float:
    engine = create_engine(url, poolclass=NullPool) if "postgresql" in url else Database(url).engine
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE bench_bare (id INTEGER PRIMARY KEY, v VARCHAR(20))"))
    started = time.perf_counter()
    db = Database(url)
    for i in range(n):
        with db.transaction() as session:
            session.execute(text("INSERT INTO bench_bare (id, v) VALUES (:i, 'x')"), {"i": i})
    rate = n / (time.perf_counter() - started)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE bench_bare"))
    db.dispose()
    engine.dispose()
    return rate


def run(
    label: str, url: str, backlog_url: str, data_dir: Path, paths: tuple[Path, Path], args: argparse.Namespace
) -> None:
    floor = bare_transactions(url)
    print(f"{label:10s} bare one-row transactions  {floor:9,.0f} /s", flush=True)
    if args.rows:
        bulk_phase(label, url, paths[0], args)
    if args.requests:
        api_phase(label, backlog_url, data_dir, paths[1], args)


def bulk_phase(label: str, url: str, path: Path, args: argparse.Namespace) -> None:
    prepare(url)
    imported, bare = bench_import(url, path, args.rows, args.processes)
    inline = ""
    if args.processes != 1:  # the same import with its checks inline, for the pool's share
        _empty(Database(url))
        alone, _ = bench_import(url, path, args.rows, 1)
        inline = f"   checks inline (one process) {alone:9,.0f} rows/s"
    print(
        f"{label:10s} bulk import {args.rows} rows  {imported:9,.0f} rows/s (checks in "
        f"{args.processes or default_processes()} processes)   bare write of the same rows into the same 5 tables "
        f"through the import's writer {bare:9,.0f} rows/s ({imported / bare:.2f} of it){inline}",
        flush=True,
    )


def api_phase(label: str, backlog_url: str, data_dir: Path, path: Path, args: argparse.Namespace) -> None:
    prepare(backlog_url)
    db = Database(backlog_url)
    report, _ = bulk.run_import(db, ADMIN, path, batch_size=5000)
    db.dispose()
    api = bench_api(backlog_url, data_dir, args)
    print(
        f"{label:10s} API enrolment, {args.clients} clients, {args.web} web processes, {args.workers} workers "
        f"draining a {report.stored:,} backlog: {api['rate']:7,.0f} /s   p50 {api['p50']:5.1f} ms  "
        f"p95 {api['p95']:5.1f} ms  p99 {api['p99']:5.1f} ms   officer's pages p95 {api['pages_p95']:5.0f} ms "
        f"({api['pages']:.0f} fetched)   workers screened {api['drain']:5.0f} /s meanwhile   ready in {api['ready']:.1f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000, help="bulk import rows (0: no bulk phase)")
    parser.add_argument("--backlog", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=8000, help="API enrolments (0: no API phase)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--web", type=int, default=2, help="web processes")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--processes", type=int, help="processes checking the import's rows (default: one a core)")
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(
        f"# command: .venv/bin/python bench/enrolment.py --rows {args.rows} --backlog {args.backlog} "
        f"--requests {args.requests} --clients {args.clients} --web {args.web} --workers {args.workers}"
        + (f" --only {args.only}" if args.only else "")
        + (f" --processes {args.processes}" if args.processes else "")
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = (synthetic(folder / "synth", max(args.rows, 1)), synthetic(folder / "backlog", args.backlog, seed=43))
        if args.only != "postgresql":
            sqlite = (f"sqlite:///{folder / 'bench.db'}", f"sqlite:///{folder / 'backlog' / 'api.db'}")
            run("sqlite", *sqlite, folder / "backlog", paths, args)
        if args.only != "sqlite":
            local = LocalPostgres(folder / "pg", free_port())
            try:
                url = local.start()
                run("postgresql", url, _second_database(url), folder / "pg-data", paths, args)
            finally:
                local.stop()


if __name__ == "__main__":
    main()
