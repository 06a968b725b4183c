import uuid
from datetime import date, timedelta

import pytest

from tests.biometrics.conftest import face_png, portrait  # noqa: F401  (public-domain portrait)
from tests.biometrics.test_pipeline import enrol
from tests.conftest import token_for
from tests.enrolment.conftest import officer  # noqa: F401  (an officer with an API token)
from travesia.core.principal import Role
from travesia.models import Encounter


@pytest.fixture
def protection_officer(make_user, session, auth_ctx):
    return token_for(make_user, session, auth_ctx, "proteccion.uno", Role.PROTECTION_OFFICER)


@pytest.fixture
def programme_officer(make_user, session, auth_ctx):
    return token_for(make_user, session, auth_ctx, "programas.uno", Role.PROGRAMME_OFFICER)


def person_of(session, encounter_id):
    session.expire_all()
    return session.get(Encounter, encounter_id).person_id


@pytest.fixture
def people(client, app, session, officer):  # noqa: F811
    """Venezuelans registered at ERM-TEST: a family of three, two adults alone, a child alone; the pipeline ran."""
    family = str(uuid.uuid4())
    made = {
        "father": enrol(client, officer, group={"id": family, "kind": "family", "relation": "head"}),
        "mother": enrol(client, officer, given_names="Ana", sex="F", birth_date="1992-02-02",
                        group={"id": family, "kind": "family", "relation": "spouse"}),
        "son": enrol(client, officer, given_names="Luis", birth_date="2017-03-03",
                     group={"id": family, "kind": "family", "relation": "child"}),
        "single": enrol(client, officer, given_names="Pedro", surnames="Rojas", birth_date="1985-05-05"),
        "other": enrol(client, officer, given_names="Rosa", surnames="Mora", sex="F", birth_date="1980-01-01"),
        "child_alone": enrol(client, officer, given_names="Juana", surnames="Silva", sex="F", birth_date="2011-06-06"),
    }  # fmt: skip
    while app.state.pipeline.screen_pending()["screened"]:
        pass
    return {name: person_of(session, eid) for name, eid in made.items()}


@pytest.fixture
def flight(client, programme_officer):
    body = {"kind": "repatriation", "departs_on": (date.today() + timedelta(days=7)).isoformat(),
            "destination": "VEN", "capacity": 5, "operator": "Servicio Nacional Aeronaval"}  # fmt: skip
    response = client.post("/api/v1/flights", json=body, headers=programme_officer)
    assert response.status_code == 201, response.text
    return response.json()["id"]
