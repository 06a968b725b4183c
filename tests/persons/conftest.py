from tests.biometrics.conftest import face_png, portrait  # noqa: F401  (public-domain portrait)
from tests.enrolment.conftest import officer  # noqa: F401  (an officer with an API token)
