import re
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import csrf_of, login
from travesia.core.principal import Role
from travesia.models import ApiToken


def new_token(client, name="script", days="7"):
    token = csrf_of(client, "/account")
    page = client.post("/account/tokens", data={"name": name, "days": days, "csrf_token": token})
    assert page.status_code == 200, page.text
    return re.search(r'id="new-token">(trv_[^<]+)<', page.text).group(1)


def test_token_works_for_the_api_and_is_stored_hashed(client, make_user, session):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    plaintext = new_token(client)
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"})
    assert api.status_code == 200 and api.json()["username"] == "ana.officer" and api.json()["via"] == "token"
    stored = session.execute(select(ApiToken)).scalars().all()
    assert plaintext not in {t.token_hash for t in stored} and all(len(t.token_hash) == 64 for t in stored)


def test_expired_token_is_refused(client, make_user, session):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    plaintext = new_token(client)
    for row in session.execute(select(ApiToken)).scalars():
        row.expires_at -= timedelta(days=8)
    session.commit()
    client.cookies.clear()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"})
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_revoked_token_is_refused(client, make_user):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    plaintext = new_token(client)
    auth = {"Authorization": f"Bearer {plaintext}"}
    token_id = client.get("/api/v1/tokens", headers=auth).json()[0]["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=auth).status_code == 200
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_token_lifetime_is_capped(client, make_user, settings):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    token = csrf_of(client, "/account")
    page = client.post(
        "/account/tokens",
        data={"name": "long", "days": str(settings.token_max_days + 1), "csrf_token": token},
    )
    assert page.status_code == 422


def test_cookies_do_not_open_the_api_nor_tokens_the_pages(client, make_user):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    plaintext = new_token(client)
    assert client.get("/api/v1/me").status_code == 401  # a browser session alone cannot drive the API
    client.cookies.clear()
    assert client.get("/", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 303


def test_deactivated_user_loses_tokens_and_sessions(client, make_user, session):
    user = make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    plaintext = new_token(client)
    user_row = session.get(type(user), user.id)
    user_row.is_active = False
    session.commit()
    assert client.get("/").status_code == 303
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 401
