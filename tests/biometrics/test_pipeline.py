"""The biometric step after enrolment: templates encrypted at rest, candidates found, retries that never lose the
enrolment, the index rebuilt from the database, re-extraction and key rotation; on SQLite and PostgreSQL."""

import json
import uuid
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from tests.enrolment.conftest import person
from travesia.biometrics import face, jobs, repository, search, service, tools
from travesia.core.crypto import DecryptionError, Keyring
from travesia.core.principal import cli_principal
from travesia.models import AuditEvent, BiometricCandidate, BiometricSample, BiometricTemplate, Encounter

ADMIN = cli_principal("test")


def enrol(client, headers, photo=None, fingers=None, **overrides):
    body = person(**overrides)
    files = {"data": (None, json.dumps(body), "application/json")}
    if photo:
        files["photo"] = ("photo.png", photo, "image/png")
    for position, image in (fingers or {}).items():
        files[f"fingerprint_{position}"] = (f"f{position}.png", image, "image/png")
    response = client.post("/api/v1/encounters", files=files, headers=headers)
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


def test_step_stores_encrypted_templates_and_finds_the_same_person(
    client, officer, session, db, bio, face_png, face_again, finger_of, other_keyring
):
    first = enrol(client, officer, face_png, {2: finger_of(11, 0), 7: finger_of(12, 0)})
    stranger = enrol(client, officer, None, {2: finger_of(13, 0)}, given_names="Otra", surnames="Persona")
    assert jobs.run_pending(db, bio)["processed"] == 2
    again = enrol(client, officer, face_again, {2: finger_of(11, 1), 7: finger_of(12, 2)})
    assert jobs.run_pending(db, bio)["processed"] == 1
    session.expire_all()

    samples = session.execute(select(BiometricSample).where(BiometricSample.encounter_id == again)).scalars().all()
    assert {s.status for s in samples} == {"done"} and all(s.quality for s in samples)
    rows = session.execute(select(BiometricTemplate)).scalars().all()
    assert {r.modality for r in rows} == {"face", "finger"} and all(r.key_id == "k1" for r in rows)
    face_row = next(r for r in rows if r.modality == "face" and r.subject_id == first)
    plain = service.unseal(bio, face_row)
    assert len(plain) == 128 * 4 and plain not in face_row.ciphertext  # encrypted, not merely stored
    assert (face_row.algorithm, face_row.version) == (bio.face_model.algorithm, bio.face_model.version)
    with pytest.raises(DecryptionError):
        service.Biometrics(keyring=other_keyring, folder=bio.folder).keyring.decrypt(
            face_row.ciphertext, context=f"template:encounter:{first}:face:0".encode()
        )
    with pytest.raises(DecryptionError):  # bound to its subject: copied onto another encounter it does not open
        moved = BiometricTemplate(**{**_columns(face_row), "subject_id": stranger})
        service.unseal(bio, moved)

    found = client.get(f"/api/v1/encounters/{again}/biometrics", headers=officer).json()
    best = {c["modality"]: c for c in found["candidates"] if c["rank"] == 1}
    assert best["face"]["id"] == best["finger"]["id"] == best["fused"]["id"] == str(first)
    assert best["finger"]["score"] >= bio.finger_threshold and best["face"]["score"] <= bio.face_threshold
    assert str(stranger) not in {c["id"] for c in found["candidates"] if c["modality"] == "finger" and c["score"] >= 40}
    assert found["fingers_missing"] == []  # both index fingers taken
    # a watchlist entry the step found is for those who review alerts, not for the registration officer
    listed = uuid.uuid4()
    session.add(
        BiometricCandidate(
            encounter_id=again, modality="fused", candidate_kind="watchlist", candidate_id=listed, score=30.0, rank=1
        )
    )
    session.commit()
    shown = client.get(f"/api/v1/encounters/{again}/biometrics", headers=officer).json()["candidates"]
    assert str(listed) not in {c["id"] for c in shown} and len(shown) == len(found["candidates"])
    alone = client.get(f"/api/v1/encounters/{stranger}/biometrics", headers=officer).json()
    assert alone["fingers_missing"] == [7]  # the left index neither taken nor recorded as exempt
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "biometrics.process")).first()


