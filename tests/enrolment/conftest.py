import uuid

import pytest

from travesia.auth import service as auth_service
from travesia.core.principal import Role, cli_principal
from travesia.stations import service as stations
from travesia.stations.schemas import StationCreate

TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"


@pytest.fixture
def officer(make_user, session, auth_ctx):
    """A registration officer at ERM-TEST with an API token: returns the Authorization header."""
    user = make_user("oficial.registro", Role.REGISTRATION_OFFICER)
    principal = auth_service.principal_for(user, station_id=None, via="token", credential_id=None)
    _, token = auth_service.create_token(session, auth_ctx, principal, "enrol", 1)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def other_station_officer(make_user, session, auth_ctx, station):
    stations.create_station(session, cli_principal("t"), StationCreate(code="ERM-OTRA", name="Otra", kind="reception"))
    session.commit()
    user = make_user("oficial.otra", Role.REGISTRATION_OFFICER, stations_=["ERM-OTRA"])
    principal = auth_service.principal_for(user, station_id=None, via="token", credential_id=None)
    _, token = auth_service.create_token(session, auth_ctx, principal, "enrol", 1)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def person(**overrides):
    body = {
        "id": str(uuid.uuid4()),
        "given_names": "José Gregorio",
        "surnames": "Pérez Núñez",
        "sex": "M",
        "birth_date": "1990-05-17",
        "nationality": "VEN",
        "languages": ["es"],
        "route_countries": ["COL"],
    }
    body.update(overrides)
    return body
