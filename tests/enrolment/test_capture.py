"""Consent and exemptions at biometric capture: recorded with the encounter, derived by the rules (a child under
the capture age, a refusal), and contradictions refused with the field named and nothing stored."""

import io
import json
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.enrolment.conftest import person
from travesia.enrolment import rules
from travesia.enrolment.schemas import BiometricsIn
from travesia.models import BiometricSample, Encounter


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (300, 300), 128).save(buffer, format="PNG")
    return buffer.getvalue()


def _post(client, headers, body, files=None):
    if files:
        return client.post("/api/v1/encounters", data={"data": json.dumps(body)}, files=files, headers=headers)
    return client.post("/api/v1/encounters", json=body, headers=headers)


def test_exemptions_are_recorded_and_returned(client, officer, session):
    body = person(
        biometrics={
            "consent": "given",
            "exemptions": [{"modality": "finger", "finger_position": 7, "reason": "injured", "note": "bandage"}],
        }
    )
    files = {"fingerprint_2": ("f.png", _png(), "image/png")}
    created = _post(client, officer, body, files)
    assert created.status_code == 201, created.text
    out = created.json()["biometrics"]
    assert out["consent"] == "given"
    assert out["exemptions"] == [
        {"modality": "finger", "finger_position": 7, "reason": "injured", "note": "bandage", "derived": False}
    ]
    stored = session.get(Encounter, uuid.UUID(body["id"]))
    assert stored.biometric_consent == "given" and stored.biometric_exemptions[0]["reason"] == "injured"


def test_a_small_child_is_exempt_from_fingerprints_by_rule(client, officer):
    child = person(birth_date="2024-01-10", biometrics={"consent": "given"})
    out = _post(client, officer, child, {"photo": ("f.png", _face_png(), "image/png")}).json()["biometrics"]
    assert out["exemptions"] == [
        {"modality": "finger", "finger_position": None, "reason": "under_capture_age", "note": None, "derived": True}
    ]


def test_refused_consent_records_both_modalities(client, officer):
    out = _post(client, officer, person(biometrics={"consent": "refused"})).json()["biometrics"]
    assert out["consent"] == "refused"
    assert [(e["modality"], e["reason"], e["derived"]) for e in out["exemptions"]] == [
        ("face", "refused", True),
        ("finger", "refused", True),
    ]


def test_without_a_consent_record_the_age_rule_still_applies(client, officer):
    out = _post(client, officer, person(birth_date="2023")).json()["biometrics"]
    assert out["consent"] is None and out["exemptions"][0]["reason"] == "under_capture_age"
    adult = _post(client, officer, person()).json()["biometrics"]
    assert adult == {"consent": None, "exemptions": []}


@pytest.mark.parametrize(
    ("body", "files", "loc"),
    [
        (person(biometrics={"consent": "refused"}), {"fingerprint_1": 1}, ["body", "biometrics", "consent"]),
        (person(birth_date="2023-02-01"), {"fingerprint_3": 1}, ["body", "fingerprint_3"]),
        (
            person(biometrics={"consent": "given", "exemptions": [{"modality": "finger", "reason": "amputated"}]}),
            {"fingerprint_4": 1},
            ["body", "fingerprint_4"],
        ),
        (
            person(biometrics={"consent": "given", "exemptions": [{"modality": "face", "reason": "other"}]}),
            {"photo": 1},
            ["body", "photo"],
        ),
        (
            person(biometrics={"consent": "given", "exemptions": [{"modality": "finger", "reason": "refused"}]}),
            None,
            ["body", "biometrics", "exemptions", 0, "reason"],
        ),
        (
            person(
                biometrics={"consent": "given", "exemptions": [{"modality": "finger", "reason": "under_capture_age"}]}
            ),
            None,
            ["body", "biometrics", "exemptions", 0, "reason"],
        ),
        (
            person(
                biometrics={
                    "consent": "given",
                    "exemptions": [{"modality": "face", "finger_position": 2, "reason": "other"}],
                }
            ),
            None,
            ["body", "biometrics", "exemptions", 0],
        ),
        (person(biometrics={"consent": "maybe"}), None, ["body", "biometrics", "consent"]),
        (
            person(
                biometrics={
                    "consent": "given",
                    "exemptions": [{"modality": "finger", "finger_position": 11, "reason": "injured"}],
                }
            ),
            None,
            ["body", "biometrics", "exemptions", 0, "finger_position"],
        ),
    ],
)
def test_contradictions_name_the_field_and_store_nothing(client, officer, session, body, files, loc):
    before = session.execute(select(func.count()).select_from(Encounter)).scalar_one()
    samples = session.execute(select(func.count()).select_from(BiometricSample)).scalar_one()
    upload = {name: (f"{name}.png", _png(), "image/png") for name in files or {}}
    response = _post(client, officer, body, upload)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert session.execute(select(func.count()).select_from(Encounter)).scalar_one() == before
    assert session.execute(select(func.count()).select_from(BiometricSample)).scalar_one() == samples


def test_capture_record_rule_edges():
    given = BiometricsIn(
        consent="given", exemptions=[{"modality": "finger", "finger_position": 2, "reason": "injured"}]
    )
    consent, exemptions = rules.capture_record(rules.FINGER_CAPTURE_AGE, given, True, [1, 3])
    assert consent == "given" and len(exemptions) == 1  # old enough: no age exemption
    _, young = rules.capture_record(rules.FINGER_CAPTURE_AGE - 1, given, True, [])
    assert [e["reason"] for e in young] == ["injured", "under_capture_age"]
    twice = BiometricsIn(consent="given", exemptions=[{"modality": "face", "reason": "other"}] * 2)
    with pytest.raises(rules.CaptureProblem) as problem:
        rules.capture_record(30, twice, False, [])
    assert problem.value.field == "biometrics.exemptions.1"


def _face_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 240), (180, 150, 120)).save(buffer, format="PNG")
    return buffer.getvalue()