def _columns(row):
    return {c.key: getattr(row, c.key) for c in BiometricTemplate.__table__.columns if c.key != "id"}


def test_unusable_images_are_rejected_with_reasons_and_the_enrolment_stays(
    client, officer, session, db, bio, two_faces
):
    encounter = enrol(client, officer, two_faces)
    jobs.run_pending(db, bio)
    session.expire_all()
    sample = session.execute(select(BiometricSample).where(BiometricSample.encounter_id == encounter)).scalar_one()
    assert sample.status == "rejected" and sample.problems == ["several_faces"]
    assert session.get(Encounter, encounter) is not None
    assert not session.execute(select(BiometricTemplate).where(BiometricTemplate.sample_id == sample.id)).first()


def test_a_failing_step_is_retried_later_and_never_loses_the_enrolment(
    client, officer, session, db, bio, face_png, monkeypatch
):
    encounter = enrol(client, officer, face_png)
    real = face.analyse
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("model crashed")
        return real(*args, **kwargs)

    monkeypatch.setattr(face, "analyse", flaky)
    assert jobs.run_pending(db, bio) == {"processed": 0, "failed": 1}
    session.expire_all()
    sample = session.execute(select(BiometricSample).where(BiometricSample.encounter_id == encounter)).scalar_one()
    assert sample.status == "pending" and sample.attempts == 1 and sample.next_attempt_at is not None
    assert jobs.run_pending(db, bio) == {"processed": 0, "failed": 0}  # not due yet: back-off
    with db.transaction() as s:  # time passes
        s.execute(update(BiometricSample).values(next_attempt_at=sample.next_attempt_at - timedelta(hours=2)))
    assert jobs.run_pending(db, bio)["processed"] == 1
    session.expire_all()
    assert session.get(BiometricSample, sample.id).status == "done"
    assert session.get(Encounter, sample.encounter_id) is not None


def test_attempts_run_out_as_failed_not_lost(client, officer, session, db, bio, face_png, monkeypatch):
    encounter = enrol(client, officer, face_png)
    monkeypatch.setattr(face, "analyse", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("always")))
    bio.attempts = 2
    for _ in range(2):
        with db.transaction() as s:
            s.execute(update(BiometricSample).values(next_attempt_at=None))
        jobs.run_pending(db, bio)
    session.expire_all()
    sample = session.execute(select(BiometricSample).where(BiometricSample.encounter_id == encounter)).scalar_one()
    assert sample.status == "failed" and sample.attempts == 2


def test_index_rebuilt_after_deletion_gives_the_same_results(client, officer, db, bio, settings, finger_of, face_png):
    for seed in range(4):
        enrol(client, officer, face_png if seed == 0 else None, {1: finger_of(40 + seed, 0)})
    jobs.run_pending(db, bio)
    probe = face.analyse(face_png).template
    with db.transaction() as s:
        service.sync(s, bio)
        before_face = bio.face_index.search(probe, k=5)
        before_finger = search.search_fingers(s, bio, {1: _finger(finger_of(41, 1))})
    service.save(bio)
    assert before_face and before_finger
    for path in bio.folder.iterdir():
        path.unlink()  # the index is lost
    fresh = service.Biometrics.from_settings(settings)
    service.load(fresh)  # nothing to load
    assert len(fresh.face_index) == 0
    with db.transaction() as s:
        service.sync(s, fresh)  # rebuilt from the database
        assert fresh.face_index.search(probe, k=5) == before_face
        assert search.search_fingers(s, fresh, {1: _finger(finger_of(41, 1))}) == before_finger
    service.save(fresh)
    reloaded = service.Biometrics.from_settings(settings)
    service.load(reloaded)  # and persisted: loaded from the (encrypted) file
    assert len(reloaded.face_index) == len(fresh.face_index)
    assert reloaded.face_index.search(probe, k=5) == before_face
    assert face.analyse(face_png).template.tobytes() not in service._file(bio, "face").read_bytes()


