"""Retention removes exactly what is past its period (10 years for asylum applicants, 5 for persons in transit, by
default), keeps the pseudonymous records statistics need, and leaves the audit chain verifying; the subject-access
report lists everything held about a person."""

import json
import subprocess
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.biometrics.test_pipeline import enrol
from tests.conftest import token_for
from travesia.audit import service as audit
from travesia.core.principal import Role, cli_principal
from travesia.enrolment.bulk import run_import
from travesia.models import Alert, AsylumClaim, Document, Encounter, Person
from travesia.privacy import retention, service

TODAY = date(2026, 11, 23)
OPERATOR = cli_principal("dpo")


def body(name, when, **extra):
    return {"id": str(uuid.uuid4()), "station": "ERM-TEST", "occurred_at": f"{when}T10:00:00+00:00",
            "given_names": name, "surnames": "Ejemplo", "sex": "F", "birth_date": "1990-03-04",
            "nationality": "VEN", "phone": "+58 412 000 0000",
            "documents": [{"doc_type": "passport", "number": f"P{sum(map(ord, name)):07d}", "issuing_state": "VEN"}],
            **extra}  # fmt: skip


@pytest.fixture
def aged(db, session, station, tmp_path):
    """Transit 6 years ago (past 5), transit 4 years ago (kept), asylum 6 years ago (kept: 10), asylum 11 years
    ago (past 10), and one exactly on its last day (kept)."""
    rows = {
        "transit_old": body("Vieja", "2020-11-01"),
        "transit_recent": body("Reciente", "2022-11-01"),
        "asylum_kept": body("Solicitante", "2020-11-01"),
        "asylum_old": body("Antigua", "2015-11-01"),
        "last_day": body("Justa", "2021-11-23"),
    }
    path = tmp_path / "aged.jsonl"
    path.write_text("\n".join(json.dumps(b) for b in rows.values()), encoding="utf-8")
    assert run_import(db, OPERATOR, path)[0].stored == len(rows)
    session.expire_all()
    persons = {k: session.get(Encounter, uuid.UUID(b["id"])).person_id for k, b in rows.items()}
    for key in ("asylum_kept", "asylum_old"):
        at = session.get(Encounter, uuid.UUID(rows[key]["id"])).occurred_at
        session.add(AsylumClaim(person_id=persons[key], state="granted", history=[], recorded_at=at, updated_at=at))
    session.commit()
    return persons


def test_the_dry_run_lists_exactly_what_is_past_its_period(session, aged):
    due = service.plan(session, retention.Rules(dict(retention.DEFAULT_YEARS)), TODAY)
    assert {(uuid.UUID(d.person_id), d.kind) for d in due} == {
        (aged["transit_old"], "transit"),
        (aged["asylum_old"], "asylum"),
    }
    report = service.apply_retention(
        session, OPERATOR, retention.Rules(dict(retention.DEFAULT_YEARS)), TODAY, dry_run=True
    )
    session.commit()
    assert len(report.due) == 2 and report.counts == {}
    session.expire_all()
    assert all(p.anonymised_at is None for p in session.execute(select(Person)).scalars())


def alert(session, encounter_id, decided, state="dismissed"):
    explanation = [{"feature": "name", "query": "Justa Ejemplo"}]
    row = Alert(dedupe_key=str(uuid.uuid4()), encounter_id=encounter_id, kind="watchlist", score=0.8, priority=2,
                explanation=explanation, state=state, decided_at=decided)  # fmt: skip
    session.add(row)
    session.commit()
    return row.id


