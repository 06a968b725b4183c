"""The protection file's forms keep what was typed when the server refuses it, and name the field."""

from tests.conftest import csrf_of, login


def test_a_refused_pass_keeps_the_destination_and_names_the_date(client, people, protection_officer):
    assert login(client, "proteccion.uno").status_code == 303
    person = people["single"]
    form = {"valid_until": "2026-02-30", "destination": "Paso Canoas (CRI)", "csrf_token": csrf_of(client)}
    response = client.post(f"/protection/persons/{person}/passes", data=form)
    assert response.status_code == 422
    assert 'value="Paso Canoas (CRI)"' in response.text and 'value="2026-02-30"' in response.text
    assert 'id="valid_until" name="valid_until" type="date" value="2026-02-30" required aria-invalid="true"' in (
        response.text
    )
