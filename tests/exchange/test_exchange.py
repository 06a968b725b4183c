"""Data-sharing agreements on both databases: every export, query and import is checked against its agreement and
audited, and a field that is not in the agreement never leaves — proven field by field, in JSON and in NIST."""

from __future__ import annotations

import base64
import io
import json
from datetime import date, timedelta

import pytest
from PIL import Image as PILImage
from pydantic import ValidationError
from skimage import data as skdata
from sqlalchemy import select

from tests.conftest import csrf_of, login
from tests.enrolment.conftest import person
from travesia.biometrics import jobs as bio_jobs
from travesia.core.errors import Forbidden, InvalidInput
from travesia.core.principal import Role, cli_principal
from travesia.enrolment import service as enrolment
from travesia.enrolment.images import clean_image
from travesia.enrolment.schemas import EncounterIn
from travesia.exchange import exports as partner_exports
from travesia.exchange import imports, nist, service
from travesia.exchange.records import FIELDS
from travesia.exchange.schemas import AgreementIn, ExportIn
from travesia.models import Alert, AuditEvent, BiometricCandidate, BiometricTemplate, Encounter, WatchlistEntry
from travesia.screening import jobs as screening_jobs
from travesia.screening import listing
from travesia.screening.schemas import WatchlistIn

LIAISON = cli_principal("liaison")
TODAY = date.today()
# What each agreement field puts into a JSON record (besides "ref", which is always there).
JSON_KEYS = {
    "names": {"given_names", "surnames"},
    "birth_date": {"birth_date"},
    "sex": {"sex"},
    "nationality": {"nationality"},
    "country_of_birth": {"country_of_birth"},
    "documents": {"documents"},
    "phone": {"phone"},
    "languages": {"languages"},
    "route": {"route"},
    "encounter": {"station", "registered_on"},
}
NIST_TAGS = {
    "names": [b"2.018:"],
    "birth_date": [b"2.022:"],
    "sex": [b"2.024:"],
    "nationality": [b"2.021:"],
    "country_of_birth": [b"2.020:"],
    "documents": [b"2.905:"],
    "phone": [b"2.906:"],
    "languages": [b"2.907:"],
    "route": [b"2.908:"],
    "encounter": [b"2.909:", b"2.910:"],
}


def agreement(name: str, *, fields=("names",), modalities=(), directions=("export", "query", "import"), **extra):
    body = {
        "name": name,
        "partner": "Partner State",
        "purposes": ["border security"],
        "legal_basis": "MoU 2024",
        "directions": list(directions),
        "fields": list(fields),
        "modalities": list(modalities),
        "retention_days": 365,
        "valid_from": str(TODAY - timedelta(days=1)),
        "expires_on": str(TODAY + timedelta(days=90)),
    }
    return AgreementIn.model_validate(body | extra)


@pytest.fixture
def registered(session, station):
    """Two persons at central with every field filled, one with a photo."""
    out = io.BytesIO()
    PILImage.fromarray(skdata.astronaut()).save(out, format="JPEG", quality=90)
    photo = clean_image(out.getvalue())
    bodies = [
        person(
            station="ERM-TEST",
            country_of_birth="VEN",
            phone="+58 414 1234567",
            route_countries=["COL", "PAN"],
            documents=[{"doc_type": "passport", "number": "X1234567", "issuing_state": "VEN"}],
            biometrics={"consent": "given"},
        ),
        person(station="ERM-TEST", given_names="Ana", surnames="Haddad", nationality="SYR", sex="F"),
    ]
    for n, body in enumerate(bodies):
        captured = enrolment.Captured(
            EncounterIn.model_validate(body), cli_principal("t"), "api", photo if n == 0 else None
        )
        enrolment.enrol(session, captured)
    session.commit()
    return bodies


def _photo():
    out = io.BytesIO()
    PILImage.fromarray(skdata.astronaut()).save(out, format="JPEG", quality=90)
    return clean_image(out.getvalue())


def export_records(session, db, tmp_path, name: str, fmt: str) -> bytes:
    row = service.agreement_named(session, name)
    job = partner_exports.request_export(session, LIAISON, row.id, ExportIn(purpose="border security", format=fmt))
    session.commit()
    done = partner_exports.run_export(db, job.id, tmp_path)
    return partner_exports.export_file(tmp_path, done.id, fmt).read_bytes()


