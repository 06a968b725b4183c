"""Legal pathways: rules kept as data and checked one by one, referral only when eligible and with consent, and
the partner's export carries exactly the fields its agreement names."""

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from tests.conftest import token_for
from travesia.core.principal import Role, cli_principal
from travesia.programmes import pathway_service, pathways

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "pathways.example.json"


@pytest.fixture
def loaded(session):
    items = TypeAdapter(list[pathways.ProgrammeIn]).validate_json(EXAMPLE.read_bytes())
    pathway_service.load(session, cli_principal("t"), items)
    session.commit()


def test_a_rules_file_cannot_ask_for_more_than_the_vocabulary():
    entry = json.loads(EXAMPLE.read_text())[0]
    with pytest.raises(ValidationError, match="not an exportable field: biometrics"):
        pathways.ProgrammeIn(**{**entry, "export_fields": ["person_id", "biometrics"]})
    with pytest.raises(ValidationError, match="ISO 3166"):
        pathways.ProgrammeIn(**{**entry, "rules": {"nationalities": ["Venezuela"]}})
    with pytest.raises(ValidationError, match="extra"):
        pathways.ProgrammeIn(**{**entry, "rules": {"religion": ["x"]}})
    with pytest.raises(ValidationError, match="max_age is below min_age"):
        pathways.ProgrammeIn(**{**entry, "rules": {"min_age": 40, "max_age": 18}})


def test_rules_are_checked_one_by_one():
    rules = pathways.Rules(nationalities=["VEN"], min_age=18, max_age=45, family_tie_in=["USA"])
    facts = pathways.Facts("VEN", 50, date(2024, 1, 1), ("CAN",))
    checks = {c.rule: c.met for c in pathways.evaluate(rules, facts)}
    assert checks == {"nationality": True, "min_age": True, "max_age": False, "family_tie_in": False}


def test_referral_and_the_partners_export(client, session, make_user, auth_ctx, people, programme_officer, loaded):
    liaison = token_for(make_user, session, auth_ctx, "enlace.uno", Role.PARTNER_LIAISON)
    person = people["other"]  # Venezuelan, born 1980 (46: past the labour pathway's 45), registered today
    result = {p["code"]: p for p in client.get(f"/api/v1/persons/{person}/pathways", headers=programme_officer).json()}
    assert result["safe-mobility"]["eligible"] and not result["labour-seasonal"]["eligible"]
    failed = [c for c in result["labour-seasonal"]["checks"] if not c["met"]]
    assert [c["rule"] for c in failed] == ["max_age"] and int(failed[0]["detail"]) >= 46
    refused = client.post(
        f"/api/v1/persons/{person}/pathways/labour-seasonal", json={"consent": "given"}, headers=programme_officer
    )
    assert refused.status_code == 409 and "max_age" in refused.text
    no_consent = client.post(
        f"/api/v1/persons/{person}/pathways/safe-mobility", json={"consent": "refused"}, headers=programme_officer
    )
    assert no_consent.status_code == 422
    made = client.post(
        f"/api/v1/persons/{person}/pathways/safe-mobility", json={"consent": "given"}, headers=programme_officer
    )
    assert made.status_code == 201, made.text
    again = client.post(
        f"/api/v1/persons/{person}/pathways/safe-mobility", json={"consent": "given"}, headers=programme_officer
    )
    assert again.status_code == 409

    assert client.get("/api/v1/pathways/safe-mobility/export.csv", headers=programme_officer).status_code == 403
    exported = client.get("/api/v1/pathways/safe-mobility/export.csv", headers=liaison)
    rows = list(csv.reader(io.StringIO(exported.text)))
    agreed = json.loads(EXAMPLE.read_text())[0]["export_fields"]
    assert rows[0] == agreed and len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["person_id"] == str(person) and record["given_names"] == "Rosa"
    assert "family_ties" not in record and "referred_at" not in record  # not in this agreement


def test_loading_rules_from_the_command_line(fresh_database_url, tmp_path):
    from tests.live import cli_env, run_cli

    env = cli_env(fresh_database_url, tmp_path / "data")
    assert run_cli(env, "db", "upgrade").returncode == 0
    loaded = run_cli(env, "pathways", "load", str(EXAMPLE))
    assert loaded.returncode == 0 and "2 pathways loaded" in loaded.stdout, loaded.stderr
    entries = json.loads(EXAMPLE.read_text())
    entries[1]["export_fields"] = ["person_id", "religion"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(entries))
    refused = run_cli(env, "pathways", "load", str(bad))
    assert refused.returncode != 0 and "entry 1.export_fields" in (refused.stdout + refused.stderr)
    listed = run_cli(env, "pathways", "list").stdout
    assert "religion" not in listed and "labour-seasonal" in listed  # nothing of the bad file was loaded
