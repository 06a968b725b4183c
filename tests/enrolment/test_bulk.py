"""Bulk import: good rows stored, bad rows reported with line and field, nothing half-stored, a re-run adds
nothing; on both databases (the CLI commits per batch, so this runs on a fresh committed database)."""

import csv
import json
import uuid

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from tests.enrolment.conftest import TD3
from tests.live import cli_env, run_cli
from travesia.models import AuditEvent, Document, Encounter, Person

HEADER = [
    "id",
    "station",
    "occurred_at",
    "given_names",
    "surnames",
    "sex",
    "birth_date",
    "birth_estimated",
    "nationality",
    "languages",
    "route_countries",
    "doc_type",
    "doc_number",
    "mrz",
    "group_id",
    "relation",
]


@pytest.fixture
def env(fresh_database_url, tmp_path):
    env = cli_env(fresh_database_url, tmp_path)
    assert run_cli(env, "db", "upgrade").returncode == 0
    assert run_cli(env, "stations", "add", "ERM-SAN-VICENTE", "--name", "San Vicente").returncode == 0
    return env


def counts(url):
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        result = {
            m.__name__: conn.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Encounter, Person, Document)
        }
    engine.dispose()
    return result


def row(**values):
    base = {
        "id": str(uuid.uuid4()),
        "station": "ERM-SAN-VICENTE",
        "occurred_at": "2024-03-01T10:00:00-05:00",
        "given_names": "Yohana",
        "surnames": "Rojas Pérez",
        "sex": "F",
        "birth_date": "1995-02-03",
        "birth_estimated": "",
        "nationality": "VEN",
        "languages": "es",
        "route_countries": "COL;PAN",
        "doc_type": "",
        "doc_number": "",
        "mrz": "",
        "group_id": "",
        "relation": "",
    }
    base.update(values)
    return base


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)


def test_csv_good_and_bad_rows(env, tmp_path, fresh_database_url):
    group = str(uuid.uuid4())
    bad_mrz = TD3[:-2] + "3" + TD3[-1:]
    rows = [
        row(),  # line 2
        row(sex="female"),  # line 3: bad sex
        row(
            given_names="Anna Maria",
            surnames="Eriksson",
            birth_date="1974-08-12",
            nationality="UTO",
            mrz=TD3.replace("\n", "\\n"),
        ),  # line 4: good, document from the MRZ
        row(mrz=bad_mrz.replace("\n", "\\n")),  # line 5: bad check digit
        row(station="NOWHERE"),  # line 6
        row(group_id=group, relation="head", birth_date="1988"),  # line 7
        row(group_id=group, relation="child", birth_date="2018-05", given_names="Mía"),  # line 8
        row(birth_date="31/12/1990"),  # line 9
    ]
    source = tmp_path / "in.csv"
    write_csv(source, rows)
    result = run_cli(env, "import", "encounters", str(source), "--quiet", "--batch", "3")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "read 8, stored 4, already present 0, rejected 4" in result.stdout
    with (tmp_path / "in.csv.rejects.csv").open() as handle:
        rejects = [(int(r["line"]), r["field"]) for r in csv.DictReader(handle)]
    assert rejects == [(3, "sex"), (5, "documents.0.mrz"), (6, "station"), (9, "birth_date")]
    assert counts(fresh_database_url) == {"Encounter": 4, "Person": 4, "Document": 1}
    again = run_cli(env, "import", "encounters", str(source), "--quiet")
    assert "stored 0, already present 4, rejected 4" in again.stdout
    assert counts(fresh_database_url) == {"Encounter": 4, "Person": 4, "Document": 1}
    assert run_cli(env, "audit", "verify").returncode == 0