@pytest.mark.parametrize("field", FIELDS)
def test_each_agreed_field_leaves_and_no_other_does(field, registered, session, db, tmp_path):
    service.create_agreement(session, LIAISON, agreement(f"only-{field.replace('_', '-')}", fields=[field]))
    session.commit()
    lines = export_records(session, db, tmp_path, f"only-{field.replace('_', '-')}", "jsonl").decode().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    keys = set().union(*(set(r) for r in records)) - {"ref"}
    assert keys == JSON_KEYS[field]
    full = json.dumps(records)
    assert ("X1234567" in full) == (field == "documents") and ("584141234567" in full) == (field == "phone")
    blob = export_records(session, db, tmp_path, f"only-{field.replace('_', '-')}", "nist")
    for other, tags in NIST_TAGS.items():
        for tag in tags:
            assert (tag in blob) == (other == field), (other, tag)
    assert b"10.001:" not in blob and b"14.001:" not in blob  # no modality agreed, no image


def test_the_face_leaves_only_when_agreed(registered, session, db, tmp_path):
    service.create_agreement(session, LIAISON, agreement("faces", fields=["names"], modalities=["face"]))
    session.commit()
    persons = nist.decode(export_records(session, db, tmp_path, "faces", "nist")).persons
    assert sorted(p.face is not None for p in persons) == [False, True]
    assert all(p.fingers == {} and p.documents == () for p in persons)


def test_agreements_are_validated_naming_the_field():
    with pytest.raises(ValidationError, match="Not allowed: religion"):
        agreement("bad", fields=["names", "religion"])
    with pytest.raises(ValidationError, match="expires before it starts"):
        agreement("bad", expires_on=str(TODAY - timedelta(days=5)))


def test_exports_outside_the_agreement_are_refused(registered, session, db, tmp_path):
    service.create_agreement(session, LIAISON, agreement("query-only", directions=["query"]))
    service.create_agreement(session, LIAISON, agreement("lapsed", expires_on=str(TODAY)))
    session.commit()
    for name, purpose, text in (
        ("query-only", "border security", "does not cover"),
        ("lapsed", "border security", "expired"),
    ):
        row = service.agreement_named(session, name)
        with pytest.raises(Forbidden, match=text):
            partner_exports.request_export(session, LIAISON, row.id, ExportIn(purpose=purpose))
    row = service.agreement_named(session, "query-only")
    with pytest.raises(Forbidden):
        partner_exports.request_export(session, LIAISON, row.id, ExportIn(purpose="marketing"))


@pytest.fixture
def partner_key(session):
    service.create_agreement(
        session, LIAISON, agreement("dhs", fields=["names", "birth_date", "nationality"], rate_per_minute=3)
    )
    _, token = service.create_key(session, LIAISON, "dhs", "DHS")
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_a_partner_query_answers_only_agreed_fields(registered, client, partner_key, session):
    by_document = client.post(
        "/api/v1/partner/query",
        headers=partner_key,
        json={"purpose": "border security", "document_number": "x 1234567"},
    )
    assert by_document.status_code == 200, by_document.text
    match = by_document.json()["matches"][0]
    assert match["matched_on"] == "document" and match["face"] is None
    assert set(match["record"]) == {"ref", "given_names", "surnames", "birth_date", "nationality"}
    by_name = client.post(
        "/api/v1/partner/query",
        headers=partner_key,
        json={"purpose": "border security", "surnames": "haddad", "birth_year": 1990},
    )
    assert [m["record"]["surnames"] for m in by_name.json()["matches"]] == ["Haddad"]
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "exchange.query")).scalars().all()
    assert len(events) == 2 and "Haddad" not in "".join(e.details for e in events)  # the fact, not the content


def test_partner_keys_purposes_and_rates_are_enforced(registered, client, partner_key, session):
    body = {"purpose": "border security", "surnames": "Haddad"}
    assert client.post("/api/v1/partner/query", json=body).status_code == 401
    assert (
        client.post("/api/v1/partner/query", json=body, headers={"Authorization": "Bearer trp_nope"}).status_code == 401
    )
    refused = client.post("/api/v1/partner/query", headers=partner_key, json=body | {"purpose": "marketing"})
    assert refused.status_code == 403 and refused.json()["detail"][0]["loc"] == ["body", "purpose"]
    answers = [client.post("/api/v1/partner/query", headers=partner_key, json=body).status_code for _ in range(3)]
    assert answers == [200, 200, 429]  # three a minute, the refused request among them
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "exchange.refused")).scalars()
    assert event.outcome == "refused" and json.loads(event.details) == {
        "agreement": "dhs",
        "request": "query",
        "status": 403,
        "field": "purpose",
    }
    assert "Haddad" not in event.details  # what was refused, never what was asked about
    exports = client.post("/api/v1/partner/exports", headers=partner_key, json={"purpose": "border security"})
    assert exports.status_code == 429  # bulk exports count against the same rate


