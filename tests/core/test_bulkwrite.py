"""Bulk writes store what SQLAlchemy's INSERT would: rows turned into storage form (possibly in another process),
then written through the driver — COPY on PostgreSQL, executemany elsewhere — read back the same on both databases
(JSON lists, UTC datetimes, booleans, defaults left to the writer); a row the database refuses raises DBAPIError, so
the import's row-by-row fallback can name it."""

import pickle
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from travesia.core.bulkwrite import StorageForm, insert_rows, write_stored
from travesia.core.principal import cli_principal
from travesia.enrolment import bulk, bulk_checks
from travesia.models import Document, Encounter, Screening, TravelGroup

ADMIN = cli_principal("bulkwrite-test")


def checked(session, count: int = 3) -> bulk_checks.CheckedChunk:
    rows = [
        bulk_checks.RowIn(n, {
            "id": str(uuid.uuid4()), "station": "erm-test ", "occurred_at": "2026-03-01T10:00:00-05:00",
            "given_names": f"Ana {n}", "surnames": "Mora Díaz", "sex": "F", "birth_date": "1990-05-0" + str(n + 1),
            "nationality": "VEN", "languages": ["es", "en"], "route_countries": ["COL", "PAN"],
            "documents": [{"doc_type": "passport", "number": f"V{n}123456", "issuing_state": "VEN"}],
            "group": {"id": "5f0c3d53-8a43-4f7e-9a8e-0d1f6b9e7c21", "kind": "family", "relation": "head"},
        })
        for n in range(count)
    ]  # fmt: skip
    chunk = bulk_checks.check_chunk(bulk.import_context(session, ADMIN), rows)
    assert not chunk.rejects and len(chunk.rows) == count
    return pickle.loads(pickle.dumps(chunk))  # as it comes back from a checking process


def write(session, chunk: bulk_checks.CheckedChunk) -> list:
    context = bulk.import_context(session, ADMIN)
    items, refused, tables = bulk.storage_tables(session, context, chunk, chunk.rows)
    assert not refused
    for shape, rows in tables:
        write_stored(session.connection(), shape, rows)
    return items


def test_the_rows_read_back_as_written(session, station):
    items = write(session, checked(session))
    session.expire_all()
    ids = [item.id for item in items]
    stored = session.execute(select(Encounter).where(Encounter.id.in_(ids))).scalars().all()
    assert len(stored) == 3 and {e.person_id for e in stored} == {item.person_id for item in items}
    for encounter in stored:
        assert encounter.languages == ["es", "en"] and encounter.route_countries == ["COL", "PAN"]
        assert encounter.occurred_at.isoformat() == "2026-03-01T15:00:00+00:00"
        assert encounter.birth_estimated is False and encounter.biometric_exemptions == []
        assert encounter.given_names.startswith("Ana ") and encounter.name_key.endswith("mora diaz")
        assert encounter.station_id == station.id and encounter.source == "import"
    documents = session.execute(select(Document).where(Document.encounter_id.in_(ids))).scalars().all()
    assert sorted(d.number for d in documents) == ["V0123456", "V1123456", "V2123456"]
    assert all(d.mrz_mismatches == [] for d in documents)
    screenings = session.execute(select(Screening).where(Screening.encounter_id.in_(ids))).scalars().all()
    assert {s.status for s in screenings} == {"pending"} and len(screenings) == 3
    groups = session.execute(select(TravelGroup)).scalars().all()  # one group row for the three members
    assert [(g.kind, g.station_id) for g in groups] == [("family", station.id)]


def test_a_refused_row_raises_dbapierror(session, station):
    chunk = checked(session, 1)
    write(session, chunk)
    shape = bulk_checks.form(Encounter, bulk.import_context(session, ADMIN).dialect, chunk.columns["encounters"])
    with pytest.raises(DBAPIError), session.begin_nested():  # the same encounter again: a primary key conflict
        write_stored(session.connection(), shape, [chunk.rows[0].encounter])


def test_mappings_take_the_same_path_with_python_defaults(session, station):
    """insert_rows converts mappings itself; a column a row leaves out takes its default, evaluated per row."""
    group_ids = [uuid.uuid4(), uuid.uuid4()]
    insert_rows(
        session.connection(),
        TravelGroup.__table__,
        [{"id": g, "kind": "family", "station_id": station.id} for g in group_ids],
    )
    stored = session.execute(select(TravelGroup).where(TravelGroup.id.in_(group_ids))).scalars().all()
    assert len(stored) == 2 and all(g.created_at is not None for g in stored)
    form = StorageForm.of(TravelGroup.__table__, session.get_bind().dialect, ("id", "kind", "station_id"))
    assert "created_at" in form.columns  # the default's column is written, not left to the database
