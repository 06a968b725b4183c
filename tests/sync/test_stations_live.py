"""Central and two field stations as separate processes on loopback, each station behind a proxy that the test cuts.

The stations register people while central is unreachable; then, for a bounded number of rounds, the test cuts a
link in the middle of a sync and SIGKILLs a station or central at random moments while the stations keep
registering. At the end, with the links up, every registration is at central exactly once with the station's own
number, the batches of each station arrived in order, central's alerts reached the station that registered the
person, and a replayed or tampered envelope is refused."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import create_engine, select
from sqlalchemy.pool import NullPool

from tests.enrolment.conftest import person
from tests.live import api_token, cli_env, free_port, run_cli, wait_ready
from travesia.auth import accounts
from travesia.auth.passwords import Hasher
from travesia.auth.schemas import UserCreate
from travesia.auth.service import AuthContext
from travesia.core import crypto, migrations
from travesia.core.crypto import Keyring
from travesia.core.db import Database
from travesia.core.principal import Role, cli_principal
from travesia.core.settings import load_settings
from travesia.models import Encounter, Station, SyncBatch, SyncNotice, SyncState
from travesia.screening import listing
from travesia.screening.schemas import WatchlistIn
from travesia.stations import service as stations
from travesia.stations.schemas import StationCreate
from travesia.sync import central
from travesia.sync import station as station_side

pytestmark = pytest.mark.xdist_group("servers")  # one server test at a time: two cores, each starts processes

ROUNDS = 6
DEADLINE_S = 240
STATIONS = ("ERM-ALFA", "ERM-BETA")
PASSWORD = "una frase de paso bastante larga"
OPERATOR = cli_principal("live-test")
LISTED = {"id": "w-1", "schema": "Person", "properties": {"name": ["Youssef Haddad"], "birthDate": ["1990-05-17"]}}


class Link:
    """A TCP proxy on loopback standing for a station's link to central: ``cut()`` drops every connection in
    flight and refuses new ones until ``restore()``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.up = threading.Event()
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up.clear()
        with self.lock:
            for s in self.sockets:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
            self.sockets.clear()

    def restore(self) -> None:
        self.up.set()

    def close(self) -> None:
        self.cut()
        self.listener.close()


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.port = env, log, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, deadline: float) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "travesia.cli", "serve", "--port", str(self.port)],
                env=self.env, stdout=log, stderr=log,
            )  # fmt: skip
        wait_ready(self.base, deadline, self.log)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _set_up_central(url: str, folder: Path) -> None:
    """Set up in process (the CLI's start-up would cost seconds a call): stations and a list with one person."""
    migrations.upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        for code in STATIONS:
            stations.create_station(session, OPERATOR, StationCreate(code=code, name=code, kind="reception"))
        listing.create_list(
            session, OPERATOR, WatchlistIn(name="wanted", title="Wanted", owner="DIJ", legal_basis="Ley")
        )
        lines = io.StringIO(json.dumps(LISTED) + "\n")
        listing.import_list(session, OPERATOR, "wanted", lines, file_name="w.jsonl")
    db.dispose()


def _set_up_station(code: str, folder: Path, central_url: str, link: Link) -> tuple[dict, str]:
    url = f"sqlite:///{folder / 'station.db'}"
    env = cli_env(
        url, folder,
        TRAVESIA_STATION=code, TRAVESIA_CENTRAL_URL=f"http://127.0.0.1:{link.port}",
        TRAVESIA_SYNC_INTERVAL="0.3",
    )  # fmt: skip
    migrations.upgrade(url)
    settings = load_settings(data_dir=folder, database_url=url)
    ctx = AuthContext(settings, Hasher(1, 1024), Keyring(settings.keyring_spec))
    key = crypto.load_or_create_key(folder / "station-signing.pem")  # where `serve --station` finds it
    db, central_db = Database(url), Database(central_url)
    with db.transaction() as session:
        stations.create_station(session, OPERATOR, StationCreate(code=code, name=code, kind="reception"))
        user = UserCreate(username=f"oficial.{code.lower()}", display_name="Oficial", roles=[Role.REGISTRATION_OFFICER],
                          stations=[code], password=PASSWORD)  # fmt: skip
        accounts.create_user(session, ctx, OPERATOR, user)
    with central_db.transaction() as session:
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        central.trust_key(session, OPERATOR, code, base64.b64encode(raw).decode())
    db.dispose()
    central_db.dispose()
    return env, api_token(env, f"oficial.{code.lower()}")