def test_a_bulk_export_job_runs_and_only_its_partner_downloads_it(registered, client, partner_key, session):
    started = client.post(
        "/api/v1/partner/exports", headers=partner_key, json={"purpose": "border security", "format": "nist"}
    )
    assert started.status_code == 202, started.text
    job = started.json()["id"]
    assert client.get(f"/api/v1/partner/exports/{job}", headers=partner_key).json()["state"] == "queued"
    assert client.app.state.pipeline.run_once() >= 1  # a worker runs it, never the web process
    status = client.get(f"/api/v1/partner/exports/{job}", headers=partner_key).json()
    assert status["state"] == "done" and status["records"] == 2
    blob = client.get(f"/api/v1/partner/exports/{job}/file", headers=partner_key).content
    persons = nist.decode(blob).persons
    assert {p.surnames for p in persons} == {"Pérez Núñez", "Haddad"} and all(p.phone is None for p in persons)
    service.create_agreement(session, LIAISON, agreement("other"))
    _, other = service.create_key(session, LIAISON, "other", "Other")
    session.commit()
    assert client.get(f"/api/v1/partner/exports/{job}", headers={"Authorization": f"Bearer {other}"}).status_code == 404


def partner_list(session) -> None:
    """The watchlist a partner's files are imported into."""
    listing.create_list(
        session,
        LIAISON,
        WatchlistIn(name="partner-co", title="Colombia", owner="Migración Colombia", legal_basis="MoU"),
    )


def test_a_partners_nist_file_is_imported_into_a_watchlist_under_its_agreement(registered, session, db, tmp_path):
    service.create_agreement(session, LIAISON, agreement("everything", fields=list(FIELDS), modalities=["face"]))
    service.create_agreement(session, LIAISON, agreement("co-inbound", fields=["names", "birth_date"]))
    partner_list(session)
    session.commit()
    blob = export_records(session, db, tmp_path, "everything", "nist")
    result = imports.import_nist(session, LIAISON, "co-inbound", "partner-co", blob, file_name="co.nist")
    session.commit()
    assert result.persons == 2 and result.faces == 0  # the face is not in the inbound agreement
    assert "documents" in result.ignored_fields and "phone" in result.ignored_fields
    entries = session.execute(select(WatchlistEntry.properties)).scalars().all()
    assert sorted(e["name"][0] for e in entries) == ["Ana Haddad", "José Gregorio Pérez Núñez"]
    assert all("passportNumber" not in e for e in entries)
    broken = blob.replace(b"2.024:M", b"2.024:Q")
    with pytest.raises(InvalidInput) as refused:
        imports.import_nist(session, LIAISON, "co-inbound", "partner-co", broken, file_name="bad.nist")
    assert refused.value.field.endswith("field 2.024 SEX")
    service.create_agreement(session, LIAISON, agreement("out-only", directions=["export"]))
    with pytest.raises(Forbidden):
        imports.import_nist(session, LIAISON, "out-only", "partner-co", blob, file_name="co.nist")


def test_a_person_who_leaves_a_partners_file_and_returns_is_listed_again(registered, session, db, tmp_path):
    service.create_agreement(session, LIAISON, agreement("everything", fields=list(FIELDS)))
    service.create_agreement(session, LIAISON, agreement("co-inbound", fields=["names", "birth_date"]))
    partner_list(session)
    session.commit()
    persons = nist.decode(export_records(session, db, tmp_path, "everything", "nist")).persons
    files = [persons, persons[:1], persons]
    for n, batch in enumerate(files):
        blob = nist.encode(batch, agency="COL", control=f"c{n}", destination="PAN", today=date(2026, 12, 7))
        imports.import_nist(session, LIAISON, "co-inbound", "partner-co", blob, file_name=f"co{n}.nist")
        session.commit()
    changes = [{r["change"] for r in listing.version_changes(session, "partner-co", n)} for n in (1, 2, 3)]
    assert changes == [{"added"}, {"removed"}, {"relisted"}]
    live = session.execute(select(WatchlistEntry).where(WatchlistEntry.removed_version.is_(None))).scalars().all()
    assert len(live) == 2


