"""User administration through the API: validation errors name the field, duplicates conflict, reads are audited."""

import json

from sqlalchemy import select

from travesia.auth import service
from travesia.core.principal import Role
from travesia.models import AuditEvent

GOOD = {
    "username": "maria.rios",
    "display_name": "María Ríos",
    "password": "the river runs past the station",
    "roles": ["registration_officer"],
    "stations": ["ERM-TEST"],
}


def admin_token(make_user, session, auth_ctx) -> dict:
    user = make_user("root.admin", Role.ADMIN)
    principal = service.principal_for(user, station_id=None, via="token", credential_id=None)
    _, token = service.create_token(session, auth_ctx, principal, "admin", 1)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_create_and_read_user(client, make_user, session, auth_ctx):
    auth = admin_token(make_user, session, auth_ctx)
    created = client.post("/api/v1/users", json=GOOD, headers=auth)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["username"] == "maria.rios" and body["roles"] == ["registration_officer"]
    assert "password" not in created.text and "argon2" not in created.text
    read = client.get(f"/api/v1/users/{body['id']}?purpose=account%20review", headers=auth)
    assert read.status_code == 200 and read.json()["stations"][0]["code"] == "ERM-TEST"
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "user.read")).scalars().one()
    assert event.record_id == body["id"] and event.purpose == "account review" and event.actor == "root.admin"


def test_validation_errors_name_the_field(client, make_user, session, auth_ctx):
    auth = admin_token(make_user, session, auth_ctx)
    cases = [
        ({**GOOD, "username": "Bad Name!"}, ["body", "username"]),
        ({**GOOD, "roles": ["emperor"]}, ["body", "roles", 0]),
        ({**GOOD, "stations": []}, ["body", "stations"]),
        ({k: v for k, v in GOOD.items() if k != "display_name"}, ["body", "display_name"]),
        ({**GOOD, "stations": ["NOWHERE"]}, ["body", "stations", 0]),
        ({**GOOD, "password": "short"}, ["body", "password"]),
        ({**GOOD, "extra": 1}, ["body", "extra"]),
    ]
    for body, loc in cases:
        response = client.post("/api/v1/users", json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"] == loc, response.json()


def test_duplicate_username_conflicts_and_nothing_is_half_stored(client, make_user, session, auth_ctx):
    auth = admin_token(make_user, session, auth_ctx)
    assert client.post("/api/v1/users", json=GOOD, headers=auth).status_code == 201
    events_before = session.execute(select(AuditEvent)).scalars().all()
    again = client.post("/api/v1/users", json={**GOOD, "display_name": "Otra"}, headers=auth)
    assert again.status_code == 409 and again.json()["detail"][0]["loc"] == ["body", "username"]
    assert len(session.execute(select(AuditEvent)).scalars().all()) == len(events_before)


def test_admin_cannot_lock_themselves_out(client, make_user, session, auth_ctx):
    auth = admin_token(make_user, session, auth_ctx)
    me = client.get("/api/v1/me", headers=auth).json()
    response = client.patch(f"/api/v1/users/{me['user_id']}", json={"is_active": False}, headers=auth)
    assert response.status_code == 422


def test_error_messages_follow_accept_language(client, make_user, session, auth_ctx):
    auth = admin_token(make_user, session, auth_ctx)
    body = {**GOOD, "stations": ["NOWHERE"]}
    es = client.post("/api/v1/users", json=body, headers={**auth, "Accept-Language": "es"}).json()
    en = client.post("/api/v1/users", json=body, headers={**auth, "Accept-Language": "en"}).json()
    assert es["detail"][0]["msg"] == "Código de estación desconocido: NOWHERE"
    assert en["detail"][0]["msg"] == "Unknown station code: NOWHERE"


def test_console_recovery_of_password_and_second_factor(fresh_database_url, tmp_path):
    from tests.live import cli_env, run_cli

    env = cli_env(fresh_database_url, tmp_path)
    assert run_cli(env, "db", "upgrade").returncode == 0
    assert run_cli(env, "demo", "setup", "--people", "20").returncode == 0
    agreements = run_cli({**env, "COLUMNS": "250"}, "exchange", "agreements").stdout
    assert "dhs-demo" in agreements and "co-demo" in agreements  # the partner liaison's examples
    weak = run_cli(env, "users", "set-password", "demo-admin", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "password" in weak.stderr and "15" in weak.stderr
    ok = run_cli(env, "users", "set-password", "demo-admin", "--password-stdin", stdin="a fresh long passphrase here\n")
    assert ok.returncode == 0, ok.stderr
    assert run_cli(env, "users", "reset-second-factor", "demo-admin").returncode == 0
    missing = run_cli(env, "users", "reset-second-factor", "nobody")
    assert missing.returncode == 1 and "No such user" in missing.stderr
    listing = run_cli(env, "users", "list", "--json")
    admin = next(u for u in json.loads(listing.stdout) if u["username"] == "demo-admin")
    assert admin["second_factor"] is False
    assert run_cli(env, "audit", "verify").returncode == 0
