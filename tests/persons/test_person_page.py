"""The person page: one person with one history (timeline, route map, photos, groups, documents, decisions),
following merges, cut to the reader's roles, and never showing another person's images."""

import re
import uuid

import pytest
from sqlalchemy import select

from tests.biometrics.test_pipeline import enrol
from tests.conftest import login
from travesia.core.errors import NotFound
from travesia.core.principal import Principal, Role, cli_principal
from travesia.identity import service as identity
from travesia.models import BiometricSample, Encounter
from travesia.persons import routemap, service


def person_id(session, encounter_id):
    session.expire_all()
    return session.get(Encounter, encounter_id).person_id


@pytest.fixture
def family(client, session, officer, face_png):
    """A father with his daughter, registered together; then the father again, spelt differently, and merged."""
    group = str(uuid.uuid4())
    father = enrol(
        client, officer, face_png, None,
        group={"id": group, "kind": "family", "relation": "head"}, route_countries=["ECU", "COL"],
        documents=[{"doc_type": "passport", "number": "C1234567", "issuing_state": "VEN"}],
    )  # fmt: skip
    daughter = enrol(
        client, officer, None, None, given_names="María", sex="F", birth_date="2016-04-02",
        group={"id": group, "kind": "family", "relation": "child"},
    )  # fmt: skip
    again = enrol(client, officer, None, None, given_names="Jose Gregorio", surnames="Perez", route_countries=["COL"])
    decision = identity.merge(
        session, cli_principal("t"), person_id(session, again), person_id(session, father), "same"
    )
    session.commit()
    return {"father": father, "daughter": daughter, "again": again, "merged_away": decision.from_person_id}


