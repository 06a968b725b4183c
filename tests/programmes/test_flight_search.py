"""A flight's candidates at volume: searched by name or document on the server, paged, families by their names."""

import re

from tests.biometrics.test_pipeline import enrol
from tests.conftest import login
from travesia.core.principal import Role

PEOPLE = 60


def candidates(html: str) -> list[str]:
    return re.findall(r'<tr data-person="([0-9a-f-]{36})">', html)


def test_candidates_are_paged_searched_and_named_with_their_family(client, session, officer, flight, make_user):
    for n in range(PEOPLE):
        enrol(client, officer, given_names=f"Persona {n}", surnames="Viajera")
    enrol(client, officer, given_names="Dayana", surnames="Quintero Salas",
          documents=[{"doc_type": "passport", "number": "V31415926", "issuing_state": "VEN"}])  # fmt: skip
    make_user("programas.vuelo", Role.PROGRAMME_OFFICER)
    session.commit()
    login(client, "programas.vuelo")
    first = client.get(f"/flights/{flight}")
    assert first.status_code == 200
    page_one = candidates(first.text)
    assert len(page_one) == 50  # a page, not every national of the destination
    following = re.search(r'<a rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    page_two = candidates(client.get(following).text)
    assert page_two and not set(page_one) & set(page_two)
    by_name = client.get(f"/flights/{flight}", params={"q": "quintero"}).text
    assert len(candidates(by_name)) == 1 and "Dayana Quintero Salas" in by_name
    by_document = client.get(f"/flights/{flight}", params={"q": "v31415926"}).text
    assert candidates(by_document) == candidates(by_name)
    assert candidates(client.get(f"/flights/{flight}", params={"q": "nobody-by-this-name"}).text) == []
    assert client.get(f"/flights/{flight}", params={"after": "not-a-cursor"}).status_code == 200  # the first page


def test_a_family_is_shown_by_its_members_names(client, session, people, flight, programme_officer, make_user):
    placed = client.post(f"/api/v1/flights/{flight}/manifest", json={"person_id": str(people["father"])},
                         headers=programme_officer)  # fmt: skip
    assert placed.status_code in (200, 201), placed.text
    make_user("programas.familia", Role.PROGRAMME_OFFICER)
    session.commit()
    login(client, "programas.familia")
    page = client.get(f"/flights/{flight}").text
    [manifest] = re.findall(r'<table id="manifest">.*?</table>', page, re.S)
    assert "Ana" in manifest and "Luis" in manifest  # the mother and the son, by name
    assert not re.search(r"<code>[0-9a-f]{8}</code>", manifest)  # no key where a family should be
