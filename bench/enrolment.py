"""Enrolment speed: bulk import and API enrolment, on SQLite and PostgreSQL, each beside a bare baseline.

  * bulk import of N synthetic encounters (`travesia.enrolment.bulk.run_import`, validation + MRZ checks +
    idempotency lookups + audit per batch) vs a bare `executemany` of the same rows into the same tables;
  * API enrolment (`POST /api/v1/encounters`, JSON, no images) from concurrent loopback clients: durable
    enrolments per second with their audit events, latency p50/p95; vs bare one-row transactions.

Run:  .venv/bin/python bench/enrolment.py [--rows 100000] [--requests 3000] [--clients 8] [--workers 2]
The client runs on the same 2-core machine as the server, so API figures include the client's CPU use.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, delete, insert, text
from sqlalchemy.pool import NullPool

from travesia.auth import accounts
from travesia.auth import service as auth_service
from travesia.auth.passwords import Hasher
from travesia.auth.schemas import UserCreate
from travesia.core import migrations
from travesia.core.crypto import Keyring
from travesia.core.db import Database, new_id, utcnow
from travesia.core.pgserver import LocalPostgres
from travesia.core.principal import Role, cli_principal
from travesia.core.settings import load_settings
from travesia.demo import STATIONS
from travesia.enrolment import bulk, service
from travesia.enrolment.schemas import EncounterIn
from travesia.models import Encounter, Person
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


def synthetic(folder: Path, rows: int) -> Path:
    people = int(rows / 1.2) + 10  # about 1.5 encounters a person; trimmed to rows below
    write(folder, people, seed=42)
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


def bare_rows(path: Path, station_rows: dict) -> tuple[list[dict], list[dict]]:
    """The same encounters as plain row dicts, built by the import's own mapping (validated outside the timing)."""
    persons, encounters = [], []
    now = utcnow()
    for line in path.open(encoding="utf-8"):
        data = EncounterIn.model_validate_json(line)
        validated = service.Validated(
            captured=service.Captured(data=data, principal=ADMIN, source="import"),
            station=station_rows[data.station],
            documents=[],
            body_hash="0" * 64,
            birth=data.birth_parts(),
        )
        person_id = new_id()
        persons.append({"id": person_id, "created_at": now})
        row = service.encounter_values(validated, person_id=person_id, group_id=None, now=now)
        encounters.append({**row, "id": new_id()})
    return persons, encounters


def bench_import(url: str, path: Path, rows: int) -> tuple[float, float]:
    """The bare baseline first, into the same (empty) tables, then emptied again; then the real import."""
    db = Database(url)
    persons, encounters = bare_rows(path, _stations(db))
    started = time.perf_counter()
    for start in range(0, len(encounters), 5000):
        with db.transaction() as session:
            connection = session.connection()
            connection.execute(insert(Person.__table__), persons[start : start + 5000])
            connection.execute(insert(Encounter.__table__), encounters[start : start + 5000])
    bare = time.perf_counter() - started
    with db.transaction() as session:
        session.execute(delete(Encounter))
        session.execute(delete(Person))
    started = time.perf_counter()
    report, _ = bulk.run_import(db, ADMIN, path, batch_size=5000)
    elapsed = time.perf_counter() - started
    assert report.stored == rows and report.rejected == 0, (report.stored, report.rejected)
    db.dispose()
    return rows / elapsed, rows / bare


def make_token(url: str, data_dir: Path) -> str:
    settings = load_settings(data_dir=data_dir, database_url=url)
    ctx = auth_service.AuthContext(settings, Hasher(1, 1024), Keyring(settings.keyring_spec))
    db = Database(url)
    with db.transaction() as session:
        data = UserCreate(
            username="bench.officer",
            display_name="Bench",
            password="una frase de paso muy larga 2026",
            roles=[Role.REGISTRATION_OFFICER],
            stations=["ERM-SAN-VICENTE"],
        )
        user = accounts.create_user(session, ctx, ADMIN, data)
        principal = auth_service.principal_for(user, station_id=None, via="token", credential_id=None)
        _, token = auth_service.create_token(session, ctx, principal, "bench", 1)
    db.dispose()
    return token


def bench_api(url: str, data_dir: Path, requests: int, clients: int, workers: int) -> dict[str, float]:
    token = make_token(url, data_dir)
    port = free_port()
    env = {
        **os.environ,
        "TRAVESIA_DATABASE_URL": url,
        "TRAVESIA_DATA_DIR": str(data_dir),
        "TRAVESIA_PORT": str(port),
        "TRAVESIA_WORKERS": str(workers),
        "TRAVESIA_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "travesia.cli", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        latencies: list[float] = []
        lock = threading.Lock()
        per_client = requests // clients

        def run() -> None:
            headers = {"Authorization": f"Bearer {token}"}
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
                    response = http.post(
                        "/api/v1/encounters", content=json.dumps(body), headers={"content-type": "application/json"}
                    )
                    elapsed = time.perf_counter() - started
                    if response.status_code != 201:
                        raise RuntimeError(response.text)
                    with lock:
                        latencies.append(elapsed)

        threads = [threading.Thread(target=run) for _ in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies.sort()
    return {
        "rate": len(latencies) / wall,
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95)] * 1000,
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


def run(label: str, url: str, data_dir: Path, path: Path, args: argparse.Namespace) -> None:
    prepare(url)
    imported, bare = bench_import(url, path, args.rows)
    print(
        f"{label:10s} bulk import {args.rows} rows  {imported:9,.0f} rows/s   bare executemany {bare:9,.0f} rows/s"
        f"   ({imported / bare:.2f} of bare)",
        flush=True,
    )
    api = bench_api(url, data_dir, args.requests, args.clients, args.workers)
    floor = bare_transactions(url)
    print(
        f"{label:10s} API enrolment ({args.clients} clients, {args.workers} workers)  {api['rate']:7,.0f} /s   "
        f"p50 {api['p50']:5.1f} ms  p95 {api['p95']:5.1f} ms   bare one-row transactions {floor:7,.0f} /s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(
        f"# command: .venv/bin/python bench/enrolment.py --rows {args.rows} --requests {args.requests} "
        f"--clients {args.clients} --workers {args.workers}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = synthetic(folder / "synth", args.rows)
        if args.only != "postgresql":
            run("sqlite", f"sqlite:///{folder / 'bench.db'}", folder, path, args)
        if args.only != "sqlite":
            local = LocalPostgres(folder, free_port())
            try:
                run("postgresql", local.start(), folder, path, args)
            finally:
                local.stop()


if __name__ == "__main__":
    main()
