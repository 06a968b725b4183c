"""Page weight on a slow link: every page in every role's menu, as `make demo` serves it, in bytes and in seconds
over a 2G-class field link — the first visit (the HTML and every script, style sheet and image it loads) and a
later one (the HTML only: static files are revalidated with a 304) — beside a baseline measured in the same run:
the login page, the smallest page there is. Gzip sizes show what a compressing reverse proxy would send.

A real `travesia serve` on loopback over a fresh SQLite database with the demo (200 people); each role signs in
through the login form (and the second factor where the role needs one).

With --alerts N (default 2,000) that many alerts, identity proposals, protection cases and flagged networks are
added to the demo's before the server starts, and each queue (and the audit trail) is timed on the server side
(loopback, no link): the first page, a page deep in it reached through the cursors, and a filtered view, each asked
20 times; p95 in milliseconds and HTML per page.

Run:  python bench/page_weight.py [--kbps 256] [--alerts 2000]
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.enrolment import free_port

ROLES = ["demo-registro", "demo-analista", "demo-supervisor", "demo-proteccion", "demo-programas", "demo-enlace",
         "demo-estadistica", "demo-auditoria", "demo-admin"]  # fmt: skip
ASSET = re.compile(r'<(?:script|img)[^>]+src="(/[^"]+)"|<link[^>]+href="(/[^"]+)"')


def cli(env: dict[str, str], *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "travesia.cli", *args], env=env, capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def sign_in(client: httpx.Client, username: str, password: str, secrets: dict[str, str]) -> None:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    answer = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    if answer.headers.get("location", "").endswith("/login/second-factor"):
        page = client.get("/login/second-factor").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login/second-factor", data={"code": pyotp.TOTP(secrets[username]).now(), "csrf_token": token})
    assert client.get("/").status_code == 200, username


def weigh(client: httpx.Client, path: str, assets: dict[str, int]) -> tuple[int, int, int]:
    """HTML bytes, HTML gzip bytes, and the bytes of the scripts, styles and images the page loads."""
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    html = response.content
    extra = 0
    for script_or_img, link in ASSET.findall(response.text):
        url = script_or_img or link
        if url not in assets:
            fetched = client.get(url)  # what crosses the link: compressed where the server compresses
            fetched.read()
            assets[url] = fetched.num_bytes_downloaded
        extra += assets[url]
    return len(html), len(gzip.compress(html, 6)), extra


def plant_alerts(url: str, count: int) -> None:
    """``count`` alerts on the demo's registrations and list entries, of every kind, over the last 80 days."""
    import uuid
    from datetime import timedelta

    from sqlalchemy import create_engine, insert, select

    from travesia.core.db import utcnow
    from travesia.models import Alert, Encounter, WatchlistEntry

    engine = create_engine(url)
    with engine.begin() as conn:
        encounters = list(conn.execute(select(Encounter.id).limit(500)).scalars())
        entries = list(conn.execute(select(WatchlistEntry.id).limit(50)).scalars())
        kinds = ("watchlist", "same_document", "same_biometrics", "lost_document")
        now = utcnow()
        conn.execute(insert(Alert), [
            {"id": uuid.uuid4(), "dedupe_key": f"bench-{n}", "encounter_id": encounters[n % len(encounters)],
             "kind": kinds[n % 4], "entry_id": entries[n % len(entries)] if n % 4 == 0 else None,
             "score": 0.5 + (n % 50) / 100, "priority": 1 + n % 5, "explanation": [], "state": "open",
             "created_at": now - timedelta(hours=n)}
            for n in range(count)
        ])  # fmt: skip
    engine.dispose()


def plant_queues(url: str, count: int) -> None:
    """``count`` identity proposals, open protection cases and flagged networks, for the other queues."""
    import uuid
    from datetime import timedelta

    from sqlalchemy import create_engine, insert, select

    from travesia.core.db import utcnow
    from travesia.models import Encounter, IdentityDecision, NetworkCluster, Person, ProtectionCase

    engine = create_engine(url)
    now = utcnow()
    with engine.begin() as conn:
        persons = list(conn.execute(select(Encounter.person_id).limit(500)).scalars())
        conn.execute(insert(IdentityDecision), [
            {"kind": "merge", "state": "proposed", "source": "batch", "person_id": persons[n % len(persons)],
             "from_person_id": persons[(n + 1) % len(persons)], "score": round(0.5 + (n % 97) / 200, 4),
             "evidence": [], "moves": [], "encounter_ids": [], "reason": "", "created_at": now - timedelta(hours=n)}
            for n in range(count)
        ])  # fmt: skip
        fresh = [{"id": uuid.uuid4()} for _ in range(count)]  # one open case per person
        conn.execute(insert(Person), fresh)
        conn.execute(insert(ProtectionCase), [
            {"id": uuid.uuid4(), "person_id": p["id"], "kind": "general", "state": "open",
             "opened_at": now - timedelta(hours=n)}
            for n, p in enumerate(fresh)
        ])  # fmt: skip
        conn.execute(insert(NetworkCluster), [
            {"algorithm": "bench", "size": 2 + n % 30, "score": round(1 + (n % 53) / 7, 3), "state": "open",
             "reasons": [{"reason": "parties_share_phone", "key": "+507", "parties": 3, "weight": 3.0}],
             "person_ids": [str(persons[(n + k) % len(persons)]) for k in range(5)]}
            for n in range(count)
        ])  # fmt: skip
    engine.dispose()


