"""Durability under crashes: the server is killed with SIGKILL at random moments while a client enrols on loopback
(bounded: a fixed number of kills and a time limit). After restart, every encounter the client saw acknowledged is
present exactly once, and retrying the unacknowledged ones never duplicates."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from tests.enrolment.conftest import person
from tests.live import api_token, cli_env, free_port, run_cli, wait_ready
from travesia.models import Encounter

pytestmark = pytest.mark.xdist_group("servers")  # one server test at a time: two cores, each starts processes

KILLS = 5
DEADLINE_S = 90


def start(env, port):
    return subprocess.Popen(
        [sys.executable, "-m", "travesia.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_sigkill_never_loses_an_acknowledged_enrolment(fresh_database_url, tmp_path):
    env = cli_env(fresh_database_url, tmp_path)
    assert run_cli(env, "db", "upgrade").returncode == 0
    assert run_cli(env, "stations", "add", "ERM-CRASH", "--name", "Crash").returncode == 0
    made = run_cli(
        env,
        "users",
        "create",
        "oficial.crash",
        "--role",
        "registration_officer",
        "--station",
        "ERM-CRASH",
        "--password-stdin",
        stdin="una frase de paso bastante larga\n",
    )
    assert made.returncode == 0, made.stderr
    headers = {"Authorization": f"Bearer {api_token(env, 'oficial.crash')}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    rng = random.Random(20261122)
    acknowledged: dict[str, dict] = {}
    uncertain: dict[str, dict] = {}
    deadline = time.monotonic() + DEADLINE_S

    for _ in range(KILLS):
        server = start(env, port)
        wait_ready(base, deadline)
        stop = threading.Event()

        def client(stop: threading.Event = stop) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=2) as http:
                while not stop.is_set():
                    body = person(id=str(uuid.uuid4()), surnames=f"Crash {len(acknowledged)}")
                    try:
                        response = http.post("/api/v1/encounters", json=body)
                    except httpx.HTTPError:
                        uncertain[body["id"]] = body  # sent, no answer: may or may not be stored
                        return
                    assert response.status_code == 201, response.text
                    acknowledged[body["id"]] = body

        worker = threading.Thread(target=client)
        worker.start()
        time.sleep(rng.uniform(0.3, 1.5))
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        worker.join(timeout=10)
        assert time.monotonic() < deadline, "crash test ran out of time"

    server = start(env, port)
    try:
        wait_ready(base, deadline)
        with httpx.Client(base_url=base, headers=headers, timeout=5) as http:
            for encounter_id in acknowledged:
                assert http.get(f"/api/v1/encounters/{encounter_id}").status_code == 200, encounter_id
            for body in uncertain.values():  # the client's retry: stored once whatever happened before
                assert http.post("/api/v1/encounters", json=body).status_code in (200, 201)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    engine = create_engine(fresh_database_url, poolclass=NullPool)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(Encounter)).scalar_one()
    engine.dispose()
    assert len(acknowledged) > 20, "the client barely enrolled anything: the test proves little"
    assert stored == len(acknowledged) + len(uncertain)
    assert run_cli(env, "audit", "verify").returncode == 0
