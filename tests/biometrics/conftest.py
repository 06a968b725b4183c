"""Images for biometric tests, all without a real person's data from this project: the NASA portrait of astronaut
Eileen Collins that scikit-image ships (public domain; skimage.data.astronaut), and synthetic fingerprints
(travesia.synth.fingerprints)."""

import io

import pytest
from PIL import Image, ImageFilter
from skimage import data

from tests.enrolment.conftest import officer  # noqa: F401  (the same fixture: an officer with an API token)
from travesia.biometrics.service import Biometrics
from travesia.core.crypto import Keyring
from travesia.synth import fingerprints


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="session")
def portrait() -> Image.Image:
    return Image.fromarray(data.astronaut())


@pytest.fixture(scope="session")
def face_png(portrait) -> bytes:
    return png(portrait)


@pytest.fixture(scope="session")
def face_again(portrait) -> bytes:
    """The same face at another size and a slight turn: a second capture of the same person."""
    return png(portrait.resize((400, 400)).rotate(5))


@pytest.fixture(scope="session")
def two_faces(portrait) -> bytes:
    both = Image.new("RGB", (1024, 512))
    both.paste(portrait, (0, 0))
    both.paste(portrait.transpose(Image.FLIP_LEFT_RIGHT), (512, 0))
    return png(both)


@pytest.fixture(scope="session")
def blurred_face(portrait) -> bytes:
    return png(portrait.filter(ImageFilter.GaussianBlur(2)))


@pytest.fixture(scope="session")
def no_face() -> bytes:
    return png(Image.fromarray(data.coffee()))


@pytest.fixture(scope="session")
def finger_of():
    return fingerprints.impression


@pytest.fixture
def bio(settings) -> Biometrics:
    return Biometrics.from_settings(settings)


@pytest.fixture
def other_keyring() -> Keyring:
    return Keyring({"k9": b"\x09" * 32})