def test_the_page_shows_one_history_and_follows_merges(client, session, make_user, family):
    make_user("supervisora", Role.SUPERVISOR)
    session.commit()
    login(client, "supervisora")
    me = person_id(session, family["father"])
    moved = client.get(f"/persons/{family['merged_away']}")
    assert moved.status_code == 303 and moved.headers["location"] == f"/persons/{me}"
    page = client.get(f"/persons/{me}")
    assert page.status_code == 200
    html = page.text
    # both registrations on the timeline, and the names used
    assert html.count('id="encounter-') == 2 and "Jose Gregorio Perez" in html and "José Gregorio Pérez Núñez" in html
    # the route: origin, then the countries as told, drawn on outlines (no tiles)
    assert "VEN → ECU → COL" in html and 'class="route-map"' in html and "on-route" in html
    assert "http" not in html.split('class="route-map"')[1].split("</svg>")[0].replace("http://www.w3.org/2000/svg", "")
    # the daughter as travelled with, linked to her own page
    daughter = person_id(session, family["daughter"])
    assert f'href="/persons/{daughter}"' in html and "María" in html
    assert "C1234567" in html  # the document used
    assert "fusionada" in html  # the decision that shaped it, in words
    # the photo is served, and no other person's image through this page
    [sample] = re.findall(rf"/persons/{me}/faces/([0-9a-f-]+)", html)
    image = client.get(f"/persons/{me}/faces/{sample}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert client.get(f"/persons/{daughter}/faces/{sample}").status_code == 404
    # finding a person by name
    found = client.get("/persons?q=maria").text
    assert f'href="/persons/{daughter}"' in found


def principal(session, role, stations=None):
    return Principal(user_id=None, username=role, roles=frozenset({role}), station_ids=frozenset(stations or []))


def test_what_each_role_sees(session, family, station):
    me = person_id(session, family["father"])
    daughter = person_id(session, family["daughter"])
    analyst = service.person_file(session, principal(session, Role.ANALYST), daughter, None)
    assert analyst.alerts is not None and analyst.inspections is not None and analyst.decisions is not None
    assert not analyst.see_protection and analyst.protection_flags == []
    protection = service.person_file(session, principal(session, Role.PROTECTION_OFFICER), daughter, None)
    assert protection.see_protection and protection.protection_flags == []  # a child with her parents: no banner
    assert protection.alerts is None and protection.decisions is None and protection.inspections is None
    # a registration officer reads their own stations only
    own = service.person_file(session, principal(session, Role.REGISTRATION_OFFICER, [station.id]), me, None)
    assert len(own.visits) == 2 and own.hidden_visits == 0
    with pytest.raises(NotFound):
        service.person_file(session, principal(session, Role.REGISTRATION_OFFICER, [uuid.uuid4()]), me, None)
    [sample] = session.execute(
        select(BiometricSample.id).where(BiometricSample.encounter_id == family["father"])
    ).scalars()
    with pytest.raises(NotFound):
        service.face_image(session, me, sample, principal(session, Role.REGISTRATION_OFFICER, [uuid.uuid4()]))


def test_a_child_alone_is_flagged_for_protection(client, app, session, officer, make_user):
    child = enrol(client, officer, None, None, given_names="Lucía", sex="F", birth_date="2011-01-01")
    pid = person_id(session, child)
    seen = service.person_file(session, principal(session, Role.PROTECTION_OFFICER), pid, None)
    assert seen.protection_flags == ["unaccompanied"] and seen.protection_holds == []  # before the pipeline
    while app.state.pipeline.screen_pending()["screened"]:
        pass
    seen = service.person_file(session, principal(session, Role.PROTECTION_OFFICER), pid, None)
    assert seen.protection_holds == ["flag:unaccompanied_child"]  # the derived flag now holds her back
    make_user("proteccion.pagina", Role.PROTECTION_OFFICER)
    login(client, "proteccion.pagina")
    html = client.get(f"/persons/{pid}").text
    [banner] = re.findall(r'<div class="notice warn" role="status" id="protection-flags">(.*?)</div>', html, re.S)
    assert "no acompañad" in banner.lower() and "flag:" not in banner and "unaccompanied" not in banner, banner


def test_the_route_map_frames_the_route_and_skips_what_it_cannot_place():
    stops = [routemap.Stop("BAJO", "Bajo Chiquito", 8.08, -77.55)]
    svg = routemap.render(["HTI", "CHL", "PER", "ECU", "COL"], stops, "route")
    frame = routemap.frame_for(["HTI", "CHL", "PER", "ECU", "COL"], stops)
    assert frame.south < -50 and frame.north > 18  # from Chile's south to Haiti
    assert svg.count("on-route") == 5 and svg.count('class="station"') == 1 and "<polyline" in svg
    assert len(svg) < 80_000  # outlines are thinned to the map's scale
    unknown = routemap.render(["XXX"], [], "route")
    assert "<polyline" not in unknown and 'class="route-map"' in unknown
    assert routemap.frame_for([], stops).east - routemap.frame_for([], stops).west >= routemap.MIN_SPAN


def test_every_read_of_a_persons_data_is_found_under_their_id(client, session, family, officer, make_user, auth_ctx):
    from tests.conftest import token_for

    me = person_id(session, family["father"])
    daughter = person_id(session, family["daughter"])
    client.get(f"/api/v1/encounters/{family['father']}", headers=officer)  # a registration, through the API
    make_user("proteccion.lecturas", Role.PROTECTION_OFFICER)
    login(client, "proteccion.lecturas")
    assert client.get(f"/persons/{me}").status_code == 200  # the person page
    [sample] = re.findall(rf"/persons/{me}/faces/([0-9a-f-]+)", client.get(f"/persons/{me}").text)
    assert client.get(f"/persons/{me}/faces/{sample}").status_code == 200  # a face on it
    assert client.get(f"/protection/persons/{me}").status_code == 200  # the protection file
    auditor = token_for(make_user, session, auth_ctx, "auditoria.lecturas", Role.AUDITOR)
    events = client.get("/api/v1/audit/events", params={"record_id": str(me), "limit": 500}, headers=auditor).json()
    actions = {e["action"] for e in events["events"]}
    assert {"encounter.read", "person.read", "person.face_read", "protection.read"} <= actions, actions
    theirs = client.get("/api/v1/audit/events", params={"record_id": str(daughter)}, headers=auditor).json()
    assert str(family["father"]) not in {e["record_id"] for e in theirs["events"]}  # her father's reads are his
    assert "protection.read" not in {e["action"] for e in theirs["events"]}
