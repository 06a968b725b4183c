"""Page weight on a slow link: every page in every role's menu, as `make demo` serves it, in bytes and in seconds
over a 2G-class field link — the first visit (the HTML and every script, style sheet and image it loads) and a
later one (the HTML only: static files are revalidated with a 304) — beside a baseline measured in the same run:
the login page, the smallest page there is. Gzip sizes show what a compressing reverse proxy would send.

A real `travesia serve` on loopback over a fresh SQLite database with the demo (200 people); each role signs in
through the login form (and the second factor where the role needs one).

Run:  python bench/page_weight.py [--kbps 256]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kbps", type=int, default=256, help="the slow link, in kilobits per second")
    parser.add_argument("--people", type=int, default=200)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="page-weight-"))
    port = free_port()
    env = {**os.environ, "TRAVESIA_DATA_DIR": str(folder), "TRAVESIA_DATABASE_URL": f"sqlite:///{folder}/t.db",
           "TRAVESIA_PORT": str(port), "TRAVESIA_COOKIE_SECURE": "false"}  # httpx keeps Secure cookies off http  # fmt: skip
    cli(env, "db", "upgrade")
    out = cli(env, "demo", "setup", "--people", str(args.people))
    password = re.search(r"password: (\S+)", out).group(1)
    secrets = dict(re.findall(r"(demo-[\w-]+)\s+│\s+\w+\s+│\s+([A-Z2-7]{32})", out))
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
        with httpx.Client(base_url=base) as anonymous:
            login = weigh(anonymous, "/login", assets)
        rows = [("/login (baseline)", "-", *login)]
        for username in ROLES:
            with httpx.Client(base_url=base) as client:
                sign_in(client, username, password, secrets)
                links = re.findall(r'<li><a href="(/[^"]*)"', client.get("/").text)
                rows += [(href, username, *weigh(client, href, assets)) for href in links]
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
        print(f"command: python bench/page_weight.py --kbps {args.kbps} --people {args.people}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