def test_jsonl_with_conflicts_and_broken_lines(env, tmp_path, fresh_database_url):
    same = {
        "id": str(uuid.uuid4()),
        "station": "ERM-SAN-VICENTE",
        "surnames": "Joseph",
        "given_names": "Wideline",
        "sex": "F",
        "birth_date": "1999",
        "nationality": "HTI",
        "languages": ["ht", "fr"],
    }
    lines = [
        json.dumps(same),
        "{broken json",
        json.dumps({**same, "surnames": "Jean"}),  # same id, different content in the same file
        json.dumps([1, 2]),
        "",
        json.dumps({**same, "id": str(uuid.uuid4()), "extra": True}),
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli(env, "import", "encounters", str(source), "--quiet")
    assert "read 5, stored 1, already present 0, rejected 4" in result.stdout, result.stdout + result.stderr
    with (tmp_path / "in.jsonl.rejects.csv").open() as handle:
        rejects = [(int(r["line"]), r["field"]) for r in csv.DictReader(handle)]
    assert rejects == [(2, "row"), (3, "id"), (4, "row"), (6, "extra")]
    assert counts(fresh_database_url)["Encounter"] == 1


def test_bad_header_imports_nothing(env, tmp_path, fresh_database_url):
    source = tmp_path / "in.csv"
    source.write_text("id,surname,sex\n1,x,F\n", encoding="utf-8")
    result = run_cli(env, "import", "encounters", str(source), "--quiet")
    assert result.returncode == 1 and "unknown column(s) surname" in result.stderr
    assert counts(fresh_database_url)["Encounter"] == 0


def test_import_writes_audit_events_per_batch(env, tmp_path, fresh_database_url):
    source = tmp_path / "in.csv"
    write_csv(source, [row() for _ in range(5)])
    assert run_cli(env, "import", "encounters", str(source), "--quiet", "--batch", "2").returncode == 0
    engine = create_engine(fresh_database_url, poolclass=NullPool)
    with engine.connect() as conn:
        events = conn.execute(select(AuditEvent.details).where(AuditEvent.action == "encounter.import")).scalars().all()
    engine.dispose()
    assert [json.loads(d)["count"] for d in events] == [2, 2, 1]


@pytest.mark.parametrize("processes", [1, 2])
def test_checks_in_processes_store_what_checks_inline_do(processes, fresh_database_url, tmp_path):
    """The same file through checking processes or inline: corrections of a row in the same batch and of an
    earlier batch continue that row's person, a family's group is written once, and a correction of an unknown
    registration and a bad row are rejected with their line and field."""
    from travesia.core import migrations
    from travesia.core.db import Database
    from travesia.core.principal import cli_principal
    from travesia.enrolment.bulk import run_import
    from travesia.models import Screening, TravelGroup
    from travesia.stations import service as stations
    from travesia.stations.schemas import StationCreate

    migrations.upgrade(fresh_database_url)
    db = Database(fresh_database_url)
    operator = cli_principal("test")
    with db.transaction() as session:
        stations.create_station(session, operator, StationCreate(code="ERM-SAN-VICENTE", name="SV", kind="reception"))
    group = {"id": str(uuid.uuid4()), "kind": "family", "relation": "head"}
    a, b = (
        {"id": str(uuid.uuid4()), "station": "ERM-SAN-VICENTE", "surnames": name, "sex": "F", "birth_date": "1990"}
        for name in ("Rojas", "Rojas Pérez")
    )
    lines = [
        {**a, "group": group},
        {**b, "group": {**group, "relation": "child"}},
        {**a, "id": str(uuid.uuid4()), "given_names": "Ana", "corrects": a["id"]},  # same batch
        {**a, "id": str(uuid.uuid4()), "corrects": str(uuid.uuid4())},  # nothing to correct
        {**a, "id": str(uuid.uuid4()), "sex": "Q"},
        {**b, "id": str(uuid.uuid4()), "given_names": "Eva", "corrects": b["id"]},  # an earlier batch
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    rejects = []
    report, _ = run_import(db, operator, source, batch_size=3, processes=processes, on_reject=rejects.append)
    assert (report.read, report.stored, report.rejected) == (6, 4, 2)
    assert [(r.line, r.field) for r in rejects] == [(4, "corrects"), (5, "sex")]
    with db.transaction(readonly=True) as session:
        person_of = dict(session.execute(select(Encounter.id, Encounter.person_id)).all())
        assert person_of[uuid.UUID(lines[2]["id"])] == person_of[uuid.UUID(a["id"])]
        assert person_of[uuid.UUID(lines[5]["id"])] == person_of[uuid.UUID(b["id"])]
        assert session.execute(select(func.count()).select_from(Person)).scalar_one() == 2
        assert session.execute(select(func.count()).select_from(TravelGroup)).scalar_one() == 1
        assert session.execute(select(func.count()).select_from(Screening)).scalar_one() == 4
    again, _ = run_import(db, operator, source, batch_size=3, processes=processes)
    assert (again.stored, again.unchanged, again.rejected) == (0, 4, 2)  # a re-run adds nothing
    db.dispose()
