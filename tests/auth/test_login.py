import pyotp
from sqlalchemy import select

from tests.conftest import PASSWORD, csrf_of, login
from travesia.auth import repository
from travesia.core.principal import Role
from travesia.models import AuditEvent, WebSession


def test_login_sets_a_hardened_cookie_and_reaches_home(client, make_user):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    response = login(client, "ana.officer")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "travesia_session=" in cookie
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
    home = client.get("/")
    assert home.status_code == 200
    assert "Oficial de registro" in home.text  # the role, in Spanish by default
    assert "ERM de prueba" in home.text  # the station


def test_wrong_password_is_refused_and_audited(client, make_user, session):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    response = login(client, "ana.officer", "not the right password at all")
    assert response.status_code == 401
    assert "no son correctos" in response.text
    assert client.get("/").status_code == 303  # still anonymous
    last = session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc())).scalars().first()
    assert (last.action, last.outcome) == ("auth.login", "failed")


def test_unknown_user_gets_the_same_answer(client):
    response = login(client, "nobody.here", "whatever password typed")
    assert response.status_code == 401 and "no son correctos" in response.text


def test_rate_limit_per_account(client, make_user, settings):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    for _ in range(settings.login_max_failures_account):
        assert login(client, "ana.officer", "wrong password number one").status_code == 401
    locked = login(client, "ana.officer", PASSWORD)  # even the right password waits now
    assert locked.status_code == 429
    assert "Demasiados intentos" in locked.text


def test_rate_limit_per_address(client, make_user, settings, monkeypatch):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    monkeypatch.setattr(settings, "login_max_failures_address", 3)
    for i in range(3):
        assert login(client, f"guess.{i}", "wrong password number one").status_code == 401
    assert login(client, "ana.officer", PASSWORD).status_code == 429


def test_logout_revokes_the_session(client, make_user, session):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    cookie = client.cookies.get("travesia_session")
    token = csrf_of(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    client.cookies.clear()
    client.cookies.set("travesia_session", cookie)  # replaying the old cookie must not work
    assert client.get("/").status_code == 303
    assert session.execute(select(WebSession).where(WebSession.revoked_at.is_not(None))).first() is not None


def test_idle_session_expires(client, make_user, session, settings):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    from datetime import timedelta

    for row in session.execute(select(WebSession)).scalars():
        row.last_seen_at -= timedelta(minutes=settings.session_idle_minutes + 1)
    session.commit()
    assert client.get("/").status_code == 303


def test_admin_must_enrol_a_second_factor_then_use_it(client, make_user, session, auth_ctx):
    make_user("root.admin", Role.ADMIN)
    first = login(client, "root.admin")
    assert first.headers["location"] == "/login/second-factor/setup"
    assert client.get("/").status_code == 303  # no access before the second factor
    page = client.get("/login/second-factor/setup")
    assert page.status_code == 200 and "<img" in page.text
    user = repository.user_by_username(session, "root.admin")
    secret = auth_ctx.keyring.decrypt(user.totp_secret, context=b"totp:" + user.id.bytes).decode()
    assert secret in page.text
    bad = client.post(
        "/login/second-factor/setup",
        data={"code": "000000", "csrf_token": csrf_of(client, "/login/second-factor/setup")},
    )
    assert bad.status_code == 422
    code = pyotp.TOTP(secret).now()
    token = csrf_of(client, "/login/second-factor/setup")
    done = client.post("/login/second-factor/setup", data={"code": code, "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"] == "/"
    assert client.get("/").status_code == 200

    # Next login asks for the code; the code just used cannot be replayed.
    client.cookies.clear()
    assert login(client, "root.admin").headers["location"] == "/login/second-factor"
    token = csrf_of(client, "/login/second-factor")
    replay = client.post("/login/second-factor", data={"code": code, "csrf_token": token})
    assert replay.status_code == 422
    assert client.get("/").status_code == 303


def test_session_token_changes_after_the_second_factor(client, make_user, session, auth_ctx):
    make_user("root.admin", Role.ADMIN)
    login(client, "root.admin")
    before = client.cookies.get("travesia_session")
    user = repository.user_by_username(session, "root.admin")
    client.get("/login/second-factor/setup")
    session.expire_all()
    user = repository.user_by_username(session, "root.admin")
    secret = auth_ctx.keyring.decrypt(user.totp_secret, context=b"totp:" + user.id.bytes).decode()
    token = csrf_of(client, "/login/second-factor/setup")
    client.post("/login/second-factor/setup", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    after = client.cookies.get("travesia_session")
    assert after and after != before
    client.cookies.clear()
    client.cookies.set("travesia_session", before)
    assert client.get("/").status_code == 303  # the pre-second-factor session is dead


def test_open_redirect_is_refused(client, make_user):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    token = csrf_of(client)
    data = {"username": "ana.officer", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"}
    assert client.post("/login", data=data).headers["location"] == "/"


def test_change_password_keeps_this_session_and_ends_others(client, make_user, app):
    from fastapi.testclient import TestClient

    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    other = TestClient(app, base_url="https://testserver", follow_redirects=False)
    login(other, "ana.officer")
    login(client, "ana.officer")
    new = "a brand new passphrase for the jungle"
    token = csrf_of(client, "/account")
    changed = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": new, "csrf_token": token}
    )
    assert changed.status_code == 200 and "Su contraseña se ha cambiado" in changed.text
    assert client.get("/").status_code == 200
    assert other.get("/").status_code == 303
    weak = client.post(
        "/account/password", data={"current_password": new, "new_password": "password", "csrf_token": token}
    )
    assert weak.status_code == 422 and "15 caracteres" in weak.text
