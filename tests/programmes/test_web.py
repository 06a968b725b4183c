"""The programme officer's flight pages go through the same gate as the API: a protected person is refused on the
page with the reason in words and the refusal audited; a family is placed whole; a form with an error keeps what
was typed."""

import re

from tests.conftest import csrf_of, login
from tests.programmes.test_gate import intention, on_manifest, refusals


def test_flight_form_keeps_what_was_typed_and_names_the_field(client, programme_officer):
    assert login(client, "programas.uno").status_code == 303
    form = {"kind": "repatriation", "departs_on": "2026-13-40", "destination": "VEN", "capacity": "12",
            "operator": "Servicio Nacional Aeronaval", "csrf_token": csrf_of(client)}  # fmt: skip
    response = client.post("/flights", data=form)
    assert response.status_code == 422
    assert 'id="departs_on-error"' in response.text and 'aria-invalid="true"' in response.text
    assert 'value="Servicio Nacional Aeronaval"' in response.text and 'value="12"' in response.text


def test_the_page_refuses_a_protected_person_and_places_a_family_whole(
    client, session, people, flight, programme_officer, protection_officer
):
    assert intention(client, protection_officer, people["single"]).status_code == 201
    assert login(client, "programas.uno").status_code == 303
    page = client.get(f"/flights/{flight}")
    assert page.status_code == 200
    row = re.search(rf'<tr data-person="{people["single"]}">(.*?)</tr>', page.text, re.S).group(1)
    assert 'data-code="claim:intention"' in row and "<button" not in row  # shown with the reason, no button

    # placed anyway (the page was open before the intention was recorded): the gate refuses it, in words
    refused = client.post(f"/flights/{flight}/manifest", data={"person_id": str(people["single"]),
                                                              "csrf_token": csrf_of(client)})  # fmt: skip
    assert refused.status_code == 409
    assert 'id="refused"' in refused.text and 'data-code="claim:intention"' in refused.text
    assert people["single"] not in on_manifest(session, flight)
    assert len(refusals(session, people["single"])) == 1

    placed = client.post(f"/flights/{flight}/manifest", data={"person_id": str(people["father"]),
                                                             "csrf_token": csrf_of(client)})  # fmt: skip
    assert placed.status_code == 303
    family = {people["father"], people["mother"], people["son"]}
    assert set(on_manifest(session, flight)) == family

    # boarding before fitness is confirmed: the family is held on the ground, with the reason shown
    board = client.post(f"/flights/{flight}/manifest/{people['son']}/board", data={"csrf_token": csrf_of(client)})
    assert board.status_code == 409 and 'data-code="medical_fitness_not_confirmed"' in board.text
    assert set(on_manifest(session, flight).values()) == {"held"}

    blank = {"reason": " ", "csrf_token": csrf_of(client)}
    removal = client.post(f"/flights/{flight}/manifest/{people['son']}/remove", data=blank)
    assert removal.status_code == 422 and 'id="reason-' in removal.text
    assert set(on_manifest(session, flight).values()) == {"held"}
    pdf = client.get(f"/flights/{flight}/manifest.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_protected_relative_keeps_the_whole_family_off_the_eligible_list(
    client, people, flight, programme_officer, protection_officer
):
    assert intention(client, protection_officer, people["mother"]).status_code == 201
    assert login(client, "programas.uno").status_code == 303
    page = client.get(f"/flights/{flight}").text
    for relative in ("father", "son"):
        row = re.search(rf'<tr data-person="{people[relative]}">(.*?)</tr>', page, re.S).group(1)
        assert 'data-code="family_member_held:1"' in row and "<button" not in row
    single = re.search(rf'<tr data-person="{people["single"]}">(.*?)</tr>', page, re.S).group(1)
    assert "<button" in single
