from tests.conftest import PASSWORD, csrf_of, login
from travesia.core.principal import Role


def test_login_without_token_is_refused(client, make_user):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    client.get("/login")
    response = client.post("/login", data={"username": "ana.officer", "password": PASSWORD})
    assert response.status_code == 403
    assert "travesia_session" not in response.headers.get("set-cookie", "")


def test_token_for_another_cookie_is_refused(client, app, make_user):
    from fastapi.testclient import TestClient

    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    attacker = TestClient(app, base_url="https://testserver")
    stolen = csrf_of(attacker)  # valid for the attacker's own cookie only
    client.get("/login")
    response = client.post("/login", data={"username": "ana.officer", "password": PASSWORD, "csrf_token": stolen})
    assert response.status_code == 403


def test_logged_in_forms_need_the_token(client, make_user):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    assert client.post("/account/tokens", data={"name": "t", "days": "3"}).status_code == 403
    assert client.post("/account/tokens", data={"name": "t", "days": "3", "csrf_token": "0" * 64}).status_code == 403
    token = csrf_of(client, "/account")
    assert client.post("/account/tokens", data={"name": "t", "days": "3", "csrf_token": token}).status_code == 200
    header = client.post("/account/tokens", data={"name": "t2", "days": "3"}, headers={"X-CSRF-Token": token})
    assert header.status_code == 200  # HTMX sends the token as a header


def test_csrf_cookie_is_httponly_and_strict(client):
    cookie = client.get("/login").headers["set-cookie"]
    assert "travesia_csrf=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
