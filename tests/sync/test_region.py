"""A field station's copy of its region's templates: central sends the templates of people registered at the
other stations of the station's region (and only those), a page at a time; the station seals them under its own
keys, recognises a returning person offline, shows who central registered, and forgets people out of the window."""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from skimage import data as skdata
from sqlalchemy import func, select

from tests.conftest import PASSWORD, login
from tests.enrolment.conftest import person
from tests.sync.conftest import CODE
from travesia.app import create_app
from travesia.auth import accounts
from travesia.auth.schemas import UserCreate
from travesia.biometrics import jobs as bio_jobs
from travesia.biometrics import received as bio_received
from travesia.biometrics import results as biometric_results
from travesia.biometrics import service as biometrics
from travesia.core.crypto import DecryptionError
from travesia.core.db import Database, utcnow
from travesia.core.principal import Role, cli_principal
from travesia.core.settings import Settings
from travesia.enrolment import service as enrolment
from travesia.enrolment.images import clean_fingerprint, clean_image
from travesia.enrolment.schemas import EncounterIn
from travesia.models import AuditEvent, BiometricIndexState, BiometricTemplate, Encounter, RegionPerson
from travesia.stations import service as stations
from travesia.stations.schemas import StationCreate
from travesia.sync import feed
from travesia.sync.agent import Agent
from travesia.synth import fingerprints

REGION = "Darién"


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def face() -> bytes:
    return _png(Image.fromarray(skdata.astronaut()))


@pytest.fixture
def region(session, station):
    """ERM-TEST (the field station) and ERM-VECINA in Darién, ERM-LEJOS elsewhere."""
    station.region = REGION
    for code, where in (("ERM-VECINA", REGION), ("ERM-LEJOS", "Chiriquí")):
        stations.create_station(
            session, cli_principal("t"), StationCreate(code=code, name=code, kind="reception", region=where)
        )
    session.commit()


def enrol(db: Database, station: str, photo: bytes | None = None, finger: bytes | None = None, **names) -> uuid.UUID:
    body = person(station=station, biometrics={"consent": "given"}, **names)
    captured = enrolment.Captured(
        EncounterIn.model_validate(body),
        cli_principal("t"),
        "api",
        clean_image(photo) if photo else None,
        {2: clean_fingerprint(finger)} if finger else {},
    )
    with db.transaction() as session:
        enrolment.enrol(session, captured)
    return uuid.UUID(body["id"])


@pytest.fixture
def station_app(station_db, settings, auth_ctx, tmp_path):
    """The field station's own Travesía (its keys in its own data folder), with an officer."""
    with station_db.transaction() as session:
        accounts.create_user(session, auth_ctx, cli_principal("t"), UserCreate(
            username="oficial.campo", display_name="Oficial", password=PASSWORD,
            roles=[Role.REGISTRATION_OFFICER], stations=[CODE],
        ))  # fmt: skip
    at_station = Settings(  # a fresh object: the keys are read (here: made) in its own data folder
        **{
            **settings.model_dump(exclude={"data_keys"}),
            "station": CODE,
            "database_url": str(station_db.url),
            "data_dir": tmp_path / "station-data",
        }
    )
    return create_app(at_station)


