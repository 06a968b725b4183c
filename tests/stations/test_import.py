"""Stations from a file: `travesia synth` writes its stations, `travesia stations import` adds them, and an import
of encounters at unknown stations says which and how to add them."""

import io
import json

import pytest

from tests.live import cli_env, run_cli
from travesia.core.errors import InvalidInput
from travesia.core.principal import cli_principal
from travesia.models import AuditEvent
from travesia.stations import service
from travesia.synth.stations import STATIONS

OPERATOR = cli_principal("test")


def lines(*rows: dict) -> io.StringIO:
    return io.StringIO("".join(json.dumps(r) + "\n" for r in rows))


def test_new_stations_are_added_and_known_ones_left_alone(session):
    first = {"code": "ERM-NUEVA", "name": "ERM Nueva", "kind": "reception", "capacity": 200}
    assert service.import_stations(session, OPERATOR, lines(first)) == (1, 0)
    renamed = {**first, "name": "Another name"}
    second = {"code": "PASO-CANOAS", "name": "Paso Canoas", "kind": "border_post"}
    assert service.import_stations(session, OPERATOR, lines(renamed, second)) == (1, 1)
    assert service.station_by_code(session, "ERM-NUEVA").name == "ERM Nueva"  # an import never overwrites
    created = session.query(AuditEvent).filter(AuditEvent.action == "station.create").count()
    assert created == 2


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"code": "x", "name": "Too short", "kind": "reception"}, "line 2: code"),
        ({"code": "ERM-OK", "name": "Kind", "kind": "castle"}, "line 2: kind"),
        ({"code": "ERM-OK", "name": "Far", "kind": "reception", "latitude": 95}, "line 2: latitude"),
    ],
)
def test_a_bad_line_refuses_the_file_naming_line_and_field(session, row, field):
    good = {"code": "ERM-BUENA", "name": "Buena", "kind": "shelter"}
    with pytest.raises(InvalidInput) as refused:
        service.import_stations(session, OPERATOR, lines(good, row))
    assert refused.value.field == field
    assert service.station_by_code(session, "ERM-BUENA") is None  # nothing of the file was added


def test_synth_then_import_on_a_new_database(fresh_database_url, tmp_path):
    env = cli_env(fresh_database_url, tmp_path)
    assert run_cli(env, "db", "upgrade").returncode == 0
    made = run_cli(env, "synth", "--people", "20", "--out", str(tmp_path / "pop"))
    assert made.returncode == 0 and "travesia stations import" in made.stdout
    assert len((tmp_path / "pop" / "stations.jsonl").read_text().splitlines()) == len(STATIONS)
    refused = run_cli(env, "import", "encounters", str(tmp_path / "pop" / "encounters.jsonl"), "--quiet")
    assert refused.returncode == 3
    hint = " ".join(refused.stdout.split())
    assert "unknown stations: " in hint and f"travesia stations import {tmp_path / 'pop' / 'stations.jsonl'}" in hint
    added = run_cli(env, "stations", "import", str(tmp_path / "pop" / "stations.jsonl"))
    assert added.returncode == 0 and f"{len(STATIONS)} stations added" in added.stdout
    again = run_cli(env, "import", "encounters", str(tmp_path / "pop" / "encounters.jsonl"), "--quiet")
    assert again.returncode == 0, again.stdout + again.stderr
