"""The sync page: central's overview of field stations for the supervisor, and at a station the officer's view of
what central holds, central's alerts, and "sync now"."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, csrf_of, login
from tests.sync.conftest import CODE, enrol_at_station
from travesia.app import create_app
from travesia.auth import accounts
from travesia.auth.schemas import UserCreate
from travesia.core.principal import Role, cli_principal
from travesia.models import SyncNotice


def test_central_shows_how_far_each_station_has_come(agent, station_db, client, make_user):
    enrol_at_station(station_db, 3)
    agent.run_once()
    make_user("supervisora", Role.SUPERVISOR)
    login(client, "supervisora")
    page = client.get("/sync")
    assert page.status_code == 200
    row = page.text.split('id="field-stations"')[1]
    assert CODE in row and "<td>3</td>" in row


def test_a_station_officer_sees_what_central_holds_and_its_alerts(station_db, settings, auth_ctx, tmp_path):
    [first, _] = enrol_at_station(station_db, 2)
    with station_db.transaction() as session:
        accounts.create_user(session, auth_ctx, cli_principal("t"), UserCreate(
            username="oficial.campo", display_name="Oficial", password=PASSWORD,
            roles=[Role.REGISTRATION_OFFICER], stations=[CODE],
        ))  # fmt: skip
        payload = {"id": "a1", "encounter_id": str(first), "kind": "watchlist", "priority": 1, "state": "open",
                   "created_at": "2026-11-23T10:00:00+00:00"}  # fmt: skip
        session.add(SyncNotice(kind="alert", central_id="a1", encounter_id=first, payload=payload))
    at_station = settings.model_copy(
        update={"station": CODE, "database_url": str(station_db.url), "data_dir": tmp_path}
    )
    app = create_app(at_station)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        login(client, "oficial.campo")
        page = client.get("/sync")
        assert page.status_code == 200
        assert 'id="sync-registered">2<' in page.text and 'id="sync-pending">2<' in page.text
        alerts = page.text.split('id="central-alerts"')[1]
        assert "Estación 0" in alerts and "Posible coincidencia" in alerts  # the kind in words, in Spanish
        assert "Sync now" not in page.text and "Sincronizar ahora" not in page.text  # no central address set
        assert client.post("/sync/run", data={"csrf_token": csrf_of(client, "/sync")}).status_code == 303