def time_queue(client: httpx.Client, first: str, count: int, extra: list[str]) -> list[tuple[str, float, int]]:
    """(view, p95 ms over 20 asks, HTML bytes) for a queue's first page, a page thirty in (through the cursors)
    and the filtered views ``extra``."""
    deep, url, depth = first, first, 0
    for _ in range(min(count // 50 - 1, 30)):
        found = re.search(r'<a rel="next" href="([^"]+)"', client.get(url).text)
        if not found:
            break
        deep = url = found.group(1).replace("&amp;", "&")
        depth += 1
    views = [(f"{first} (page 1)", first), (f"{first} (page {depth + 1}, by cursor)", deep)]
    views += [(path, path) for path in extra]
    out = []
    for label, path in views:
        times = []
        for _ in range(20):
            started = time.perf_counter()
            answer = client.get(path)
            times.append(time.perf_counter() - started)
            assert answer.status_code == 200, (path, answer.status_code)
        out.append((label, sorted(times)[18] * 1000, len(answer.content)))
    return out


QUEUES = {  # who works which queue, and the filtered views timed besides its pages
    "demo-analista": [("/alerts", ["/alerts?kind=watchlist&sort=age"]),
                      ("/identity/proposals", ["/identity/proposals?source=batch&sort=age"]),
                      ("/network/clusters", ["/network/clusters?min_size=20"])],
    "demo-proteccion": [("/protection?view=all", ["/protection?view=all&kind=general"])],
    "demo-auditoria": [("/audit", ["/audit?action=encounter.create"])],
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kbps", type=int, default=256, help="the slow link, in kilobits per second")
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=2000, help="alerts added for the analyst's queue")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="page-weight-"))
    port = free_port()
    env = {**os.environ, "TRAVESIA_DATA_DIR": str(folder), "TRAVESIA_DATABASE_URL": f"sqlite:///{folder}/t.db",
           "TRAVESIA_PORT": str(port), "TRAVESIA_COOKIE_SECURE": "false"}  # httpx keeps Secure cookies off http  # fmt: skip
    cli(env, "db", "upgrade")
    out = cli(env, "demo", "setup", "--people", str(args.people))
    password = re.search(r"password: (\S+)", out).group(1)
    secrets = dict(re.findall(r"(demo-[\w-]+)\s+│\s+\w+\s+│\s+([A-Z2-7]{32})", out))
    plant_alerts(env["TRAVESIA_DATABASE_URL"], args.alerts)
    plant_queues(env["TRAVESIA_DATABASE_URL"], args.alerts)
    server = subprocess.Popen([sys.executable, "-m", "travesia.cli", "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        bytes_per_s = args.kbps * 1000 / 8
        assets: dict[str, int] = {}
        queue: list[tuple[str, float, int]] = []
        with httpx.Client(base_url=base) as anonymous:
            login = weigh(anonymous, "/login", assets)
        rows = [("/login (baseline)", "-", *login)]
        for username in ROLES:
            with httpx.Client(base_url=base) as client:
                sign_in(client, username, password, secrets)
                links = re.findall(r'<li><a href="(/[^"]*)"', client.get("/").text)
                rows += [(href, username, *weigh(client, href, assets)) for href in links]
                for first, extra in QUEUES.get(username, []):
                    queue += time_queue(client, first, args.alerts, extra)
                if username == "demo-analista":  # the pages one opens from a list: an alert, a person
                    alert = re.search(r'href="(/alerts/[0-9a-f-]+)"', client.get("/alerts").text).group(1)
                    rows.append(("/alerts/{id}", username, *weigh(client, alert, assets)))
                    found = client.get("/persons", params={"q": "Rojas"}).text  # a surname common in the demo
                    person = re.search(r'href="(/persons/[0-9a-f-]+)"', found)
                    if person:
                        rows.append(("/persons/{id}", username, *weigh(client, person.group(1), assets)))
        print(f"Page weight, {platform.node()} · {platform.processor() or platform.machine()}, link {args.kbps} kbit/s")
        print(
            "| page | role | HTML | HTML gzip | scripts, styles, images | first visit | later visit | ratio to login |"
        )
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        seen: set[str] = set()
        for path, role, html, zipped, extra in rows:
            if path in seen:
                continue
            seen.add(path)
            first, later = (html + extra) / bytes_per_s, html / bytes_per_s
            print(f"| {path} | {role} | {html / 1000:.1f} kB | {zipped / 1000:.1f} kB | {extra / 1000:.1f} kB | "
                  f"{first:.1f} s | {later:.1f} s | {html / login[0]:.1f} |")  # fmt: skip
        heaviest = max(rows, key=lambda r: r[2])
        print(f"\nheaviest HTML: {heaviest[0]} {heaviest[2] / 1000:.1f} kB ({heaviest[3] / 1000:.1f} kB gzip); "
              f"static files in all: {sum(assets.values()) / 1000:.1f} kB")  # fmt: skip
        print(f"\nThe queues with {args.alerts:,} items more each, server time on loopback (20 asks each):")
        print("| view | p95 | HTML |\n| --- | ---: | ---: |")
        for label, p95, size in queue:
            print(f"| {label} | {p95:.0f} ms | {size / 1000:.1f} kB |")
        print(f"command: python bench/page_weight.py --kbps {args.kbps} --people {args.people} --alerts {args.alerts}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
