import pytest

from tests.biometrics.conftest import face_again, face_png, finger_of, portrait  # noqa: F401
from tests.conftest import token_for
from tests.enrolment.conftest import officer  # noqa: F401  (an officer with an API token)
from travesia.core.principal import Role


@pytest.fixture
def analyst(make_user, session, auth_ctx):
    return token_for(make_user, session, auth_ctx, "analista.uno", Role.ANALYST)


@pytest.fixture
def supervisor(make_user, session, auth_ctx):
    return token_for(make_user, session, auth_ctx, "supervisora.uno", Role.SUPERVISOR)
