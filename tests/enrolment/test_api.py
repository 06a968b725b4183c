"""Enrolment through the API: idempotent by the client's UUID, validation errors with field paths, MRZ filling and
flags, images checked and stripped, search, groups and a minor's status, audit events."""

import io
import uuid

from PIL import Image
from sqlalchemy import func, select

from tests.enrolment.conftest import TD3, person
from travesia.models import AuditEvent, BiometricSample, Encounter


def count(session, model):
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_enrol_and_read_back(client, officer, session):
    body = person()
    created = client.post("/api/v1/encounters", json=body, headers=officer)
    assert created.status_code == 201, created.text
    out = created.json()
    assert out["id"] == body["id"] and out["station"] == "ERM-TEST" and out["replayed"] is False
    assert out["birth_date"] == "1990-05-17" and out["child_status"] is None
    read = client.get(f"/api/v1/encounters/{body['id']}?purpose=receipt", headers=officer)
    assert read.status_code == 200 and read.json()["surnames"] == "Pérez Núñez"
    actions = session.execute(select(AuditEvent.action, AuditEvent.purpose).order_by(AuditEvent.seq)).all()
    assert ("encounter.create", None) in actions and ("encounter.read", "receipt") in actions


def test_retry_is_idempotent_and_a_different_body_conflicts(client, officer, session):
    body = person()
    assert client.post("/api/v1/encounters", json=body, headers=officer).status_code == 201
    before = count(session, Encounter)
    retry = client.post("/api/v1/encounters", json=body, headers=officer)
    assert retry.status_code == 200 and retry.json()["replayed"] is True and retry.json()["id"] == body["id"]
    assert count(session, Encounter) == before
    conflict = client.post("/api/v1/encounters", json={**body, "surnames": "Otro"}, headers=officer)
    assert conflict.status_code == 409
    assert conflict.json()["detail"][0]["loc"] == ["body", "id"]
    assert count(session, Encounter) == before


def test_validation_errors_name_the_field(client, officer, session):
    cases = [
        ({k: v for k, v in person().items() if k != "surnames"}, ["body", "surnames"]),
        (person(birth_date="17/05/1990"), ["body", "birth_date"]),
        (person(birth_date="2999"), ["body", "birth_date"]),
        (person(nationality="VENEZUELA"), ["body", "nationality"]),
        (person(sex="male"), ["body", "sex"]),
        (person(languages=["klingon"]), ["body", "languages", 0]),
        (person(id="not-a-uuid"), ["body", "id"]),
        (person(occurred_at="2999-01-01T00:00:00+00:00"), ["body", "occurred_at"]),
        (person(documents=[{"doc_type": "passport"}]), ["body", "documents", 0]),
        (person(station="NOWHERE"), ["body", "station"]),
        (person(unknown_field=1), ["body", "unknown_field"]),
    ]
    before = count(session, Encounter)
    for body, loc in cases:
        response = client.post("/api/v1/encounters", json=body, headers=officer)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["detail"][0]["loc"] == loc, response.json()
    broken = client.post(
        "/api/v1/encounters", content=b"{not json", headers={**officer, "content-type": "application/json"}
    )
    assert broken.status_code == 422 and broken.json()["detail"][0]["loc"][0] == "body"
    assert count(session, Encounter) == before


def test_station_must_be_ones_own(client, officer, other_station_officer):
    response = client.post("/api/v1/encounters", json=person(station="ERM-OTRA"), headers=officer)
    assert response.status_code == 403 and response.json()["detail"][0]["loc"] == ["body", "station"]


def test_bad_mrz_names_line_field_and_check_digit(client, officer):
    bad = TD3[:-2] + "3" + TD3[-1:]  # the personal-number check digit (column 43 of line 2) changed
    response = client.post("/api/v1/encounters", json=person(documents=[{"mrz": bad}]), headers=officer)
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "documents", 0, "mrz"]
    assert "Línea 2, número personal: el dígito de control 3 no coincide" in detail["msg"]


def test_mrz_fills_the_document_and_flags_disagreement(client, officer):
    body = person(
        given_names="Anna Maria",
        surnames="Eriksson",
        sex="F",
        birth_date="1974-08-12",
        nationality="UTO",
        documents=[{"mrz": TD3}],
    )
    out = client.post("/api/v1/encounters", json=body, headers=officer).json()
    doc = out["documents"][0]
    assert (doc["doc_type"], doc["number"], doc["issuing_state"], doc["expiry_date"]) == (
        "passport",
        "L898902C3",
        "UTO",
        "2012-04-15",
    )
    assert doc["mrz_mismatches"] == [] and out["warnings"] == []
    typo = person(
        given_names="Ana Maria",
        surnames="Eriksson",
        sex="F",
        birth_date="1974-12-08",
        nationality="UTO",
        documents=[{"mrz": TD3, "number": "L898902C4"}],
    )
    flagged = client.post("/api/v1/encounters", json=typo, headers=officer).json()
    assert set(flagged["documents"][0]["mrz_mismatches"]) == {"number", "given_names", "birth_date"}
    assert "documents.0.birth_date" in flagged["warnings"]


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (320, 400), (180, 140, 120))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x0131] = "GPS-tracking-firmware"  # Software
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_multipart_with_photo_strips_metadata(client, officer, session):
    import json

    body = person()
    raw = jpeg_with_exif()
    assert b"SecretCameraMaker" in raw
    files = {"photo": ("face.jpg", raw, "image/jpeg"), "fingerprint_2": ("f.png", _png(), "image/png")}
    response = client.post("/api/v1/encounters", data={"data": json.dumps(body)}, files=files, headers=officer)
    assert response.status_code == 201, response.text
    samples = (
        session.execute(select(BiometricSample).where(BiometricSample.encounter_id == uuid.UUID(body["id"])))
        .scalars()
        .all()
    )
    assert sorted((s.modality, s.finger_position) for s in samples) == [("face", None), ("finger", 2)]
    face = next(s for s in samples if s.modality == "face")
    assert face.image_format == "jpeg" and (face.width, face.height) == (320, 400)
    assert b"SecretCameraMaker" not in face.image and b"Exif" not in face.image


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (300, 300), 128).save(buffer, format="PNG")
    return buffer.getvalue()


