"""Capture on the officer's page (server side): consent and exemptions recorded from the form, fingerprints
uploaded per finger, the live face check the camera calls, and the receipt's status fragment. The camera itself
runs in a real browser in tests/web/test_browser.py."""

import uuid

from sqlalchemy import select

from tests.conftest import csrf_of
from tests.enrolment.test_page import form_of, signed_in
from travesia.biometrics import jobs
from travesia.models import BiometricCandidate, BiometricSample, Encounter


def _form(token, ids, **extra):
    return {
        "csrf_token": token,
        "group_id": ids["group_id"],
        "group_kind": "single",
        "m0_id": ids["m0_id"],
        "m0_given_names": "Wideline",
        "m0_surnames": "Pierre",
        "m0_sex": "F",
        "m0_birth_date": "1995-03-12",
        **extra,
    }


def test_page_records_consent_fingerprints_and_exemptions(
    client, make_user, session, auth_ctx, db, bio, face_png, finger_of
):
    signed_in(client, make_user, session, auth_ctx)
    page = client.get("/enrol").text
    assert 'name="m0_fingerprint_10"' in page and 'data-camera="m0"' in page and "/static/capture.js" in page
    ids, token = form_of(page)
    form = _form(token, ids, m0_consent="given", m0_exempt_7="injured")
    files = {
        "m0_photo": ("face.png", face_png, "image/png"),
        "m0_fingerprint_2": ("f2.png", finger_of(41, 0), "image/png"),
    }
    done = client.post("/enrol", data=form, files=files)
    assert done.status_code == 303, done.text
    stored = session.execute(select(Encounter)).scalar_one()
    assert stored.biometric_consent == "given"
    assert stored.biometric_exemptions == [
        {"modality": "finger", "finger_position": 7, "reason": "injured", "note": None, "derived": False}
    ]
    samples = session.execute(select(BiometricSample.modality, BiometricSample.finger_position)).all()
    assert sorted(samples, key=str) == sorted([("face", None), ("finger", 2)], key=str)

    status = client.get(f"/biometrics/encounters/{stored.id}/status")
    assert "being checked" in status.text or "comprobando" in status.text
    assert 'hx-trigger="every 3s"' in status.text  # polls while pending
    jobs.run_pending(db, bio)
    status = client.get(f"/biometrics/encounters/{stored.id}/status").text
    assert "every 3s" not in status, status
    assert status.count("aceptad") == 2
    assert "Índice izquierdo" in status and "lesionado" in status  # the exempt finger, in Spanish
    assert 'id="fingers-missing"' not in status  # the right index taken, the left one recorded as injured


def test_page_refuses_images_without_consent_and_exempt_fingers(client, make_user, session, auth_ctx, finger_of):
    signed_in(client, make_user, session, auth_ctx)
    ids, token = form_of(client.get("/enrol").text)
    files = {"m0_fingerprint_3": ("f3.png", finger_of(42, 0), "image/png")}
    response = client.post("/enrol", data=_form(token, ids, m0_exempt_3="amputated"), files=files)
    assert response.status_code == 422
    assert 'id="m0_biometrics-error"' in response.text  # no consent recorded
    assert "<details open>" in response.text  # the fingerprint table opens on the problem
    assert 'value="amputated" selected' in response.text  # what was chosen is kept
    response = client.post("/enrol", data=_form(token, ids, m0_consent="given", m0_exempt_3="amputated"), files=files)
    assert response.status_code == 422 and 'id="m0_fingerprint_3-error"' in response.text
    response = client.post("/enrol", data=_form(token, ids, m0_consent="refused"), files=files)
    assert response.status_code == 422 and 'id="m0_biometrics-error"' in response.text
    assert session.execute(select(Encounter)).first() is None


def test_live_face_check_for_the_camera(client, make_user, session, auth_ctx, face_png, two_faces, no_face):
    signed_in(client, make_user, session, auth_ctx)
    header = {"X-CSRF-Token": csrf_of(client, "/enrol")}
    good = client.post("/biometrics/face-check", files={"image": ("f.png", face_png, "image/png")}, headers=header)
    assert good.status_code == 200 and good.json()["acceptable"] is True, good.text
    for image, words in [(two_faces, "más de una cara"), (no_face, "no se encontró ninguna cara")]:
        bad = client.post("/biometrics/face-check", files={"image": ("f.png", image, "image/png")}, headers=header)
        assert bad.json()["acceptable"] is False and words in bad.json()["reasons"], bad.text
    junk = client.post("/biometrics/face-check", files={"image": ("f.png", b"junk", "image/png")}, headers=header)
    assert junk.json()["acceptable"] is False
    assert client.post("/biometrics/face-check", files={"image": ("f.png", face_png, "image/png")}).status_code == 403


def test_the_receipt_says_what_the_strongest_earlier_registration_rests_on(
    client, make_user, session, auth_ctx, db, bio, face_png, face_again
):
    signed_in(client, make_user, session, auth_ctx)
    stored = []
    for photo in (face_png, face_again):
        ids, token = form_of(client.get("/enrol").text)
        files = {"m0_photo": ("face.png", photo, "image/png")}
        assert client.post("/enrol", data=_form(token, ids, m0_consent="given"), files=files).status_code == 303
        jobs.run_pending(db, bio)
        stored += set(session.execute(select(Encounter.id)).scalars()) - set(stored)
    first = client.get(f"/biometrics/encounters/{stored[0]}/status").text
    assert "Ningún registro anterior coincide." in first  # nobody before it
    assert 'id="bio-evidence"' not in first
    again = client.get(f"/biometrics/encounters/{stored[1]}/status").text
    assert "encontrados: 1." in again  # the same face, at ten to one or more
    assert "foto fuertemente a favor de que sea la misma persona" in again and "bits)" in again
    # a watchlist entry the biometric step found is screening's: never counted or shown on the officer's receipt
    listed = {"feature": "face", "level": "very_strong_for", "bits": 30.0, "detail": ""}
    session.add(
        BiometricCandidate(
            encounter_id=stored[1],
            modality="fused",
            candidate_kind="watchlist",
            candidate_id=uuid.uuid4(),
            score=30.0,
            rank=1,
            evidence={"face": 30.0, "face_found": True, "fingers": {}, "terms": [listed]},
        )
    )
    session.commit()
    again = client.get(f"/biometrics/encounters/{stored[1]}/status").text
    assert "encontrados: 1." in again and "+30.0" not in again


def test_the_receipt_asks_for_an_index_finger_neither_taken_nor_recorded(
    client, make_user, session, auth_ctx, db, bio, finger_of
):
    signed_in(client, make_user, session, auth_ctx)
    ids, token = form_of(client.get("/enrol").text)
    files = {"m0_fingerprint_2": ("f2.png", finger_of(43, 0), "image/png")}
    assert client.post("/enrol", data=_form(token, ids, m0_consent="given"), files=files).status_code == 303
    jobs.run_pending(db, bio)
    stored = session.execute(select(Encounter)).scalar_one()
    status = client.get(f"/biometrics/encounters/{stored.id}/status").text
    notice = status.split('id="fingers-missing">', 1)[1].split("</p>", 1)[0]
    assert "Índice izquierdo" in notice and "Índice derecho" not in notice  # the one taken is not asked for
