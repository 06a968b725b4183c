"""A real `travesia serve` process on a free loopback port, for tests that need the whole stack."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from travesia.auth import repository
from travesia.auth import service as auth_service
from travesia.auth.passwords import Hasher
from travesia.auth.service import AuthContext
from travesia.core.crypto import Keyring
from travesia.core.db import Database
from travesia.core.settings import load_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "TRAVESIA_DATABASE_URL": database_url, "TRAVESIA_DATA_DIR": str(data_dir), **extra}


def api_token(env: dict[str, str], username: str) -> str:
    """An API token for an existing user of the database ``env`` points at (made directly, as an operator would)."""
    settings = load_settings(data_dir=env["TRAVESIA_DATA_DIR"], database_url=env["TRAVESIA_DATABASE_URL"])
    ctx = AuthContext(settings, Hasher(1, 1024), Keyring(settings.keyring_spec))
    db = Database(settings.sqlalchemy_url)
    with db.transaction() as session:
        user = repository.user_by_username(session, username)
        principal = auth_service.principal_for(user, station_id=None, via="token", credential_id=None)
        _, token = auth_service.create_token(session, ctx, principal, "live test", 1)
    db.dispose()
    return token


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "travesia.cli", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def wait_ready(base: str, deadline: float, log_path: Path | None = None) -> None:
    """Until the server at ``base`` answers /readyz (bounded by ``deadline``, a time.monotonic() value)."""
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    tail = log_path.read_text()[-1500:] if log_path else ""
    raise AssertionError(f"server did not become ready in time {tail}")


@contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """Start the server, wait until /readyz answers, yield its base URL, stop it (bounded waits throughout)."""
    port = free_port()
    env = {**env, "TRAVESIA_PORT": str(port)}
    base = f"http://127.0.0.1:{port}"
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "travesia.cli", "serve"], env=env, stdout=log_file, stderr=log_file
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{log_path.read_text()[-2000:]}")
                time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
