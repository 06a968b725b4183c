"""The audit trail in the database: appended in the same transaction, append-only, tampering found and named."""

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.conftest import PG_URL
from tests.live import cli_env, run_cli
from travesia.audit import service as audit
from travesia.audit.chain import event_hash, hashed_fields
from travesia.core.errors import Conflict
from travesia.core.principal import cli_principal
from travesia.models import AuditEvent
from travesia.stations import service as stations
from travesia.stations.schemas import StationCreate

ACTOR = cli_principal("tester")


def record_events(session, n: int) -> list[AuditEvent]:
    events = [audit.record(session, ACTOR, "test.event", record_type="thing", record_id=str(i)) for i in range(n)]
    session.flush()
    return events


def event_count(session) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def disable_append_only(session, backend: str) -> None:
    """What an attacker with database-owner rights would do first (undone by the test's rollback)."""
    if backend == "sqlite":
        session.execute(text("DROP TRIGGER audit_events_no_update"))
        session.execute(text("DROP TRIGGER audit_events_no_delete"))
    else:
        session.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))


def test_write_and_its_event_commit_or_roll_back_together(session):
    before = event_count(session)
    nested = session.begin_nested()
    stations.create_station(session, ACTOR, StationCreate(code="GONE", name="Gone", kind="shelter"))
    nested.rollback()
    assert event_count(session) == before
    stations.create_station(session, ACTOR, StationCreate(code="KEPT", name="Kept", kind="shelter"))
    assert event_count(session) == before + 1
    assert audit.verify(session).ok


def test_a_failed_use_case_leaves_no_event(session):
    stations.create_station(session, ACTOR, StationCreate(code="ONCE", name="Once", kind="shelter"))
    before = event_count(session)
    nested = session.begin_nested()
    with pytest.raises(Conflict):
        stations.create_station(session, ACTOR, StationCreate(code="ONCE", name="Again", kind="shelter"))
    nested.rollback()
    assert event_count(session) == before


@pytest.mark.parametrize("statement", ["UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"])
def test_database_refuses_update_and_delete(session, statement):
    record_events(session, 2)
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text(statement))
    nested.rollback()


@pytest.mark.skipif(not PG_URL, reason="TRUNCATE is PostgreSQL's; SQLite's DELETE is refused in the test above")
def test_truncate_is_refused_on_postgres(session):
    record_events(session, 1)
    nested = session.begin_nested()
    with pytest.raises(DBAPIError, match="append-only"):
        session.execute(text("TRUNCATE audit_events"))
    nested.rollback()


def _base(session) -> int:
    return session.execute(select(func.coalesce(func.max(AuditEvent.seq), 0))).scalar_one()


def test_changed_event_is_named(session, backend):
    base = _base(session)
    record_events(session, 6)
    disable_append_only(session, backend)
    session.execute(text("UPDATE audit_events SET purpose = 'covered up' WHERE seq = :s"), {"s": base + 3})
    verdict = audit.verify(session)
    assert not verdict.ok and verdict.bad_seq == base + 3 and verdict.problem_code == "content_changed"


def test_deleted_event_is_named(session, backend):
    base = _base(session)
    record_events(session, 6)
    disable_append_only(session, backend)
    session.execute(text("DELETE FROM audit_events WHERE seq = :s"), {"s": base + 3})
    verdict = audit.verify(session)
    assert not verdict.ok and verdict.bad_seq == base + 4 and verdict.problem_code == "missing"


def test_inserted_event_is_named(session, backend):
    base = _base(session)
    events = record_events(session, 6)
    disable_append_only(session, backend)
    for seq in range(base + 6, base + 3, -1):  # make room after event base+3, highest first
        session.execute(text("UPDATE audit_events SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
    session.execute(text("UPDATE audit_chain_head SET seq = seq + 1"))
    forged = AuditEvent(**{c.key: getattr(events[2], c.key) for c in AuditEvent.__table__.columns})
    forged.seq, forged.action = base + 4, "forged.event"
    forged.event_id = type(events[0].event_id)(int=events[0].event_id.int ^ 1)
    forged.prev_hash = events[2].hash
    forged.hash = event_hash(hashed_fields(forged), forged.prev_hash)
    session.expunge_all()
    session.add(forged)
    session.flush()
    verdict = audit.verify(session)
    assert not verdict.ok and verdict.bad_seq == base + 5 and verdict.problem_code == "link_broken"


def test_reordered_events_are_named(session, backend):
    base = _base(session)
    record_events(session, 6)
    disable_append_only(session, backend)
    a, b = base + 3, base + 4
    session.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = :a"), {"a": a})
    session.execute(text("UPDATE audit_events SET seq = :a WHERE seq = :b"), {"a": a, "b": b})
    session.execute(text("UPDATE audit_events SET seq = :b WHERE seq = -1"), {"b": b})
    verdict = audit.verify(session)
    assert not verdict.ok and verdict.bad_seq == a and verdict.problem_code == "link_broken"


def test_anchor_matches_the_head(session):
    record_events(session, 3)
    anchor = audit.anchor(session)
    verdict = audit.verify(session, (anchor.seq, anchor.hash))
    assert verdict.ok and verdict.head_seq == anchor.seq and verdict.head_hash == anchor.hash


def test_cli_verify_and_anchor(fresh_database_url, tmp_path):
    env = cli_env(fresh_database_url, tmp_path)

    def run(*args):
        return run_cli(env, *args)

    assert run("db", "upgrade").returncode == 0
    assert run("stations", "add", "HQ", "--name", "Sede", "--kind", "headquarters").returncode == 0
    ok = run("audit", "verify")
    assert ok.returncode == 0 and "audit chain OK" in ok.stdout
    assert run("audit", "anchor", "--out", str(tmp_path / "anchor.json")).returncode == 0
    assert run("audit", "verify", "--anchor", str(tmp_path / "anchor.json")).returncode == 0
    # Tamper as the database owner would, then verification must fail and name event 1.
    engine = create_engine(fresh_database_url)
    with engine.begin() as conn:
        if make_url(fresh_database_url).get_backend_name() == "sqlite":
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
        else:
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE audit_events SET actor = 'someone else' WHERE seq = 1"))
    engine.dispose()
    broken = run("audit", "verify")
    assert broken.returncode == 1
    assert "BROKEN at event 1" in broken.stderr
