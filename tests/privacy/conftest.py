from tests.biometrics.conftest import face_png, portrait  # noqa: F401
from tests.enrolment.conftest import officer  # noqa: F401
