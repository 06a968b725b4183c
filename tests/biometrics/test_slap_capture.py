"""A slap sent where single fingers go — the API's ``fingerprint_13``-``15``, the scanner's ``<id>_14.png`` — is
stored as the fingers it holds, each searched like any other: a later single print of one of them finds the person.
A slap whose count does not add up is refused in the officer's language, naming its field, and stores nothing; a
finger recorded as not taken is left out of the names. On SQLite and PostgreSQL."""

import json

import pytest
from sqlalchemy import func, select

from tests.biometrics.test_capture_page import _form
from tests.biometrics.test_dropfolder import SCANNER, _drop, _samples
from tests.biometrics.test_pipeline import enrol
from tests.enrolment.conftest import person
from tests.enrolment.test_page import form_of, signed_in
from travesia.biometrics import dropfolder, jobs
from travesia.core.errors import Conflict
from travesia.enrolment import service as enrolment
from travesia.enrolment.images import clean_fingerprint
from travesia.models import BiometricCandidate, Encounter
from travesia.synth.slaps import compose


def slap(seeds: list[int], **kw) -> bytes:
    from travesia.synth.fingerprints import impression

    return compose([impression(seed, 0) for seed in seeds], oval=True, **kw)


THREE = {"lift": (60, 0, 80), "tilt": (6, 0, -6)}


def test_a_slap_is_stored_as_its_fingers_and_each_is_searched(client, officer, session, db, bio, finger_of):
    first = enrol(client, officer, None, {13: slap([41, 42, 43, 44])})
    assert set(_samples(session, first)) == {("finger", p) for p in (2, 3, 4, 5)}
    assert jobs.run_pending(db, bio)["processed"] == 1
    assert {s.status for s in _samples(session, first).values()} == {"done"}
    again = enrol(client, officer, None, {4: finger_of(43, 1)}, given_names="Otro", surnames="Nombre")
    assert jobs.run_pending(db, bio)["processed"] == 1
    session.expire_all()
    fused = (BiometricCandidate.encounter_id == again) & (BiometricCandidate.modality == "fused")
    found = session.execute(select(BiometricCandidate).where(fused)).scalars().all()
    assert [c.candidate_id for c in found][:1] == [first]
    assert found[0].evidence["fingers"]["4"] > 3.3  # the ring finger, cut from the slap, carries the evidence


def test_a_slap_that_does_not_add_up_is_refused_and_stores_nothing(client, officer, session):
    before = session.scalar(select(func.count()).select_from(Encounter))
    files = {
        "data": (None, json.dumps(person()), "application/json"),
        "fingerprint_14": ("left.png", slap([51, 52, 53], **THREE), "image/png"),
    }
    refused = client.post("/api/v1/encounters", files=files, headers={**officer, "Accept-Language": "es"})
    assert refused.status_code == 422, refused.text
    detail = refused.json()["detail"][0]
    assert detail["loc"][-1] == "fingerprint_14"
    assert "3" in detail["msg"] and "4" in detail["msg"] and "dedos" in detail["msg"]  # in Spanish, with the counts
    assert session.scalar(select(func.count()).select_from(Encounter)) == before

    exempt = {"consent": "given", "exemptions": [{"modality": "finger", "finger_position": 8, "reason": "amputated"}]}
    stored = enrol(client, officer, None, {14: slap([51, 52, 53], **THREE)}, biometrics=exempt)
    assert set(_samples(session, stored)) == {("finger", p) for p in (10, 9, 7)}


def test_the_scanners_folder_takes_a_slap(client, officer, session, db, tmp_path):
    folder = tmp_path / "scanner"
    folder.mkdir()
    encounter = enrol(client, officer, biometrics={"consent": "given"})
    _drop(folder, f"{encounter}_15.png", slap([61, 62]))
    wrong = enrol(client, officer, biometrics={"consent": "given"}, given_names="Ana")
    _drop(folder, f"{wrong}_13.png", slap([63, 64, 65], **THREE))
    result = dropfolder.sweep(db, SCANNER, folder)
    assert result.stored == [f"{encounter}_15.png"]
    assert "3 fingers were found" in result.rejected[f"{wrong}_13.png"]
    assert set(_samples(session, encounter)) == {("finger", 6), ("finger", 1)}
    assert _samples(session, wrong) == {}


def test_the_officers_page_takes_a_slap_and_names_one_that_does_not_add_up(client, make_user, session, auth_ctx):
    signed_in(client, make_user, session, auth_ctx)
    page = client.get("/enrol").text
    assert 'name="m0_fingerprint_13"' in page and 'name="m0_fingerprint_15"' in page
    ids, token = form_of(page)
    form = _form(token, ids, m0_consent="given")
    files = {"m0_fingerprint_13": ("right.png", slap([71, 72, 73], **THREE), "image/png")}
    response = client.post("/enrol", data=form, files=files)
    assert response.status_code == 422 and 'id="m0_fingerprint_13-error"' in response.text
    assert "Cuatro dedos de la mano derecha a la vez" in response.text  # the summary names the slap, in Spanish
    assert session.execute(select(Encounter)).first() is None
    files = {"m0_fingerprint_13": ("right.png", slap([71, 72, 73, 74]), "image/png")}
    assert client.post("/enrol", data=form, files=files).status_code == 303
    stored = session.execute(select(Encounter)).scalar_one()
    assert set(_samples(session, stored.id)) == {("finger", p) for p in (2, 3, 4, 5)}


def test_a_problem_with_a_finger_cut_from_a_slap_is_named_on_the_slap(client, officer, session, db, finger_of):
    child = person(birth_date="2023-02-01", given_names="Niño")
    files = {
        "data": (None, json.dumps(child), "application/json"),
        "fingerprint_15": ("thumbs.png", slap([81, 82]), "image/png"),
    }
    refused = client.post("/api/v1/encounters", files=files, headers=officer)
    assert refused.status_code == 422, refused.text
    assert refused.json()["detail"][0]["loc"][-1] == "fingerprint_15"  # too young: said on the field that was sent
    encounter = enrol(client, officer, None, {1: finger_of(83, 0)})
    thumbs = {15: clean_fingerprint(slap([81, 82]))}  # the scanner adds both thumbs later; the right one is there
    with pytest.raises(Conflict) as conflict, db.transaction() as s:
        enrolment.add_samples(s, SCANNER, encounter, fingerprints=thumbs)
    assert conflict.value.field == "fingerprint_15" and conflict.value.params == {"position": 1}
