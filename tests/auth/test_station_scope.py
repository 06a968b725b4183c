"""The station rule (travesia.core.scope) on every route that takes a person or a registration by id, walked as a
registration officer of the person's station, of another station, and as a partner key. The officer of another
station gets exactly what an id that does not exist gets (404, the same words), for reads and for writes, and
nothing is written."""

import json
import re
import uuid

from sqlalchemy import func, select

from tests.auth.test_rbac import call, route_table
from tests.enrolment.conftest import person
from tests.enrolment.test_api import jpeg_with_exif
from tests.exchange.test_exchange import agreement
from travesia.auth import service as auth_service
from travesia.core.guards import Require
from travesia.core.permissions import roles_for
from travesia.core.principal import Role, cli_principal
from travesia.exchange import service as exchange
from travesia.models import AuditEvent, BiometricSample
from travesia.stations import service as stations
from travesia.stations.schemas import StationCreate

BODIES = {
    "/api/v1/persons/{person_id}/flags": {"kind": "pregnancy"},
    "/api/v1/persons/{person_id}/asylum-intention": {"note": "quiere pedir asilo"},
    "/api/v1/encounters/{encounter_id}/contacts": {"kind": "guide", "name": "El Guía"},
}
RECORD_PARAMS = {"person_id", "encounter_id"}


def officer_of(make_user, session, auth_ctx, username: str, station: str) -> tuple[str, str]:
    user = make_user(username, Role.REGISTRATION_OFFICER, stations_=[station])
    cookie, _ = auth_service._new_web_session(session, auth_ctx, user, auth_service.STAGE_FULL, station_id=None)
    principal = auth_service.principal_for(user, station_id=None, via="session", credential_id=None)
    _, token = auth_service.create_token(session, auth_ctx, principal, "scope", 1)
    session.commit()
    return cookie, token


def scoped_routes(app) -> list[tuple[str, str]]:
    """Routes a registration officer may call that name a person or a registration (and nothing else but an image
    of them)."""
    rows = []
    for method, path, guard in route_table(app):
        params = set(re.findall(r"\{([^}]+)\}", path))
        if not params & RECORD_PARAMS or not params <= RECORD_PARAMS | {"sample_id"}:
            continue
        if isinstance(guard, Require) and Role.REGISTRATION_OFFICER in roles_for(guard.permission):
            rows.append((method, path))
    return rows


def test_other_stations_records_answer_as_missing_ones_and_nothing_is_written(
    app, client, settings, session, make_user, auth_ctx, station
):
    stations.create_station(session, cli_principal("t"), StationCreate(code="ERM-OTRA", name="Otra", kind="reception"))
    session.commit()
    own = officer_of(make_user, session, auth_ctx, "oficial.propia", station.code)
    other = officer_of(make_user, session, auth_ctx, "oficial.ajena", "ERM-OTRA")
    exchange.create_agreement(session, cli_principal("t"), agreement("scope-walk"))
    _, partner_key = exchange.create_key(session, cli_principal("t"), "scope-walk", "walk")
    session.commit()
    body = person()
    files = {"photo": ("face.jpg", jpeg_with_exif(), "image/jpeg")}
    created = client.post(
        "/api/v1/encounters",
        data={"data": json.dumps(body)},
        files=files,
        headers={"Authorization": f"Bearer {own[1]}"},
    )
    assert created.status_code == 201, created.text
    encounter_id = body["id"]
    person_id = created.json()["person_id"]
    sample_id = session.execute(
        select(BiometricSample.id).where(BiometricSample.encounter_id == uuid.UUID(encounter_id))
    ).scalar_one()
    ids = {"person_id": person_id, "encounter_id": encounter_id, "sample_id": str(sample_id)}
    routes = scoped_routes(app)
    assert len(routes) >= 12, routes  # the walk found the routes; a broken walk checks nothing
    for method, path in routes:
        concrete = re.sub(r"\{([^}]+)\}", lambda m: ids[m.group(1)], path)
        missing = re.sub(r"\{([^}]+)\}", lambda m: str(uuid.uuid4()), path)
        api = path.startswith("/api/")
        payload = BODIES.get(path)
        if method == "POST" and api:
            assert payload is not None, f"{method} {path}: give the walk a valid body for this route"

        def as_(who, target, payload=payload, api=api, method=method):
            cookie, token = who
            return call_with(client, settings, method, target, None if api else cookie, token if api else None, payload)

        writes_before = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        refused = as_(other, concrete)
        absent = as_(other, missing)
        where = f"{method} {path}"
        assert refused.status_code == 404 == absent.status_code, f"{where}: {refused.status_code}/{absent.status_code}"
        if api:
            assert refused.json() == absent.json() or _same_words(refused.json(), absent.json()), where
        session.expire_all()
        writes_after = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        assert writes_after == writes_before, f"{where}: something was recorded for the other station's officer"
        allowed = as_(own, concrete)
        assert allowed.status_code < 400, f"{where} as the person's station: {allowed.status_code} {allowed.text[:200]}"
        partner = call_with(client, settings, method, concrete, None, partner_key, payload)
        assert partner.status_code in (401, 303), f"{where} with a partner key: {partner.status_code}"


def _same_words(a: dict, b: dict) -> bool:
    """The same answer but for ids that the message does not carry."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def call_with(client, settings, method, path, cookie, token, payload):
    if payload is None or method == "GET":
        return call(client, settings, method, path, cookie=cookie, token=token)
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(method, path, json=payload, headers=headers)
