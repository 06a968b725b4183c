"""Logs are JSON and carry no personal data: run the real server, sign in and out with a known name and
password, and grep everything it wrote."""

import json
import re

import httpx
import pytest

from tests.live import cli_env, run_cli, serving

pytestmark = pytest.mark.xdist_group("servers")  # one server test at a time: two cores, each starts processes

USERNAME = "maria.quispe.huamani"
DISPLAY = "María Quispe Huamaní"
PASSWORD = "orquídea del darién 1234"
WRONG = "contraseña equivocada del río"


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)


def test_server_logs_hold_no_personal_data(fresh_database_url, tmp_path):
    env = cli_env(fresh_database_url, tmp_path, TRAVESIA_COOKIE_SECURE="false", TRAVESIA_LOG_LEVEL="DEBUG")
    assert run_cli(env, "db", "upgrade").returncode == 0
    assert run_cli(env, "stations", "add", "HQ", "--name", "Sede", "--kind", "headquarters").returncode == 0
    created = run_cli(env, "users", "create", USERNAME, "--role", "registration_officer", "--station", "HQ",
                      "--name", DISPLAY, "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip
    assert created.returncode == 0, created.stderr
    log_path = tmp_path / "server.log"
    with serving(env, log_path) as base, httpx.Client(base_url=base, follow_redirects=False) as browser:
        token = csrf(browser.get("/login").text)
        bad = browser.post("/login", data={"username": USERNAME, "password": WRONG, "csrf_token": token})
        assert bad.status_code == 401
        good = browser.post(
            "/login?next=/account", data={"username": USERNAME, "password": PASSWORD, "csrf_token": token}
        )
        assert good.status_code == 303
        home = browser.get("/")
        assert home.status_code == 200 and USERNAME in home.text  # the page may show it; the logs may not
        browser.get("/account?search=" + USERNAME)
        assert browser.post("/logout", data={"csrf_token": csrf(home.text)}).status_code == 303
    text = log_path.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    routes = {r.get("route") for r in records if r.get("message") == "request"}
    assert {"/login", "/", "/logout", "/account"} <= routes, routes
    lowered = text.lower()
    for secret in (USERNAME, "quispe", "huaman", "maría", "maria", PASSWORD, WRONG, "orquídea", "orqu"):
        assert secret.lower() not in lowered, f"{secret!r} leaked into the logs"