def _finger(image):
    from travesia.biometrics import finger, fingercode

    result = finger.analyse(image)
    return result.template, fingercode.code(finger.as_array(result.minutiae))


def test_reextract_retires_old_templates_and_rotation_reencrypts(client, officer, session, db, bio, settings, face_png):
    enrol(client, officer, face_png)
    jobs.run_pending(db, bio)
    with db.transaction() as s:
        s.execute(update(BiometricTemplate).values(version="old-model"))
    with db.transaction() as s:
        assert tools.reextract(s, bio, ADMIN) == 1
    session.expire_all()
    rows = session.execute(select(BiometricTemplate)).scalars().all()
    current = bio.face_model.version
    assert sorted((r.version, r.retired_at is None) for r in rows) == [(current, True), ("old-model", False)]
    assert repository.generation(session, "face") == 1

    new_key = Keyring({"k2": b"\x02" * 32, "k1": Keyring(settings.keyring_spec)._keys["k1"]})
    rotated = service.Biometrics(keyring=new_key, folder=bio.folder)
    with db.transaction() as s:
        assert tools.rotate_key(s, rotated, ADMIN) == 2
    session.expire_all()
    assert {r.key_id for r in session.execute(select(BiometricTemplate)).scalars()} == {"k2"}
    only_new = service.Biometrics(keyring=Keyring({"k2": b"\x02" * 32}), folder=bio.folder)
    live = session.execute(select(BiometricTemplate).where(BiometricTemplate.retired_at.is_(None))).scalar_one()
    assert np.allclose(service.face_vector(service.unseal(only_new, live)), face.analyse(face_png).template)


def test_candidates_are_evidence_only(client, officer, session, db, bio, face_png, face_again):
    enrol(client, officer, face_png)
    enrol(client, officer, face_again)
    jobs.run_pending(db, bio)
    session.expire_all()
    assert session.execute(select(BiometricCandidate)).first() is not None
    # Nothing else changed: each encounter keeps its own person until a human (or identity resolution) decides.
    persons = session.execute(select(Encounter.person_id)).scalars().all()
    assert len(set(persons)) == len(persons)


def test_live_quality_and_search_through_the_api(
    client, officer, session, db, bio, make_user, auth_ctx, face_png, face_again, two_faces
):
    from travesia.auth import service as auth_service
    from travesia.core.principal import Role

    live = client.post("/api/v1/biometrics/face-quality", files={"image": ("a.png", two_faces)}, headers=officer)
    assert (
        live.status_code == 200 and live.json()["acceptable"] is False and live.json()["reasons"] == ["several_faces"]
    )
    good = client.post("/api/v1/biometrics/face-quality", files={"image": ("a.png", face_png)}, headers=officer)
    assert good.json()["acceptable"] is True

    enrolled = enrol(client, officer, face_png)
    jobs.run_pending(db, bio)
    client.app.state.biometrics = bio
    user = make_user("analista", Role.ANALYST)
    principal = auth_service.principal_for(user, station_id=None, via="token", credential_id=None)
    _, token = auth_service.create_token(session, auth_ctx, principal, "search", 1)
    session.commit()
    analyst = {"Authorization": f"Bearer {token}"}
    assert (
        client.post("/api/v1/biometrics/search", files={"image": ("q.png", face_again)}, headers=officer).status_code
        == 403
    )
    found = client.post("/api/v1/biometrics/search", files={"image": ("q.png", face_again)}, headers=analyst)
    assert found.status_code == 200, found.text
    assert found.json()[0]["id"] == str(enrolled) and found.json()[0]["match"] is True
    assert found.json()[0]["bits"] > 10  # the same photo turned: a thousand to one for, and more
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "biometrics.search")).first()
