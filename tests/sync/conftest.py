"""A field station's database (SQLite, as in the field) beside the central test database, and its key."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.enrolment.conftest import person
from travesia.core import migrations
from travesia.core.db import Database
from travesia.core.principal import cli_principal
from travesia.enrolment import service as enrolment
from travesia.enrolment.schemas import EncounterIn
from travesia.sync import central
from travesia.sync import station as station_side
from travesia.sync.agent import Agent

CODE = "ERM-TEST"


@pytest.fixture
def station_db(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'station.db'}"
    migrations.upgrade(url)
    db = Database(url)
    with db.transaction() as session:
        station_side.setup(session, CODE, "https://testserver")
    yield db
    db.dispose()


@pytest.fixture
def station_key(session, station) -> Ed25519PrivateKey:
    """The station's key, trusted at central."""
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    central.trust_key(session, cli_principal("test"), CODE, base64.b64encode(raw).decode())
    session.commit()
    return key


@pytest.fixture
def agent(station_db, station_key, client):
    return Agent(station_db, station_key, "https://testserver", http=client)


def enrol_at_station(db: Database, count: int, **overrides: object) -> list[uuid.UUID]:
    ids = []
    with db.transaction() as session:
        for n in range(count):
            body = person(**{"station": CODE, "surnames": f"Estación {n}", **overrides})
            enrolment.enrol(session, enrolment.Captured(EncounterIn.model_validate(body), cli_principal("t"), "api"))
            ids.append(uuid.UUID(body["id"]))
    return ids
