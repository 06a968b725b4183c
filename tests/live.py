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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "TRAVESIA_DATABASE_URL": database_url, "TRAVESIA_DATA_DIR": str(data_dir), **extra}


def run_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "travesia.cli", *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


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
