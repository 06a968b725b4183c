"""Station ↔ central sync in one process (central behind the test client, the station on its own SQLite file):
exactly once and in order, retries, refusals of unsigned, tampered, replayed and gapped batches (each audited),
the station's wrong clock, and what central sends back (alerts, person links, list deltas)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image as PILImage
from skimage import data as skdata
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.enrolment.conftest import person
from tests.sync.conftest import CODE, enrol_at_station
from travesia.auth import accounts
from travesia.auth.schemas import UserCreate
from travesia.core import crypto
from travesia.core.errors import InvalidInput
from travesia.core.principal import Principal, Role, cli_principal
from travesia.enrolment import service as enrolment
from travesia.enrolment.images import clean_image
from travesia.enrolment.schemas import EncounterIn
from travesia.models import AuditEvent, BiometricSample, Encounter, SyncBatch, SyncNotice, SyncState, WatchlistEntry
from travesia.screening import jobs as screening_jobs
from travesia.screening import listing
from travesia.screening.schemas import WatchlistIn
from travesia.stations import repository as stations_repository
from travesia.stations import service as stations
from travesia.stations.schemas import StationCreate
from travesia.sync import central, envelope
from travesia.sync import station as station_side
from travesia.sync.agent import Agent

HEADERS = {"Content-Type": "application/vnd.travesia.sync"}


def post(client, blob: bytes, path: str = "/api/v1/sync/batches"):
    return client.post(path, content=blob, headers=HEADERS)


def refusals(session) -> list[dict]:
    rows = session.execute(select(AuditEvent).where(AuditEvent.action == "sync.refused")).scalars()
    return [json.loads(row.details) for row in rows]


def central_encounters(session) -> list[Encounter]:
    return list(session.execute(select(Encounter).order_by(Encounter.station_seq)).scalars())


def test_a_round_stores_every_encounter_once_in_station_order(agent, station_db, session):
    ids = enrol_at_station(station_db, 7)
    first = agent.run_once()
    assert first.error is None and first.sent == 7 and first.stored == 7
    stored = central_encounters(session)
    assert [e.id for e in stored] == ids and [e.station_seq for e in stored] == list(range(1, 8))
    assert {e.source for e in stored} == {"sync"}
    again = agent.run_once()  # nothing left: the feed told the station that central holds 7
    assert again.sent == 0 and again.error is None
    with station_db.transaction(readonly=True) as s:
        assert s.execute(select(SyncState.acked_seq)).scalar_one() == 7


def test_a_retry_after_a_lost_acknowledgement_stores_nothing_twice(agent, station_db, station_key, client, session):
    enrol_at_station(station_db, 3)
    with station_db.transaction(readonly=True) as s:
        lost = station_side.next_batch(s, station_key)
        retry = station_side.next_batch(s, station_key)  # sealed anew: another nonce, so not a replay
    assert lost.blob != retry.blob
    assert post(client, lost.blob).json()["stored"] == 3
    answer = post(client, retry.blob)
    assert answer.status_code == 200 and answer.json() | {"batch": 0} == {
        "batch": 0, "encounters": 3, "stored": 0, "already": 3, "last_seq": 3, "clock_offset_s": 0,
    }  # fmt: skip
    assert session.execute(select(func.count()).select_from(Encounter)).scalar_one() == 3


def test_a_replayed_envelope_is_refused_and_audited(agent, station_db, station_key, client, session):
    enrol_at_station(station_db, 2)
    with station_db.transaction(readonly=True) as s:
        blob = station_side.next_batch(s, station_key).blob
    assert post(client, blob).status_code == 200
    replay = post(client, blob)
    assert replay.status_code == 409 and "replay" in replay.json()["detail"][0]["msg"]
    assert [r["status"] for r in refusals(session)] == [409]


def test_unsigned_tampered_unknown_and_revoked_batches_are_refused_and_audited(
    agent, station_db, station_key, client, session
):
    enrol_at_station(station_db, 2)
    with station_db.transaction(readonly=True) as s:
        blob = station_side.next_batch(s, station_key).blob
    unsigned = client.post("/api/v1/sync/batches", json={"items": []})
    assert unsigned.status_code == 401 and "not a signed" in unsigned.json()["detail"][0]["msg"]
    payload_changed = blob[:-5] + bytes(b ^ 1 for b in blob[-5:])
    answer = post(client, payload_changed)
    assert answer.status_code == 401 and answer.json()["detail"][0]["loc"] == ["body", "payload"]
    at = blob.index(b'"station":"') + 11
    header_changed = blob[:at] + b"X" + blob[at + 1 :]
    assert post(client, header_changed).status_code == 401
    stranger = envelope.seal(
        Ed25519PrivateKey.generate(), kind="encounters", station=CODE, items=[{"seq": 1}], first_seq=1, last_seq=1
    )
    unknown = post(client, stranger)
    assert unknown.status_code == 401 and "not registered" in unknown.json()["detail"][0]["msg"]
    central.revoke_key(session, cli_principal("test"), crypto.key_id(station_key.public_key()), "laptop stolen")
    session.commit()
    revoked = post(client, blob)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"][0]["msg"]
    assert [r["status"] for r in refusals(session)] == [401] * 5
    assert session.execute(select(func.count()).select_from(Encounter)).scalar_one() == 0


def test_a_gap_is_refused_naming_where_to_go_on(agent, station_db, station_key, client, session):
    enrol_at_station(station_db, 4)
    with station_db.transaction() as s:
        s.execute(SyncState.__table__.update().values(acked_seq=2))  # as if the station believed 1-2 were sent
        blob = station_side.next_batch(s, station_key).blob
    answer = post(client, blob)
    assert answer.status_code == 409 and "send from 1" in answer.json()["detail"][0]["msg"]
    result = agent.run_once()  # the feed says central holds 0: the station goes back and sends all four
    assert result.error is None and result.stored == 4
    assert [e.station_seq for e in central_encounters(session)] == [1, 2, 3, 4]


def test_a_station_clock_hours_ahead_is_corrected_and_recorded(station_db, station_key, client, session):
    enrol_at_station(station_db, 1)
    with station_db.transaction(readonly=True) as s:
        item = station_side._item(*_row_and_samples(s))
    ahead = timedelta(hours=3)
    real = datetime.now(UTC)
    item["encounter"]["occurred_at"] = (real + ahead).isoformat()  # the station's clock said so
    item["recorded_at"] = (real + ahead).isoformat()
    blob = envelope.seal(station_key, kind="encounters", station=CODE, items=[item], first_seq=1, last_seq=1,
                         now=real + ahead)  # fmt: skip
    answer = post(client, blob)
    assert answer.status_code == 200, answer.text
    assert abs(answer.json()["clock_offset_s"] + 3 * 3600) < 60
    stored = session.execute(select(Encounter)).scalar_one()
    assert abs((stored.occurred_at - real).total_seconds()) < 60
    assert session.execute(select(SyncBatch.clock_offset_s)).scalar_one() == answer.json()["clock_offset_s"]


def _row_and_samples(s):
    row = station_side.repository.unsent(s, _station_id(s), 0, 1)[0]
    return row, CODE, [], {}


def _station_id(s):
    return stations_repository.by_code(s, CODE).id


def test_a_station_cannot_register_at_another_station(station_db, station_key, client, session):
    enrol_at_station(station_db, 1)
    with station_db.transaction(readonly=True) as s:
        item = station_side._item(*_row_and_samples(s))
    item["encounter"]["station"] = "ERM-OTRA"
    blob = envelope.seal(station_key, kind="encounters", station=CODE, items=[item], first_seq=1, last_seq=1)
    answer = post(client, blob)
    assert answer.status_code in (403, 422) and answer.json()["detail"][0]["loc"][:2] == ["body", "station"]
    assert session.execute(select(func.count()).select_from(Encounter)).scalar_one() == 0


def test_bad_items_are_refused_naming_the_item_and_field(station_db, station_key, client, session):
    enrol_at_station(station_db, 2)
    with station_db.transaction(readonly=True) as s:
        rows = station_side.repository.unsent(s, _station_id(s), 0, 2)
        items = [station_side._item(r, CODE, [], {}) for r in rows]
    items[1]["encounter"]["sex"] = "Q"
    blob = envelope.seal(station_key, kind="encounters", station=CODE, items=items, first_seq=1, last_seq=2)
    answer = post(client, blob)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "items", 1, "encounter", "sex"]
    assert session.execute(select(func.count()).select_from(Encounter)).scalar_one() == 0  # all or nothing


def test_alerts_links_and_list_deltas_come_back(agent, station_db, session, app):
    listing.create_list(
        session, cli_principal("t"),
        WatchlistIn(name="wanted", title="Wanted", owner="DIJ", legal_basis="Ley 3 de 2008", threshold=0.7),
    )  # fmt: skip
    listing.create_list(
        session, cli_principal("t"),
        WatchlistIn(name="secret-list", title="Secret", owner="DIJ", legal_basis="Ley", sensitivity="secret"),
    )  # fmt: skip
    listed = {"id": "w-1", "schema": "Person", "properties": {"name": ["Youssef Haddad"], "birthDate": ["1990-05-17"]}}
    other = {"id": "w-2", "schema": "Person", "properties": {"name": ["Ana Lista"]}}
    for name in ("wanted", "secret-list"):
        lines = io.StringIO("".join(json.dumps(e) + "\n" for e in (listed, other)))
        listing.import_list(session, cli_principal("t"), name, lines, file_name="l.jsonl")
    session.commit()
    hit = enrol_at_station(station_db, 1, given_names="Youssef", surnames="Haddad", birth_date="1990-05-17")
    enrol_at_station(station_db, 2)
    agent.run_once()
    screening_jobs.run_pending(app.state.db, app.state.screener)  # central screens what arrived
    agent.run_once()
    with station_db.transaction(readonly=True) as s:
        alerts = s.execute(select(SyncNotice.encounter_id, SyncNotice.payload).where(SyncNotice.kind == "alert")).all()
        links = s.execute(select(SyncNotice.encounter_id).where(SyncNotice.kind == "link")).all()
        entries = s.execute(select(WatchlistEntry.external_id)).scalars().all()
        versions = s.execute(select(SyncState.list_versions)).scalar_one()
    assert {a.encounter_id for a in alerts} == set(hit) and "entry" not in json.dumps(alerts[0].payload)
    assert alerts[0].payload["state"] == "open" and alerts[0].payload["kind"]
    assert len(links) == 3
    assert sorted(entries) == ["w-1", "w-2"] and versions == {"wanted": 1}  # the secret list stays at central
    # central drops one entry: the station's copy follows
    lines = io.StringIO(json.dumps(listed) + "\n")
    listing.import_list(session, cli_principal("t"), "wanted", lines, file_name="l2.jsonl")
    session.commit()
    agent.run_once()
    with station_db.transaction(readonly=True) as s:
        live = s.execute(select(WatchlistEntry.external_id).where(WatchlistEntry.removed_version.is_(None))).scalars()
        assert list(live) == ["w-1"]


def test_a_field_station_registers_only_at_its_own_station(station_db):
    with station_db.transaction() as s:
        stations.create_station(s, cli_principal("t"), StationCreate(code="ERM-OTRA", name="Otra", kind="reception"))
    with station_db.transaction() as s, pytest.raises(InvalidInput) as refused:
        data = EncounterIn.model_validate(person(station="ERM-OTRA"))
        enrolment.enrol(s, enrolment.Captured(data, cli_principal("t"), "api"))
    assert refused.value.field == "station"


def test_a_station_restored_from_an_old_backup_goes_on_after_what_central_holds(agent, station_db, session):
    enrol_at_station(station_db, 5)
    agent.run_once()
    with station_db.transaction() as s:  # the laptop comes back from a backup taken after the third registration
        s.execute(Encounter.__table__.delete().where(Encounter.station_seq > 3))
        s.execute(SyncState.__table__.update().values(acked_seq=3))
    agent.run_once()  # the feed says central holds 5
    [new] = enrol_at_station(station_db, 1)
    result = agent.run_once()
    assert result.error is None and result.stored == 1
    assert [(e.id == new, e.station_seq) for e in central_encounters(session)][-1] == (True, 6)


def _photo():
    out = io.BytesIO()
    PILImage.fromarray(skdata.astronaut()).save(out, format="JPEG")
    return clean_image(out.getvalue())


def test_images_taken_after_the_registration_was_sent_follow_it(agent, station_db, station_key, client, session):
    [first] = enrol_at_station(station_db, 1, biometrics={"consent": "given"})
    assert agent.run_once().sent == 1
    with station_db.transaction() as s:  # the scanner at another desk, later that day
        enrolment.add_samples(s, cli_principal("t"), first, _photo(), source="scanner")
    with station_db.transaction(readonly=True) as s:
        late = station_side.next_samples(s, station_key)
    result = agent.run_once()
    assert result.error is None and (result.samples, result.stored_samples) == (1, 1)
    assert session.execute(select(BiometricSample.modality).where(BiometricSample.encounter_id == first)).all() == [
        ("face",)
    ]
    assert agent.run_once().samples == 0  # acknowledged: not sent again
    assert post(client, late.blob, "/api/v1/sync/samples").json()["stored"] == 0  # a retry adds nothing
    assert post(client, late.blob, "/api/v1/sync/samples").status_code == 409  # the same envelope twice: a replay


def test_on_a_thin_link_images_wait_and_follow_later(station_db, station_key, client, session):
    with station_db.transaction() as s:
        body = person(station=CODE, biometrics={"consent": "given"})
        enrolment.enrol(s, enrolment.Captured(EncounterIn.model_validate(body), cli_principal("t"), "api", _photo()))
    thin = Agent(station_db, station_key, "https://testserver", http=client, images=False)
    assert (thin.run_once().sent, session.execute(select(func.count()).select_from(BiometricSample)).scalar_one()) == (
        1,
        0,
    )
    full = Agent(station_db, station_key, "https://testserver", http=client)
    assert full.run_once().stored_samples == 1


def test_central_names_the_station_officer_who_registered_the_person(agent, station_db, session, auth_ctx):
    with station_db.transaction() as s:
        user = accounts.create_user(s, auth_ctx, cli_principal("t"), UserCreate(
            username="oficial.lajas", display_name="Oficial", password=PASSWORD,
            roles=[Role.REGISTRATION_OFFICER], stations=[CODE],
        ))  # fmt: skip
        here = stations_repository.by_code(s, CODE).id
        officer = Principal(user_id=user.id, username="oficial.lajas", roles=frozenset({Role.REGISTRATION_OFFICER}),
                            station_code=CODE, station_ids=frozenset({here}), via="session")  # fmt: skip
        body = person(station=CODE)
        enrolment.enrol(s, enrolment.Captured(EncounterIn.model_validate(body), officer, "web"))
    assert agent.run_once().stored == 1
    actors = (
        session.execute(
            select(AuditEvent.actor).where(AuditEvent.action == "encounter.create", AuditEvent.record_id == body["id"])
        )
        .scalars()
        .all()
    )
    assert actors == [f"station:{CODE}:oficial.lajas"]
