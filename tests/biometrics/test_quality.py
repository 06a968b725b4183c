"""Face and fingerprint quality and comparison on images whose truth we know."""

import pytest

from travesia.biometrics import face, finger, fingercode
from travesia.biometrics.face_models import face_model


def test_a_clear_frontal_face_is_accepted_with_its_measures(face_png):
    result = face.analyse(face_png)
    assert result.acceptable and result.quality >= face.MIN_QUALITY and result.reasons == []
    assert result.template is not None and result.template.shape == (face_model().dimensions,)
    assert result.measures["eye_distance"] > face.MIN_EYE_DISTANCE and abs(result.measures["yaw"]) < face.MAX_YAW


@pytest.mark.parametrize(
    ("image", "reason"), [("no_face", "no_face"), ("two_faces", "several_faces"), ("blurred_face", "blurred")]
)
def test_quality_rejects_with_the_reason(request, image, reason):
    result = face.analyse(request.getfixturevalue(image))
    assert not result.acceptable
    assert reason in result.reasons


def test_a_file_that_is_not_an_image_is_refused():
    with pytest.raises(face.FaceProblem) as problem:
        face.analyse(b"GIF89a not really")
    assert problem.value.reason == "unreadable"


def test_two_captures_of_one_face_match_at_the_threshold(face_png, face_again, bio):
    # Strangers are measured on real faces (bench/biometric_accuracy.py), not here: no second public-domain face.
    a, b = face.analyse(face_png), face.analyse(face_again)
    assert face.distance(a.template, b.template) < bio.face_threshold


def test_fingerprints_match_their_own_finger_only(finger_of):
    first, again, other = (finger.analyse(finger_of(seed, take)) for seed, take in ((7, 0), (7, 1), (8, 1)))
    assert first.acceptable and len(first.minutiae) >= finger.MIN_MINUTIAE and first.nfiq2 is not None
    genuine, impostor = finger.compare(first.template, again.template), finger.compare(first.template, other.template)
    assert genuine >= 40 > impostor
    # The index code ranks the mate above the stranger too.
    code = [fingercode.code(finger.as_array(r.minutiae)) for r in (first, again, other)]
    assert code[0] @ code[1] > code[0] @ code[2]


def test_iso_template_round_trip_keeps_the_minutiae(finger_of):
    result = finger.analyse(finger_of(3, 0))
    assert finger.read_iso(result.template) == result.minutiae
    with pytest.raises(finger.FingerProblem):
        finger.read_iso(result.template[:-3])


def test_fingerprint_images_are_checked(finger_of):
    with pytest.raises(finger.FingerProblem) as small:
        finger.analyse(finger_of(1, 0)[:50])
    assert small.value.reason == "unreadable"
