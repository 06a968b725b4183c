"""The analyst's queue at a day's volume: 2,000 alerts filtered, sorted and paged on the server, each row naming the
person, station, list entry, registration time, age and holder; taking one puts it under "mine"."""

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert

from tests.biometrics.test_pipeline import enrol
from tests.conftest import csrf_of, login
from tests.enrolment.conftest import other_station_officer  # noqa: F401  (a second station with its officer)
from tests.screening.test_screening import ADMIN, LISTED, load, persons_list  # noqa: F401  (the list fixture)
from travesia.core.db import utcnow
from travesia.core.principal import Role
from travesia.models import Alert, WatchlistEntry

ALERTS = 2000


@pytest.fixture
def queue(client, session, officer, other_station_officer, persons_list):  # noqa: F811
    load(session, persons_list, LISTED, {**LISTED, "id": "ofac-2", "properties": {"name": ["Omar Nasser"]}})
    entries = session.query(WatchlistEntry).all()
    here = [enrol(client, officer, given_names=f"Ana {n}") for n in range(3)]
    there = [enrol(client, other_station_officer, given_names="Luis", station="ERM-OTRA")]
    now = utcnow()
    kinds = ("watchlist", "same_document", "same_biometrics", "lost_document")
    rows = []
    for n in range(ALERTS):
        kind = kinds[n % 4]
        rows.append({
            "id": uuid.uuid4(), "dedupe_key": f"queue-{n}", "encounter_id": (here + there)[n % 4], "kind": kind,
            "entry_id": entries[n % 2].id if kind == "watchlist" else None, "score": 0.5 + (n % 50) / 100,
            "priority": 1 + n % 5, "explanation": [], "state": "open", "created_at": now - timedelta(hours=n),
        })  # fmt: skip
    session.execute(insert(Alert), rows)
    session.commit()
    return {"here": here, "there": there, "entries": entries}


def rows_of(html: str) -> list[str]:
    return re.findall(r'<a href="/alerts/([0-9a-f-]{36})">', html)


def walk(client, url: str) -> tuple[list[str], list[int]]:
    """Every page from url on: the alert ids in order and each page's HTML size."""
    ids, sizes = [], []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text[:300]
        ids += rows_of(page.text)
        sizes.append(len(page.content))
        following = re.search(r'<a rel="next" href="([^"]+)"', page.text)
        url = following.group(1).replace("&amp;", "&") if following else None
    return ids, sizes


def test_two_thousand_alerts_by_filter_and_page(client, session, make_user, queue):
    make_user("supervisora.cola", Role.SUPERVISOR)
    session.commit()
    login(client, "supervisora.cola")
    first = client.get("/alerts").text
    assert "Ana 0" in first and "ERM-TEST" in first and "Youssef Haddad" in first  # rows name what they are about
    assert "Por revisar (2000)" in first or "To review (2000)" in first
    ids, sizes = walk(client, "/alerts")
    assert len(ids) == ALERTS == len(set(ids))  # every alert once across the pages
    assert max(sizes) < 30_000, sizes  # a page of results stays light
    by_id = {str(a.id): a for a in session.query(Alert).filter(Alert.dedupe_key.like("queue-%"))}
    keys = [(by_id[i].priority, by_id[i].created_at) for i in ids]
    assert keys == sorted(keys)  # most urgent first, then oldest
    oldest, _ = walk(client, "/alerts?sort=age")
    assert [by_id[i].created_at for i in oldest] == sorted(by_id[i].created_at for i in oldest)
    # filters, alone and together
    listed, _ = walk(client, "/alerts?kind=watchlist&watchlist=wanted")
    assert len(listed) == ALERTS // 4 and all(by_id[i].kind == "watchlist" for i in listed)
    there, _ = walk(client, "/alerts?station=ERM-OTRA")
    assert len(there) == ALERTS // 4 and all(by_id[i].encounter_id == queue["there"][0] for i in there)
    recent, _ = walk(client, f"/alerts?since={(utcnow() - timedelta(hours=99)).date().isoformat()}")
    assert 0 < len(recent) < ALERTS
    bad = client.get("/alerts?since=yesterday")
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.text


def test_taking_an_alert_puts_it_under_mine(client, session, make_user, queue):
    make_user("supervisora.mia", Role.SUPERVISOR)
    session.commit()
    login(client, "supervisora.mia")
    assert rows_of(client.get("/alerts?holder=mine").text) == []
    [first, *_] = rows_of(client.get("/alerts").text)
    token = csrf_of(client, f"/alerts/{first}")
    taken = client.post(f"/alerts/{first}", data={"action": "take", "csrf_token": token})
    assert taken.status_code == 303
    mine = client.get("/alerts?holder=mine&state=under_review")
    assert rows_of(mine.text) == [first] and "Usuario Prueba" in mine.text  # who holds it, by name
    assert first not in rows_of(client.get("/alerts?holder=nobody").text)
    tabs = re.findall(r"<nav aria-label=[^>]+>(.*?)</nav>", client.get("/alerts").text, re.S)[-1]
    assert re.search(r"state=under_review[^>]*>[^<]*\(1\)</a>", tabs), tabs  # the tab counts the one taken
    assert re.search(r"state=open[^>]*>[^<]*\(1999\)</a>", tabs), tabs


def test_a_forged_cursor_is_refused_not_a_server_error(client, session, make_user, queue):
    make_user("supervisora.cursor", Role.SUPERVISOR)
    session.commit()
    login(client, "supervisora.cursor")
    for cursor in ("1~not-a-date~" + str(uuid.uuid4()), "1~2026-13-45~" + str(uuid.uuid4()), "x~y~z"):
        assert client.get("/alerts", params={"after": cursor}).status_code == 422, cursor
    past_the_end = "9~2026-01-01T00:00:00+00:00~" + str(uuid.uuid4())
    assert rows_of(client.get("/alerts", params={"after": past_the_end}).text) == []