def test_two_stations_sync_exactly_once_in_order_through_cuts_and_kills(fresh_database_url, tmp_path):
    rng = random.Random(20261123)
    deadline = time.monotonic() + DEADLINE_S
    central_dir = tmp_path / "central"
    central_env = cli_env(fresh_database_url, central_dir)
    _set_up_central(fresh_database_url, central_dir)
    hq = Server(central_env, tmp_path / "central.log")
    central_port = hq.port
    links = {code: Link(central_port) for code in STATIONS}
    servers, tokens = {}, {}
    for code in STATIONS:
        folder = tmp_path / code
        env, tokens[code] = _set_up_station(code, folder, fresh_database_url, links[code])
        servers[code] = Server(env, tmp_path / f"{code}.log")
    registered: dict[str, list[str]] = {code: [] for code in STATIONS}
    hits: dict[str, str] = {}

    def enrol(code: str, count: int, hit: bool = False) -> None:
        with httpx.Client(base_url=servers[code].base, timeout=5,
                          headers={"Authorization": f"Bearer {tokens[code]}"}) as http:  # fmt: skip
            for n in range(count):
                if hit and n == 0:
                    body = person(given_names="Youssef", surnames="Haddad", birth_date="1990-05-17", station=code)
                    hits[code] = body["id"]
                else:
                    body = person(surnames=f"Campo {code} {len(registered[code])}", station=code)
                answer = http.post("/api/v1/encounters", json=body)
                assert answer.status_code == 201, answer.text
                registered[code].append(body["id"])

    try:
        # Offline: central is down and the links are cut; the stations register anyway.
        for code in STATIONS:
            servers[code].start(deadline)
            enrol(code, 15, hit=True)
        hq.start(deadline)
        # Every kind of failure at least once, in a random order.
        victims = rng.sample(["link", "link", "station", "station", "central", "central"], ROUNDS)
        for victim in victims:
            for link in links.values():
                link.restore()
            for code in STATIONS:
                enrol(code, rng.randint(3, 8))
            time.sleep(rng.uniform(0.2, 1.0))  # a sync round is under way
            if victim == "link":
                links[rng.choice(STATIONS)].cut()
            elif victim == "station":
                code = rng.choice(STATIONS)
                servers[code].kill()
                servers[code].start(deadline)
            else:
                hq.kill()
                hq.start(deadline)
            assert time.monotonic() < deadline, "the test ran out of time"
        for link in links.values():
            link.restore()
        _wait_until_synced(servers, tokens, registered, hits, deadline)
    finally:
        for server in (*servers.values(), hq):
            server.stop()
        for link in links.values():
            link.close()

    engine = create_engine(fresh_database_url, poolclass=NullPool)
    with engine.connect() as conn:
        for code in STATIONS:
            station_id = conn.execute(select(Station.id).where(Station.code == code)).scalar_one()
            rows = conn.execute(
                select(Encounter.id, Encounter.station_seq).where(Encounter.station_id == station_id)
            ).all()
            at_station = _station_numbers(tmp_path / code)
            assert {str(r.id): r.station_seq for r in rows} == at_station  # each once, with the station's number
            assert sorted(at_station.values()) == list(range(1, len(registered[code]) + 1))
            assert set(at_station) == set(registered[code])
            batches = conn.execute(
                select(SyncBatch.first_seq, SyncBatch.last_seq).where(SyncBatch.station_id == station_id)
                .order_by(SyncBatch.id)
            ).all()  # fmt: skip
            held = 0
            for first, last in batches:  # in arrival order, each batch starts at or before the next number
                assert first <= held + 1 and last >= held, (first, last, held)
                held = max(held, last)
            assert held == len(registered[code])
    engine.dispose()
    _replayed_and_tampered_are_refused(tmp_path / STATIONS[0], central_env, tmp_path)


def _wait_until_synced(servers, tokens, registered, hits, deadline) -> None:
    """Until each station says central holds everything, and central's alert on the listed person came back."""
    pending = set(servers)
    while pending:
        assert time.monotonic() < deadline, f"not synced in time: {pending}"
        for code in list(pending):
            headers = {"Authorization": f"Bearer {tokens[code]}"}
            try:
                status = httpx.get(f"{servers[code].base}/api/v1/sync/status", headers=headers, timeout=2).json()
            except httpx.HTTPError:
                continue
            if status["pending"] == 0 and status["acked_seq"] == len(registered[code]) and status["alerts"] >= 1:
                pending.discard(code)
        time.sleep(0.3)
    for code in servers:
        db = Database(servers[code].env["TRAVESIA_DATABASE_URL"])
        with db.transaction(readonly=True) as session:
            alerted = set(session.execute(select(SyncNotice.encounter_id).where(SyncNotice.kind == "alert")).scalars())
        db.dispose()
        assert alerted == {uuid.UUID(hits[code])}, code  # the alert reached the station that registered the person


def _station_numbers(folder: Path) -> dict[str, int]:
    db = Database(f"sqlite:///{folder / 'station.db'}")
    with db.transaction(readonly=True) as session:
        rows = session.execute(select(Encounter.id, Encounter.station_seq)).all()
    db.dispose()
    return {str(r.id): r.station_seq for r in rows}


def _replayed_and_tampered_are_refused(folder: Path, central_env: dict[str, str], tmp_path: Path) -> None:
    """An envelope of registrations central already holds: accepted once as a retry, refused when replayed or
    changed in one byte."""
    db = Database(f"sqlite:///{folder / 'station.db'}")
    key = crypto.load_or_create_key(folder / "station-signing.pem")
    with db.transaction() as session:
        session.execute(SyncState.__table__.update().values(acked_seq=0))  # rolled back: only to seal the envelope
        blob = station_side.next_batch(session, key, limit=3).blob
        session.rollback()
    db.dispose()
    hq = Server(central_env, tmp_path / "central-final.log")
    hq.start(time.monotonic() + 60)
    try:

        def post(body: bytes) -> httpx.Response:
            headers = {"Content-Type": "application/vnd.travesia.sync"}
            return httpx.post(f"{hq.base}/api/v1/sync/batches", content=body, headers=headers)

        first = post(blob)
        assert first.status_code == 200 and first.json()["stored"] == 0 and first.json()["already"] == 3
        assert post(blob).status_code == 409
        tampered = blob[:-10] + bytes([blob[-10] ^ 0x40]) + blob[-9:]
        assert post(tampered).status_code == 401
    finally:
        hq.stop()
    verified = run_cli(central_env, "audit", "verify")
    assert verified.returncode == 0, verified.stdout
