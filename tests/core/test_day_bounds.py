"""A filter's days taken whole, to the last day a date can name: `until=9999-12-31` is "no end" (it answered 500
with an OverflowError in the audit API, found by schemathesis)."""

from datetime import UTC, date, datetime

from tests.conftest import token_for
from travesia.core.db import end_of_day, start_of_day
from travesia.core.principal import Role


def test_day_bounds():
    assert start_of_day(date(2026, 12, 7)) == datetime(2026, 12, 7, tzinfo=UTC)
    assert end_of_day(date(2026, 12, 7)) == datetime(2026, 12, 8, tzinfo=UTC)
    assert end_of_day(date.max) is None


def test_the_last_day_is_a_filter_not_an_overflow(client, make_user, session, auth_ctx):
    auditor = token_for(make_user, session, auth_ctx, "auditora.fechas", Role.AUDITOR)
    for query in ("until=9999-12-31", "since=0001-01-01&until=9999-12-31", "since=9999-12-31"):
        answer = client.get(f"/api/v1/audit/events?{query}", headers=auditor)
        assert answer.status_code == 200, (query, answer.text)
    assert client.get("/api/v1/audit/events?since=9999-12-31", headers=auditor).json()["events"] == []


def test_a_cursor_past_64_bits_is_refused_not_an_overflow(client, make_user, session, auth_ctx):
    auditor = token_for(make_user, session, auth_ctx, "auditora.cursor", Role.AUDITOR)
    assert client.get(f"/api/v1/audit/events?before={2**70}", headers=auditor).status_code == 422
