from tests.biometrics.conftest import face_png, finger_of, portrait  # noqa: F401  (public-domain portrait, synthetic prints)
from tests.enrolment.conftest import officer  # noqa: F401  (an officer with an API token)
