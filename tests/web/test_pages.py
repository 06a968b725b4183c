"""Pages in Spanish first and English by a switch; forms keep what was typed; the admin creates a user."""

import re

from tests.conftest import csrf_of, login
from travesia.auth import service
from travesia.core.principal import Role


def test_login_page_is_spanish_then_english(client):
    page = client.get("/login")
    assert page.status_code == 200 and '<html lang="es">' in page.text and "Iniciar sesión" in page.text
    switched = client.get("/lang/en?next=/login")
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    english = client.get("/login")
    assert '<html lang="en">' in english.text and "Sign in" in english.text and "Iniciar sesión" not in english.text


def test_language_switch_refuses_foreign_targets(client):
    assert client.get("/lang/en?next=//evil.example").headers["location"] == "/"


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def test_static_assets_are_local(client):
    page = client.get("/login").text
    assert re.findall(r'(?:src|href)="(https?:)?//', page) == []
    assert client.get("/static/vendor/htmx.min.js").status_code == 200
    assert client.get("/static/travesia.css").status_code == 200


def test_navigation_matches_the_role(client, make_user):
    make_user("ana.officer", Role.REGISTRATION_OFFICER)
    login(client, "ana.officer")
    home = client.get("/").text
    assert 'href="/stations"' in home and 'href="/admin/users"' not in home and 'href="/audit"' not in home


def test_auditor_reads_and_verifies_the_trail(client, make_user, session, auth_ctx):
    user = make_user("ines.audit", Role.AUDITOR)
    cookie, _ = service._new_web_session(session, auth_ctx, user, service.STAGE_FULL, station_id=None)
    session.commit()
    client.cookies.set("travesia_session", cookie)
    page = client.get("/audit")
    assert page.status_code == 200 and "user.create" in page.text
    token = csrf_of(client, "/audit")
    verdict = client.post("/audit/verify", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert verdict.status_code == 200 and "La cadena está íntegra" in verdict.text


def test_admin_creates_a_user_and_the_form_keeps_input_on_error(client, make_user, session, auth_ctx):
    admin = make_user("root.admin", Role.ADMIN)
    cookie, _ = service._new_web_session(session, auth_ctx, admin, service.STAGE_FULL, station_id=None)
    session.commit()
    client.cookies.set("travesia_session", cookie)
    token = csrf_of(client, "/admin/users/new")
    form = {"username": "pedro.gomez", "display_name": "Pedro Gómez", "password": "short", "roles": ["analyst"],
            "stations": ["ERM-TEST"], "csrf_token": token}  # fmt: skip
    bad = client.post("/admin/users", data=form)
    assert bad.status_code == 422
    assert 'value="pedro.gomez"' in bad.text and 'value="Pedro Gómez"' in bad.text and "15 caracteres" in bad.text
    assert re.search(r'value="analyst" checked', bad.text)
    good = client.post("/admin/users", data={**form, "password": "a long and unusual passphrase"})
    assert good.status_code == 303
    detail = client.get(good.headers["location"])
    assert detail.status_code == 200 and "Pedro Gómez" in detail.text and "Analista" in detail.text


def test_unknown_page_is_a_translated_404_and_the_api_stays_json(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "Esta página no existe" in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


def test_static_files_are_compressed_and_pages_are_not(client):
    """Scripts and styles cross a slow link gzipped; pages are not (they carry the CSRF token: BREACH)."""
    script = client.get("/static/vendor/htmx.min.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200 and script.headers["content-encoding"] == "gzip"
    assert script.num_bytes_downloaded < len(script.content) / 2
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in page.headers
