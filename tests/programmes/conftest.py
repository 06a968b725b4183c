from tests.enrolment.conftest import officer  # noqa: F401
from tests.protection.conftest import (  # noqa: F401  (the same people, officers and flight)
    face_png,
    flight,
    people,
    portrait,
    programme_officer,
    protection_officer,
)
