"""Bulk writes store what SQLAlchemy's INSERT would: on PostgreSQL through COPY, elsewhere through executemany — the
same rows read back on both databases (JSON lists, UTC datetimes, booleans, defaults left to the writer), and a row
the database refuses raises DBAPIError, so the import's row-by-row fallback can name it."""

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from travesia.core.bulkwrite import insert_rows
from travesia.core.principal import cli_principal
from travesia.enrolment import bulk, service
from travesia.models import Document, Encounter, Screening

ADMIN = cli_principal("bulkwrite-test")


def prepared(session, count: int = 3) -> list:
    rows = [
        bulk.RowIn(n, {
            "id": str(uuid.uuid4()), "station": "ERM-TEST", "occurred_at": "2026-03-01T10:00:00-05:00",
            "given_names": f"Ana {n}", "surnames": "Mora Díaz", "sex": "F", "birth_date": "1990-05-0" + str(n + 1),
            "nationality": "VEN", "languages": ["es", "en"], "route_countries": ["COL", "PAN"],
            "documents": [{"doc_type": "passport", "number": f"V{n}123456", "issuing_state": "VEN"}],
        })
        for n in range(count)
    ]  # fmt: skip
    return bulk.prepare_batch(session, ADMIN, rows, bulk.Report(), service.Lookups())


def test_the_rows_read_back_as_written(session, station):
    tables = bulk.storage_rows(session, prepared(session))
    bulk.write_rows(session, tables)
    session.expire_all()
    written = {row["id"]: row for model, rows in tables if model is Encounter for row in rows}
    stored = session.execute(select(Encounter).where(Encounter.id.in_(written))).scalars().all()
    assert len(stored) == 3
    for encounter in stored:
        row = written[encounter.id]
        assert encounter.languages == ["es", "en"] and encounter.route_countries == ["COL", "PAN"]
        assert encounter.occurred_at == row["occurred_at"] and encounter.occurred_at.tzinfo is not None
        assert encounter.birth_estimated is False and encounter.biometric_exemptions == []
        assert encounter.given_names == row["given_names"] and encounter.name_key == row["name_key"]
    documents = session.execute(select(Document).where(Document.encounter_id.in_(written))).scalars().all()
    assert sorted(d.number for d in documents) == ["V0123456", "V1123456", "V2123456"]
    assert all(d.mrz_mismatches == [] for d in documents)
    screenings = session.execute(select(Screening).where(Screening.encounter_id.in_(written))).scalars().all()
    assert {s.status for s in screenings} == {"pending"} and len(screenings) == 3


def test_a_refused_row_raises_dbapierror(session, station):
    tables = dict(bulk.storage_rows(session, prepared(session, 1)))
    bulk.write_rows(session, list(tables.items()))
    with pytest.raises(DBAPIError), session.begin_nested():  # the same encounter again: a primary key conflict
        insert_rows(session.connection(), Encounter.__table__, tables[Encounter])
