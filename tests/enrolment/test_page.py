"""The officer's enrolment page (server side): a family of three in one form, errors that keep what was typed,
instant MRZ feedback, and a receipt. The same journey in a real browser is in tests/web/test_browser.py."""

import html
import re

from sqlalchemy import select

from tests.conftest import csrf_of
from tests.enrolment.conftest import TD3
from travesia.auth import service as auth_service
from travesia.core.principal import Role
from travesia.models import Encounter


def signed_in(client, make_user, session, auth_ctx):
    user = make_user("oficial.web", Role.REGISTRATION_OFFICER)
    cookie, _ = auth_service._new_web_session(session, auth_ctx, user, auth_service.STAGE_FULL, station_id=None)
    session.commit()
    client.cookies.set("travesia_session", cookie)


def form_of(page):
    ids = dict(re.findall(r'name="(m\d+_id|group_id)" value="([^"]+)"', page))
    return ids, re.search(r'name="csrf_token" value="([0-9a-f]+)"', page).group(1)


def test_family_of_three_in_one_form(client, make_user, session, auth_ctx):
    signed_in(client, make_user, session, auth_ctx)
    page = client.get("/enrol")
    assert page.status_code == 200 and "Registrar a una persona o a una familia" in page.text
    extra = client.get("/enrol/member", params={"member_count": 1})
    assert 'name="m1_surnames"' in extra.text and 'hx-swap-oob="true"' in extra.text and 'value="2"' in extra.text
    ids, token = form_of(page.text + extra.text + client.get("/enrol/member", params={"member_count": 2}).text)
    form = {
        "csrf_token": token,
        "group_id": ids["group_id"],
        "group_kind": "family",
        "m0_id": ids["m0_id"],
        "m0_relation": "head",
        "m0_given_names": "Anna Maria",
        "m0_surnames": "Eriksson",
        "m0_sex": "F",
        "m0_birth_date": "1974-08-12",
        "m0_nationality": "UTO",
        "m0_mrz": TD3,
        "m1_id": ids["m1_id"],
        "m1_relation": "child",
        "m1_given_names": "Lars",
        "m1_surnames": "Eriksson",
        "m1_sex": "M",
        "m1_birth_date": "2016",
        "m1_birth_estimated": "1",
        "m1_nationality": "UTO",
        "m2_id": ids["m2_id"],
        "m2_relation": "child",
        "m2_given_names": "Greta",
        "m2_surnames": "Eriksson",
        "m2_sex": "F",
        "m2_birth_date": "2019-04-02",
        "m2_nationality": "UTO",
    }
    done = client.post("/enrol", data=form)
    assert done.status_code == 303, done.text
    receipt = client.get(done.headers["location"])
    assert receipt.status_code == 200 and "Registro guardado" in receipt.text
    assert receipt.text.count("acompañado") == 2  # both children travel with their mother
    assert "Lars" in receipt.text and "Greta" in receipt.text
    stored = session.execute(select(Encounter).where(Encounter.group_id.is_not(None))).scalars().all()
    assert len(stored) == 3 and {e.source for e in stored} == {"web"}
    again = client.post("/enrol", data=form)  # a double submit stores nothing new
    assert again.status_code == 303
    assert len(session.execute(select(Encounter).where(Encounter.group_id.is_not(None))).scalars().all()) == 3


def test_errors_keep_what_was_typed(client, make_user, session, auth_ctx):
    signed_in(client, make_user, session, auth_ctx)
    ids, token = form_of(client.get("/enrol").text)
    bad_mrz = TD3[:-2] + "3" + TD3[-1:]
    form = {
        "csrf_token": token,
        "group_id": ids["group_id"],
        "group_kind": "single",
        "m0_id": ids["m0_id"],
        "m0_given_names": "Wideline",
        "m0_surnames": "",
        "m0_sex": "F",
        "m0_birth_date": "12/03/1999",
        "m0_mrz": bad_mrz,
    }
    response = client.post("/enrol", data=form)
    assert response.status_code == 422
    assert 'value="Wideline"' in response.text and html.escape(bad_mrz.split("\n")[0]) in response.text
    assert 'id="m0_surnames-error"' in response.text and 'id="m0_birth_date-error"' in response.text
    assert session.execute(select(Encounter)).first() is None


def test_instant_mrz_feedback(client, make_user, session, auth_ctx):
    signed_in(client, make_user, session, auth_ctx)
    token = csrf_of(client, "/enrol")
    ok = client.post("/enrol/check-mrz", data={"m0_mrz": TD3}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 200 and "ERIKSSON" in ok.text and "TD3" in ok.text
    bad = client.post("/enrol/check-mrz", data={"m0_mrz": TD3[:-2] + "3" + TD3[-1:]}, headers={"X-CSRF-Token": token})
    assert "Línea 2, número personal: el dígito de control 3 no coincide" in bad.text  # in the officer's words
