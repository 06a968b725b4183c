import pytest

from tests.biometrics.conftest import face_again, face_png, finger_of, portrait  # noqa: F401
from tests.enrolment.conftest import officer  # noqa: F401  (an officer with an API token)
from travesia.auth import service as auth_service
from travesia.core.principal import Role


def token_for(make_user, session, auth_ctx, username, role):
    user = make_user(username, role)
    principal = auth_service.principal_for(user, station_id=None, via="token", credential_id=None)
    _, token = auth_service.create_token(session, auth_ctx, principal, "t", 1)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def analyst(make_user, session, auth_ctx):
    return token_for(make_user, session, auth_ctx, "analista.uno", Role.ANALYST)


@pytest.fixture
def supervisor(make_user, session, auth_ctx):
    return token_for(make_user, session, auth_ctx, "supervisora.uno", Role.SUPERVISOR)