def test_fake_images_and_bad_parts_are_refused(client, officer, session):
    import json

    before = count(session, Encounter)
    cases = [
        ({"photo": ("face.jpg", b"this is not a jpeg", "image/jpeg")}, "photo"),
        ({"photo": ("face.gif", _gif(), "image/gif")}, "photo"),
        ({"photo": ("tiny.png", _tiny_png(), "image/png")}, "photo"),
        ({"fingerprint_11": ("f.png", _png(), "image/png")}, "fingerprint_11"),
    ]
    for files, field in cases:
        response = client.post("/api/v1/encounters", data={"data": json.dumps(person())}, files=files, headers=officer)
        assert response.status_code == 422, response.text
        assert response.json()["detail"][0]["loc"] == ["body", field]
    missing = client.post("/api/v1/encounters", files={"photo": ("a.png", _png(), "image/png")}, headers=officer)
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "data"]
    assert count(session, Encounter) == before


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (100, 100)).save(buffer, format="GIF")
    return buffer.getvalue()


def _tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_search_is_accent_and_case_insensitive_and_paginated(client, officer):
    ids = []
    for i in range(5):
        body = person(given_names="María José", surnames=f"Núñez Ávila{i}")
        ids.append(client.post("/api/v1/encounters", json=body, headers=officer).json()["id"])
    client.post("/api/v1/encounters", json=person(given_names="Pedro", surnames="Gómez"), headers=officer)
    found = client.get("/api/v1/encounters", params={"name": "maria nunez", "limit": 3}, headers=officer).json()
    assert len(found["items"]) == 3 and found["next_cursor"]
    rest = client.get(
        "/api/v1/encounters",
        params={"name": "MARIA NUNEZ", "limit": 3, "cursor": found["next_cursor"]},
        headers=officer,
    ).json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert {i["id"] for i in found["items"] + rest["items"]} == set(ids)
    assert client.get("/api/v1/encounters", params={"cursor": "garbage"}, headers=officer).status_code == 422


def test_search_by_document_and_station_scope(client, officer, other_station_officer):
    body = person(documents=[{"doc_type": "id_card", "number": "V12345678", "issuing_state": "VEN"}])
    client.post("/api/v1/encounters", json=body, headers=officer)
    hit = client.get("/api/v1/encounters", params={"document": "v12345678"}, headers=officer).json()
    assert [i["id"] for i in hit["items"]] == [body["id"]]
    # An officer of another station neither finds nor reads it.
    assert (
        client.get("/api/v1/encounters", params={"document": "V12345678"}, headers=other_station_officer).json()[
            "items"
        ]
        == []
    )
    assert client.get(f"/api/v1/encounters/{body['id']}", headers=other_station_officer).status_code == 404


def test_family_group_and_unaccompanied_child(client, officer):
    group = str(uuid.uuid4())
    mother = person(
        given_names="Rosa", surnames="Díaz", sex="F", birth_date="1992", group={"id": group, "relation": "head"}
    )
    son = person(
        given_names="Luis",
        surnames="Díaz",
        birth_date="2019-03",
        birth_estimated=True,
        group={"id": group, "relation": "child"},
    )
    daughter = person(
        given_names="Ana", surnames="Díaz", sex="F", birth_date="2021-01-02", group={"id": group, "relation": "child"}
    )
    for body in (mother, son, daughter):
        assert client.post("/api/v1/encounters", json=body, headers=officer).status_code == 201
    family = client.get(f"/api/v1/groups/{group}", headers=officer).json()
    assert family["kind"] == "family" and len(family["members"]) == 3
    statuses = {m["given_names"]: m["child_status"] for m in family["members"]}
    assert statuses == {"Rosa": None, "Luis": "accompanied", "Ana": "accompanied"}
    alone = person(given_names="Kevin", birth_date="2011-06-01")
    out = client.post("/api/v1/encounters", json=alone, headers=officer).json()
    assert out["child_status"] == "unaccompanied"


def test_correction_is_a_new_encounter_of_the_same_person(client, officer, session):
    first = client.post("/api/v1/encounters", json=person(surnames="Perez"), headers=officer).json()
    fixed = client.post(
        "/api/v1/encounters", json=person(surnames="Pérez", corrects=first["id"]), headers=officer
    ).json()
    assert fixed["person_id"] == first["person_id"] and fixed["corrects"] == first["id"]
    assert client.get(f"/api/v1/encounters/{first['id']}", headers=officer).json()["surnames"] == "Perez"  # kept
    person_view = client.get(f"/api/v1/persons/{first['person_id']}", headers=officer).json()
    assert {e["id"] for e in person_view["encounters"]} == {first["id"], fixed["id"]}