def test_a_station_recognises_offline_a_person_registered_elsewhere_in_its_region(
    region, app, session, station_db, station_key, client, station_app, face
):
    finger = fingerprints.impression(7, 0)
    app.state.biometrics.second_stage = True  # central keeps a second-stage template too: never sent
    seen = enrol(app.state.db, "ERM-VECINA", face, finger, given_names="Eileen", surnames="Collins Vecina")
    enrol(app.state.db, "ERM-LEJOS", face, given_names="Otra", surnames="Región")  # another region: not sent
    enrol(app.state.db, CODE, face, given_names="Propia", surnames="Estación")  # the station's own: it has it
    bio_jobs.run_pending(app.state.db, app.state.biometrics)  # central's biometric step makes the templates
    person_id = _person_of(session, seen)

    bio = station_app.state.biometrics
    agent = Agent(station_db, station_key, "https://testserver", http=client, bio=bio)
    result = agent.run_once()
    assert result.error is None and result.region_templates == 2  # the face and the finger of one person
    with station_db.transaction(readonly=True) as s:
        people = s.execute(select(RegionPerson)).scalars().all()
        rows = s.execute(select(BiometricTemplate).where(BiometricTemplate.subject_kind == "region")).scalars().all()
        assert [(p.person_id, p.surnames, p.station, p.encounters) for p in people] == [
            (person_id, "Collins Vecina", "ERM-VECINA", 1)
        ]
        assert sorted(r.modality for r in rows) == ["face", "finger"] and {r.subject_id for r in rows} == {person_id}
        # sealed under the station's keys: the station reads them, central's keys do not
        assert all(biometrics.unseal(bio, r) for r in rows)
        with pytest.raises(DecryptionError):
            biometrics.unseal(app.state.biometrics, rows[0])
    assert agent.run_once().region_templates == 0  # each template once

    # offline: the same person comes to the station; its own biometric step finds central's person
    here = enrol(station_db, CODE, face, fingerprints.impression(7, 1), given_names="Eilin", surnames="Colins")
    bio_jobs.run_pending(station_db, bio)
    with station_db.transaction(readonly=True) as s:
        found = biometric_results.of_encounter(s, cli_principal("t"), here)
    assert [(r.person_id, r.station) for r in found.region] == [(person_id, "ERM-VECINA")]
    assert {c.kind for c in found.candidates} == {"region"}
    with TestClient(station_app, base_url="https://testserver", follow_redirects=False) as officer:
        login(officer, "oficial.campo")
        fragment = officer.get(f"/biometrics/encounters/{here}/status").text
        assert 'id="sync-region">1<' in officer.get("/sync").text
    matches = fragment.split('id="region-matches"')[1].split("</div>")[0]
    assert "Eileen Collins Vecina" in matches and "ERM-VECINA" in matches and "Región" not in matches

    audit = session.execute(select(AuditEvent.details).where(AuditEvent.action == "sync.feed")).scalars().all()
    assert json.loads(audit[0])["region"] == {"persons": 1, "templates": 2}
    assert "Collins" not in "".join(audit)  # counts, never who


def _person_of(session, encounter_id: uuid.UUID) -> uuid.UUID:
    return session.execute(select(Encounter.person_id).where(Encounter.id == encounter_id)).scalar_one()


def test_templates_come_a_page_at_a_time_and_people_out_of_the_window_are_forgotten(
    region, app, station_db, station_key, client, station_app, monkeypatch, face
):
    for n in range(3):
        enrol(app.state.db, "ERM-VECINA", face, given_names="Persona", surnames=f"Vecina {n}")
    bio_jobs.run_pending(app.state.db, app.state.biometrics)
    monkeypatch.setattr(feed, "REGION_PAGE", 2)
    bio = station_app.state.biometrics
    agent = Agent(station_db, station_key, "https://testserver", http=client, bio=bio)
    assert agent.run_once().region_templates == 3  # two pages in one round

    def counts() -> tuple[int, int, int]:
        with station_db.transaction(readonly=True) as s:
            people = s.execute(select(func.count()).select_from(RegionPerson)).scalar_one()
            kept = s.execute(
                select(func.count()).select_from(BiometricTemplate).where(BiometricTemplate.subject_kind == "region")
            ).scalar_one()
            generation = s.execute(select(func.coalesce(func.max(BiometricIndexState.generation), 0))).scalar_one()
        return people, kept, generation

    assert counts() == (3, 3, 0)
    with station_db.transaction() as s:  # one of them was last registered 40 days ago
        first = s.execute(select(RegionPerson).order_by(RegionPerson.surnames)).scalars().first()
        first.seen_at = utcnow() - timedelta(days=40)
    agent.run_once()
    assert counts() == (2, 2, 1)  # forgotten with its template; the face index rebuilds before the next search


def test_a_station_that_names_no_region_gets_no_templates(
    app, session, station, station_db, station_key, client, station_app, face
):
    stations.create_station(
        session, cli_principal("t"), StationCreate(code="ERM-VECINA", name="Vecina", kind="reception", region=REGION)
    )
    session.commit()
    enrol(app.state.db, "ERM-VECINA", face)
    bio_jobs.run_pending(app.state.db, app.state.biometrics)
    agent = Agent(station_db, station_key, "https://testserver", http=client, bio=station_app.state.biometrics)
    result = agent.run_once()
    assert result.error is None and result.pulled and result.region_templates == 0


def test_templates_of_another_algorithm_are_not_kept(station_db, station_app):
    """A station cannot compare its probes with another algorithm's templates (an older central, a newer model)."""
    algorithm, version = station_app.state.biometrics.algorithms["face"]
    made = [
        bio_received.RegionTemplate(uuid.uuid4(), "face", None, algorithm, version, 60, bytes(512)),
        bio_received.RegionTemplate(uuid.uuid4(), "face", None, algorithm, "older", 60, bytes(512)),
        bio_received.RegionTemplate(uuid.uuid4(), "face", None, "other-model", version, 60, bytes(512)),
    ]
    with station_db.transaction() as s:
        assert bio_received.store_region_templates(s, station_app.state.biometrics, made) == 1
