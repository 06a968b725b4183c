"""Two officers at once: one places a person on a manifest while another records that the person asks for
asylum. Real commits on the backend under test (separate connections, threads started together): whichever
wins, no placement is committed after the claim, and boarding holds everyone who asked."""

import json
import threading
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from travesia.core import migrations
from travesia.core.db import Database
from travesia.core.principal import cli_principal
from travesia.enrolment.bulk import run_import
from travesia.models import AuditEvent, Encounter, ManifestEntry
from travesia.programmes import service as programmes
from travesia.programmes.schemas import FlightIn, PlaceIn
from travesia.protection import service as protection
from travesia.stations import service as stations
from travesia.stations.schemas import StationCreate

ROUNDS = 12
ADMIN = cli_principal("test")


def test_placement_and_asylum_intention_at_once(fresh_database_url, tmp_path):
    migrations.upgrade(fresh_database_url)
    db = Database(fresh_database_url)
    with db.transaction() as session:
        stations.create_station(session, ADMIN, StationCreate(code="ERM-R", name="ERM Race", kind="reception"))
    lines = [
        json.dumps(
            {
                "id": str(uuid.uuid4()),
                "station": "ERM-R",
                "occurred_at": "2024-01-01T10:00:00+00:00",
                "given_names": f"P{i}",
                "surnames": "Race",
                "sex": "M",
                "birth_date": "1990-01-01",
                "nationality": "VEN",
            }
        )
        for i in range(ROUNDS)
    ]
    (tmp_path / "people.jsonl").write_text("\n".join(lines), encoding="utf-8")
    assert run_import(db, ADMIN, tmp_path / "people.jsonl")[0].stored == ROUNDS
    with db.transaction() as session:
        persons = list(session.execute(select(Encounter.person_id)).scalars())
        flight = programmes.create_flight(
            session, ADMIN, FlightIn(kind="repatriation", departs_on=date.today() + timedelta(days=3),
                                     destination="VEN", capacity=100, operator="x"),
        ).id  # fmt: skip

    errors: list[BaseException] = []

    def officer_places(person: uuid.UUID, start: threading.Barrier) -> None:
        try:
            start.wait()
            with db.transaction() as session:
                programmes.place(
                    session, cli_principal("programas"), flight, PlaceIn(person_id=person, medically_fit=True)
                )
        except BaseException as error:
            errors.append(error)

    def officer_hears_asylum(person: uuid.UUID, start: threading.Barrier) -> None:
        try:
            start.wait()
            with db.transaction() as session:
                protection.record_intention(session, cli_principal("registro"), person, None)
        except BaseException as error:
            errors.append(error)

    for i, person in enumerate(persons):
        start = threading.Barrier(2)
        pair = [officer_places, officer_hears_asylum] if i % 2 else [officer_hears_asylum, officer_places]
        threads = [threading.Thread(target=f, args=(person, start)) for f in pair]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors

    with db.transaction(readonly=True) as session:
        events = session.execute(
            select(AuditEvent.seq, AuditEvent.action, AuditEvent.outcome, AuditEvent.record_id).where(
                AuditEvent.action.in_(("programmes.place", "protection.asylum_intention"))
            )
        ).all()
        placed_entries = set(session.execute(select(ManifestEntry.person_id)).scalars())
    placed_first = 0
    for person in persons:
        mine = sorted((seq, action, outcome) for seq, action, outcome, rid in events if rid == str(person))
        claim_seq = next(seq for seq, action, _ in mine if action == "protection.asylum_intention")
        placement = [(seq, outcome) for seq, action, outcome in mine if action == "programmes.place"]
        assert len(placement) == 1
        seq, outcome = placement[0]
        if outcome == "ok":
            assert seq < claim_seq, "a placement was committed after the claim"
            assert person in placed_entries
            placed_first += 1
        else:
            assert seq > claim_seq and person not in placed_entries
    # whoever was placed first is held at the door
    for person in placed_entries:
        with db.transaction() as session:
            result = programmes.board(session, ADMIN, flight, person)
        assert result.boarded == [] and result.held[str(person)] == ["claim:intention"]
    db.dispose()
    print(f"placed first in {placed_first} of {ROUNDS} races")
