"""Biometric comparisons as calibrated bits: the curves, the fingers' dependence, the explanation in words, and the
search that weighs every modality both sides hold (on SQLite and PostgreSQL)."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from tests.biometrics.test_pipeline import enrol
from travesia.biometrics import evidence, face_models, finger, jobs
from travesia.biometrics.evidence import Evidence
from travesia.models import BiometricCandidate

FVC = Path(__file__).resolve().parents[3] / "shared" / "data" / "biometrics" / "fvc2002"


def test_bits_rise_with_the_evidence_and_are_bounded():
    distances = np.linspace(0.0, 1.4, 57)
    face = [evidence.face_bits(d, face_models.DEFAULT) for d in distances]
    assert all(a >= b for a, b in itertools.pairwise(face)), "nearer faces never weigh less"
    assert face[0] > 10 and face[-1] < -5  # one photo twice is strong evidence, a stranger's face against
    scores = range(0, 400, 7)
    for rescored in (False, True):
        bits = [evidence.finger_bits(s, rescored) for s in scores]
        assert all(a <= b for a, b in itertools.pairwise(bits))
        assert bits[0] < 0 < bits[-1]
        # flat beyond the fitted range: no score claims more than the pairs seen could show
        assert evidence.finger_bits(10_000, rescored) == evidence.finger_bits(400, rescored) < 20


def test_a_face_model_without_calibration_is_refused_rather_than_guessed():
    with pytest.raises(evidence.NotCalibrated):
        evidence.face_bits(0.3, "some-other-model")


def test_fingers_of_one_hand_count_as_fewer_independent_fingers():
    assert evidence.dependence_scale([2]) == 1.0
    other_hands = evidence.dependence_scale([2, 7])  # right and left index
    same_hand = evidence.dependence_scale([2, 3])  # right index and middle
    assert same_hand < other_hands < 1.0
    assert other_hands == pytest.approx(2 / (2 + 2 * evidence.OTHER_HAND))
    four = Evidence(fingers={2: 8.0, 3: 8.0, 7: 8.0, 8: 8.0})
    assert four.finger_total < 32.0 and four.finger_total == pytest.approx(32.0 * four.finger_scale)


def test_the_explanation_says_each_modality_in_bits_and_words():
    weighed = Evidence(face=12.5, fingers={2: 9.0, 7: -4.0})
    assert weighed.total == pytest.approx(12.5 + 5.0 * evidence.dependence_scale([2, 7]), abs=1e-3)
    face, fingers = weighed.terms()
    assert (face["feature"], face["level"], face["bits"]) == ("face", "very_strong_for", 12.5)
    assert fingers["feature"] == "finger" and fingers["level"] == "for"
    assert fingers["detail"].startswith("2: +9.0, 7: -4.0")
    back = Evidence.from_json(weighed.as_json())
    assert back == weighed and back.total == weighed.total
    assert Evidence(face=-11.0).terms()[0]["level"] == "very_strong_against"
    assert Evidence(face=4.0, face_found=False).terms()[0]["level"] == "not_among_nearest"
    assert Evidence().total == 0 and Evidence().terms() == []  # nothing captured on both sides adds nothing


@pytest.mark.slow
@pytest.mark.skipif(not FVC.exists(), reason="FVC2002 is read in place from ../shared/data (never copied here)")
def test_on_prints_the_fit_never_saw_mates_weigh_for_and_strangers_against():
    """DB3_B (the finger curves are fitted on DB1_B only): every genuine pair of two fingers, and each finger's
    first impression against every other finger's."""
    prints = {
        f: [finger.analyse((FVC / "DB3_B" / f"{f}_{i}.tif").read_bytes()) for i in (1, 2, 3)]
        for f in (101, 102, 103, 104)
    }
    genuine = [finger.compare(p[0].template, p[i].template) for p in prints.values() for i in (1, 2)]
    impostor = [
        finger.compare(prints[a][0].template, prints[b][0].template) for a, b in itertools.combinations(prints, 2)
    ]
    assert np.mean([evidence.finger_bits(s) for s in genuine]) > 3
    assert np.mean([evidence.finger_bits(s) for s in impostor]) < 0


def test_a_finger_on_both_sides_counts_even_when_no_finger_search_found_it(
    client, officer, session, db, bio, face_png, face_again, finger_of
):
    """Two earlier registrations with the same face: one gave no finger, the other a finger that is not the new
    person's. The finger index is made to find nothing: the finger held on both sides is still compared, and its
    disagreement takes bits away; the finger not captured takes none."""
    no_finger = enrol(client, officer, face_png)
    other_finger = enrol(client, officer, face_png, {2: finger_of(14, 0)}, given_names="Otra")
    jobs.run_pending(db, bio)
    bio.finger_index.search = lambda *args, **kwargs: []  # the code index misses every finger
    probe = enrol(client, officer, face_again, {2: finger_of(11, 1)})
    jobs.run_pending(db, bio)
    session.expire_all()
    fused = {
        c.candidate_id: c
        for c in session.execute(
            select(BiometricCandidate).where(
                BiometricCandidate.encounter_id == probe, BiometricCandidate.modality == "fused"
            )
        ).scalars()
    }
    alone, against = Evidence.from_json(fused[no_finger].evidence), Evidence.from_json(fused[other_finger].evidence)
    assert alone.fingers == {} and alone.face > evidence.MATCH_BITS
    assert set(against.fingers) == {2} and against.fingers[2] < 0
    assert fused[other_finger].score == pytest.approx(against.face + against.fingers[2], abs=1e-3)
    assert fused[other_finger].score < fused[no_finger].score
    shown = client.get(f"/api/v1/encounters/{probe}/biometrics", headers=officer).json()["candidates"]
    terms = next(c["evidence"] for c in shown if c["modality"] == "fused" and c["id"] == str(other_finger))
    assert (terms[0]["feature"], terms[0]["level"]) == ("face", "very_strong_for")
    assert terms[1]["feature"] == "finger" and terms[1]["bits"] < 0


def test_screening_calls_the_same_biometrics_at_the_same_bits():
    from travesia.screening import service as screening

    assert screening.BIOMETRIC_MATCH == evidence.MATCH_BITS  # screening may not import biometrics: a copy, kept equal