def test_faces_in_a_partners_file_screen_new_registrations_by_face(registered, session, db, app, tmp_path):
    """The agreed faces of an imported file become the entries' templates: a newcomer with the listed face is a
    biometric candidate of the entry, and screening raises the alert with the face in its explanation."""
    service.create_agreement(session, LIAISON, agreement("everything", fields=list(FIELDS), modalities=["face"]))
    service.create_agreement(session, LIAISON, agreement("co-faces", fields=["names"], modalities=["face"]))
    service.create_agreement(session, LIAISON, agreement("co-names", fields=["names"]))
    partner_list(session)
    session.commit()
    blob = export_records(session, db, tmp_path, "everything", "nist")
    bio = app.state.biometrics
    bio_jobs.run_pending(app.state.db, bio)  # the registered person's photo, as the pipeline makes its template
    result = imports.import_nist(session, LIAISON, "co-faces", "partner-co", blob, file_name="co.nist", bio=bio)
    session.commit()
    assert (result.faces, result.templates) == (1, 1)
    [(entry_id, name)] = session.execute(
        select(WatchlistEntry.id, WatchlistEntry.caption)
        .join(BiometricTemplate, BiometricTemplate.subject_id == WatchlistEntry.id)
        .where(BiometricTemplate.subject_kind == "watchlist")
    ).all()
    assert name == "José Gregorio Pérez Núñez"  # the person whose photo the file carried
    # re-screening the list version weighs the face found on the registration made before the file arrived
    screening_jobs.rescreen_pending(app.state.db, app.state.screener)
    earlier = session.execute(select(Encounter.id).where(Encounter.given_names == "José Gregorio")).scalar_one()
    [before] = session.execute(select(Alert).where(Alert.encounter_id == earlier, Alert.entry_id == entry_id)).scalars()
    assert any(part.get("feature") == "face" for part in before.explanation)

    body = person(station="ERM-TEST", birth_date="1991-02-03", biometrics={"consent": "given"})
    captured = enrolment.Captured(EncounterIn.model_validate(body), cli_principal("t"), "api", _photo())
    newcomer = enrolment.enrol(session, captured).encounter.id
    session.commit()
    bio_jobs.run_pending(app.state.db, bio)
    found = (
        session.execute(
            select(BiometricCandidate.candidate_id).where(
                BiometricCandidate.encounter_id == newcomer, BiometricCandidate.candidate_kind == "watchlist"
            )
        )
        .scalars()
        .all()
    )
    assert entry_id in found
    screening_jobs.run_pending(app.state.db, app.state.screener)
    [alert] = session.execute(select(Alert).where(Alert.encounter_id == newcomer, Alert.entry_id == entry_id)).scalars()
    assert any(part.get("feature") == "face" for part in alert.explanation)

    # the partner's next full file carries no faces (an agreement without them): the entry's template goes
    again = imports.import_nist(session, LIAISON, "co-names", "partner-co", blob, file_name="co2.nist", bio=bio)
    session.commit()
    assert again.templates == 0
    left = session.execute(select(BiometricTemplate.id).where(BiometricTemplate.subject_kind == "watchlist")).all()
    assert left == []


def test_a_partner_query_by_face_needs_the_face_in_the_agreement(registered, client, session, app):
    bio_jobs.run_pending(app.state.db, app.state.biometrics)  # the photo's template, as the pipeline makes it
    service.create_agreement(session, LIAISON, agreement("faces-q", fields=["names"], modalities=["face"]))
    service.create_agreement(session, LIAISON, agreement("names-q", fields=["names"]))
    _, with_face = service.create_key(session, LIAISON, "faces-q", "A")
    _, without = service.create_key(session, LIAISON, "names-q", "B")
    session.commit()
    out = io.BytesIO()
    PILImage.fromarray(skdata.astronaut()).resize((400, 400)).rotate(5).save(out, format="JPEG")
    body = {"purpose": "border security", "face": base64.b64encode(out.getvalue()).decode()}
    answer = client.post("/api/v1/partner/query", json=body, headers={"Authorization": f"Bearer {with_face}"})
    assert answer.status_code == 200, answer.text
    [match] = answer.json()["matches"]
    assert match["matched_on"] == "face" and match["record"]["surnames"] == "Pérez Núñez" and match["face"]
    refused = client.post("/api/v1/partner/query", json=body, headers={"Authorization": f"Bearer {without}"})
    assert refused.status_code == 403 and refused.json()["detail"][0]["loc"] == ["body", "face"]


def test_the_partner_liaison_exports_from_the_page(registered, client, session, make_user):
    service.create_agreement(session, LIAISON, agreement("co-names", fields=["names", "nationality"]))
    session.commit()
    make_user("enlace", Role.PARTNER_LIAISON)
    login(client, "enlace")
    page = client.get("/exchange")
    assert page.status_code == 200 and "co-names" in page.text
    form = {
        "agreement": "co-names",
        "purpose": "marketing",
        "format": "nist",
        "csrf_token": csrf_of(client, "/exchange"),
    }
    refused = client.post("/exchange/exports", data=form)
    assert refused.status_code == 422 and 'id="purpose-error"' in refused.text  # a forged purpose: not chosen
    assert '<option value="marketing"' not in refused.text and 'value="nist" selected' in refused.text
    done = client.post("/exchange/exports", data=form | {"purpose": "border security"})
    assert done.status_code == 303
    client.app.state.pipeline.run_once()  # the worker's part
    job = client.get(done.headers["location"])
    assert 'id="export-records">2<' in job.text
    blob = client.get(done.headers["location"] + "/file").content
    persons = nist.decode(blob).persons
    assert {p.nationality for p in persons} == {"VEN", "SYR"} and all(p.birth_date is None for p in persons)