def test_retention_anonymises_and_the_audit_chain_still_verifies(session, aged):
    rules = retention.Rules(dict(retention.DEFAULT_YEARS))
    kept_encounter = session.execute(select(Encounter.id).where(Encounter.person_id == aged["last_day"])).scalar_one()
    old_alert = alert(session, kept_encounter, datetime(2022, 1, 1, tzinfo=UTC))
    new_alert = alert(session, kept_encounter, datetime(2025, 1, 1, tzinfo=UTC))
    report = service.apply_retention(session, OPERATOR, rules, TODAY, dry_run=False)
    session.commit()
    gone = {aged["transit_old"], aged["asylum_old"]}
    assert {uuid.UUID(d.person_id) for d in report.due} == gone
    session.expire_all()
    for key, person in aged.items():
        [e] = session.execute(select(Encounter).where(Encounter.person_id == person)).scalars()
        docs = session.execute(select(Document).where(Document.encounter_id == e.id)).scalars().all()
        if person in gone:
            assert e.given_names == "" and e.phone is None and e.birth_day is None and docs == []
            assert (e.sex, e.birth_year, e.nationality) == ("F", 1990, "VEN")  # statistics keep their figures
            assert session.get(Person, person).anonymised_at is not None
        else:
            assert e.given_names and e.phone == "+584120000000" and len(docs) == 1, key
    assert report.operational["alerts_dismissed"] == 1
    assert session.get(Alert, old_alert).explanation == [] and session.get(Alert, new_alert).explanation != []
    assert audit.verify(session).ok
    # a second run finds nothing more
    assert service.apply_retention(session, OPERATOR, rules, TODAY, dry_run=False).due == []


def test_rules_come_from_a_checked_file(tmp_path):
    good = tmp_path / "rules.json"
    good.write_text('{"asylum": 12, "transit": 3, "operational": 2}')
    assert retention.load_rules(good).period("transit") == 3
    for text, problem in [
        ("{", "JSON"),
        ('{"asylum": 10}', "exactly the kinds"),
        ('{"asylum": 0, "transit": 5, "operational": 3}', "between 1 and 100"),
    ]:
        bad = tmp_path / "bad.json"
        bad.write_text(text)
        with pytest.raises(ValueError, match=problem):
            retention.load_rules(bad)


def test_subject_access_lists_everything_held(client, session, make_user, auth_ctx, officer, face_png, tmp_path):
    dpo = token_for(make_user, session, auth_ctx, "auditora.dpo", Role.AUDITOR)
    eid = enrol(client, officer, face_png, None, phone="+58 412 111 2222")
    session.expire_all()
    person = session.get(Encounter, eid).person_id
    client.get(f"/api/v1/encounters/{eid}", headers=officer)  # someone looks at the record
    report = client.get(f"/api/v1/persons/{person}/subject-access", headers=dpo)
    assert report.status_code == 200, report.text
    data = report.json()
    assert (
        data["registrations"][0]["given_names"] == "José Gregorio"
        and data["registrations"][0]["phone"] == "+584121112222"
    )
    assert len(data["biometric_images"]) == 1 and "image" not in data["biometric_images"][0]
    assert any(a["action"] == "encounter.read" for a in data["accessed_by"])
    assert client.get(f"/api/v1/persons/{person}/subject-access", headers=officer).status_code == 403
    document = client.get(f"/api/v1/persons/{person}/subject-access.pdf", headers=dpo).content
    (tmp_path / "sar.pdf").write_bytes(document)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "sar.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Subject access report" in text and "Gregorio" in text and "Registrations (1)" in text


def test_retention_from_the_command_line(fresh_database_url, tmp_path):
    """The operator's command on a real database: the dry run lists, the run anonymises, a second run finds none."""
    from tests.live import cli_env, run_cli

    env = cli_env(fresh_database_url, tmp_path / "data")
    assert run_cli(env, "db", "upgrade").returncode == 0
    assert run_cli(env, "stations", "add", "ERM-TEST", "--name", "ERM de prueba").returncode == 0
    rows = tmp_path / "old.jsonl"
    rows.write_text("\n".join(json.dumps(body(n, "2019-01-0" + str(i + 1))) for i, n in enumerate(("Una", "Otra"))))
    assert run_cli(env, "import", "encounters", str(rows)).returncode == 0
    dry = run_cli(env, "retention", "run", "--dry-run", "--today", TODAY.isoformat())
    assert dry.returncode == 0 and "2 persons would be anonymised" in dry.stdout, dry.stdout + dry.stderr
    done = run_cli(env, "retention", "run", "--today", TODAY.isoformat())
    assert done.returncode == 0 and "2 persons anonymised" in done.stdout and "encounters 2" in done.stdout
    again = run_cli(env, "retention", "run", "--today", TODAY.isoformat())
    assert "0 persons anonymised" in again.stdout
    assert run_cli(env, "audit", "verify").returncode == 0
