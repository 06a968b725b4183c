"""Group commit: writes that arrive while a group is written go together in the next transaction, each in its own
savepoint; every caller gets its own result or its own error once the commit is durable; a failed write is undone
alone and the side effects it asked for are dropped. On both databases, with real threads and a committed file
database (what another connection reads back is what was committed)."""

import threading
import time

import pytest
from sqlalchemy import func, select

from travesia.core import migrations
from travesia.core.db import Database, after_commit, after_commit_once
from travesia.core.errors import Conflict
from travesia.core.groupcommit import GroupWriter
from travesia.core.principal import cli_principal
from travesia.models import AuditEvent, Station
from travesia.stations import service as stations
from travesia.stations.schemas import StationCreate

OPERATOR = cli_principal("groupcommit-test")


@pytest.fixture
def database(fresh_database_url):
    migrations.upgrade(fresh_database_url)
    db = Database(fresh_database_url)
    yield db
    db.dispose()


def station_write(code: str, side_effects: list[str] | None = None):
    def write(session):
        created = stations.create_station(session, OPERATOR, StationCreate(code=code, name=code, kind="reception"))
        if side_effects is not None:
            after_commit(session, lambda: side_effects.append(code))
            after_commit_once(session, "wake", lambda: side_effects.append("wake"))
        return created.code

    return write


def test_writes_waiting_together_commit_together_each_with_its_own_outcome(database):
    writer = GroupWriter(database.twin())
    release, started = threading.Event(), threading.Event()

    def slow(session):  # holds the writer so that the others queue up behind it
        started.set()
        release.wait(10)
        return "first"

    results: dict[str, object] = {}
    side_effects: list[str] = []

    def call(index: int, code: str) -> None:
        try:
            results[str(index)] = writer.write(station_write(code, side_effects))
        except Conflict as error:
            results[str(index)] = error

    first = threading.Thread(target=lambda: results.update(first=writer.write(slow)))
    first.start()
    assert started.wait(10)
    codes = [f"ERM-G{n}" for n in range(10)] + ["ERM-G3"]  # the last one is refused: the code is taken
    threads = [threading.Thread(target=call, args=(index, code)) for index, code in enumerate(codes)]
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # in this order
    release.set()
    for thread in [first, *threads]:
        thread.join(20)
    writer.stop()
    assert results["first"] == "first"
    assert [results[str(n)] for n in range(10)] == [f"ERM-G{n}" for n in range(10)]
    assert isinstance(results["10"], Conflict)  # refused alone; the ten others stored
    assert writer.groups == 2  # the slow one, then the eleven that waited for it in one transaction
    with database.transaction(readonly=True) as session:
        assert session.execute(select(func.count()).select_from(Station)).scalar_one() == 10
        audited = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert audited == 10  # one event for each stored station, none for the refused one
    assert sorted(side_effects) == sorted([f"ERM-G{n}" for n in range(10)] + ["wake"])  # one wake-up for all


def test_a_failed_write_alone_is_undone_and_its_error_reaches_its_caller(database):
    writer = GroupWriter(database.twin())
    assert writer.write(station_write("ERM-UNO")) == "ERM-UNO"
    side_effects: list[str] = []

    def fails_after_writing(session):
        station_write("ERM-DOS", side_effects)(session)
        raise Conflict("refused after writing")

    with pytest.raises(Conflict):
        writer.write(fails_after_writing)
    writer.stop()
    with database.transaction(readonly=True) as session:
        codes = session.execute(select(Station.code)).scalars().all()
    assert codes == ["ERM-UNO"] and side_effects == []
