"""Is `make demo` usable the moment it prints its URL? The demo set up as `make demo` does (3,000 people, whose
biometric and screening steps are left to the worker), then `travesia serve` (with the worker it starts): every
role signs in through the form (and the second factor where the role needs one) and opens every page of its menu,
while the worker works through the demo's backlog. Reported: the time to ready, sign-in and page times (p50, p95,
max), the backlog before and after the walk; the baseline in the same run is `/healthz` (no database, no
template), fetched between the pages.

Run:  python bench/demo_start.py [--people 3000]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.enrolment import free_port
from bench.page_weight import ROLES, cli, sign_in


def pending(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT count(*) FROM screenings WHERE status = 'pending'").fetchone()[0])


def timed(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return time.perf_counter() - started


def summary(label: str, values: list[float]) -> str:
    ordered = sorted(values)
    p = lambda q: ordered[min(int(len(ordered) * q), len(ordered) - 1)] * 1000  # noqa: E731
    return (
        f"{label:24s} n={len(values):3d}  p50 {p(0.5):6.0f} ms  p95 {p(0.95):6.0f} ms  max {ordered[-1] * 1000:6.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=3000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="demo-start-"))
    database = folder / "t.db"
    port = free_port()
    env = {**os.environ, "TRAVESIA_DATA_DIR": str(folder), "TRAVESIA_DATABASE_URL": f"sqlite:///{database}",
           "TRAVESIA_PORT": str(port), "TRAVESIA_COOKIE_SECURE": "false", "TRAVESIA_LOG_LEVEL": "WARNING"}  # fmt: skip
    cli(env, "db", "upgrade")
    started = time.perf_counter()
    out = cli(env, "demo", "setup", "--people", str(args.people))
    setup_s = time.perf_counter() - started
    password = re.search(r"password: (\S+)", out).group(1)  # type: ignore[union-attr]
    secrets = dict(re.findall(r"(demo-[\w-]+)\s+│\s+\w+\s+│\s+([A-Z2-7]{32})", out))
    backlog_before = pending(database)
    server = subprocess.Popen([sys.executable, "-m", "travesia.cli", "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    signins, pages, baseline = [], [], []
    try:
        started = time.perf_counter()
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        ready_s = time.perf_counter() - started
        for username in ROLES:
            with httpx.Client(base_url=base, timeout=30) as client:
                t0 = time.perf_counter()
                sign_in(client, username, password, secrets)
                signins.append(time.perf_counter() - t0)
                links = re.findall(r'<li><a href="(/[^"]*)"', client.get("/").text)
                for href in links:
                    pages.append(timed(client, href))
                    baseline.append(timed(client, "/healthz"))
        backlog_after = pending(database)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"demo setup ({args.people} people): {setup_s:.1f} s; server ready {ready_s:.1f} s after start")
    print(f"backlog of registrations waiting for the worker: {backlog_before} before the walk, {backlog_after} after")
    print(summary("sign-in (form, 2FA)", signins))
    print(summary("menu pages, every role", pages))
    print(summary("/healthz (baseline)", baseline))
    print(f"command: python bench/demo_start.py --people {args.people}")


if __name__ == "__main__":
    main()
