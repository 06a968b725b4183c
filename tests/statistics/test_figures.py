"""Every dashboard figure against counts made independently from the synthetic population's own files."""

import io
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from PIL import Image, ImageChops

from tests.conftest import import_population, token_for
from travesia.core.principal import Role
from travesia.statistics import charts, service

ALL_TIME = service.Filters(date(2015, 1, 1), date(2026, 12, 31), None, "month")


@pytest.fixture
def population(db, tmp_path):
    bodies, rows = import_population(db, tmp_path, 500, seed=9)
    with db.transaction() as session:
        assert service.refresh(session, datetime.now(UTC) + timedelta(seconds=1)) == len(bodies)
        assert service.refresh(session, datetime.now(UTC) + timedelta(seconds=2)) == 0  # each registration once
    return bodies, rows


def table_counts(table: charts.Table) -> Counter:
    out = Counter()
    for row in table.rows:
        period, values = row[0], row[1:]
        for key, n in zip(table.columns[1:], values, strict=True):
            if n:
                out[(period, key)] += n
    return out


def expected(bodies, key, grain="month"):
    out = Counter()
    for b in bodies:
        at = datetime.fromisoformat(b["occurred_at"])
        if grain == "month":
            period = at.strftime("%Y-%m-01")
        elif grain == "week":
            period = (at.date() - timedelta(days=at.weekday())).isoformat()
        else:
            period = at.date().isoformat()
        out[(period, key(b))] += 1
    return out


def band(b):
    age = int(b["occurred_at"][:4]) - int(b["birth_date"][:4])
    return "0-4" if age < 5 else "5-11" if age < 12 else "12-17" if age < 18 else "18-59" if age < 60 else "60+"


@pytest.mark.parametrize(
    ("chart_id", "key"),
    [
        ("arrivals_station", lambda b: b["station"]),
        ("arrivals_sex", lambda b: b["sex"]),
        ("arrivals_age", band),
    ],
)
def test_arrivals_match_the_ground_truth(session, population, chart_id, key):
    bodies, _ = population
    made = service.chart(session, chart_id, ALL_TIME)
    assert table_counts(made.table) == expected(bodies, key)


def test_nationalities_beyond_seven_are_summed_as_other(session, population):
    bodies, _ = population
    made = table_counts(service.chart(session, "arrivals_nationality", ALL_TIME).table)
    truth = expected(bodies, lambda b: b["nationality"])
    assert sum(made.values()) == sum(truth.values()) == len(bodies)
    for (period, key), n in made.items():
        if key != "other":
            assert truth[(period, key)] == n


@pytest.mark.parametrize("grain", ["day", "week"])
def test_days_and_iso_weeks(session, population, grain):
    bodies, _ = population
    filters = service.Filters(ALL_TIME.start, ALL_TIME.end, None, grain)
    made = table_counts(service.chart(session, "arrivals_sex", filters).table)
    assert made == expected(bodies, lambda b: b["sex"], grain)


def test_groups_are_counted_once_at_their_first_registration(session, population):
    bodies, _ = population
    first = {}
    for b in bodies:
        group = b.get("group")
        if group and (group["id"] not in first or b["occurred_at"] < first[group["id"]][0]):
            first[group["id"]] = (b["occurred_at"], group["kind"])
    truth = Counter((datetime.fromisoformat(at).strftime("%Y-%m-01"), kind) for at, kind in first.values())
    assert table_counts(service.chart(session, "groups", ALL_TIME).table) == truth


def test_a_station_filter_and_a_period(session, population):
    bodies, _ = population
    filters = service.Filters(date(2023, 1, 1), date(2023, 6, 30), "ERM-LAJAS-BLANCAS", "month")
    made = table_counts(service.chart(session, "arrivals_sex", filters).table)
    chosen = [
        b
        for b in bodies
        if b["station"] == "ERM-LAJAS-BLANCAS" and "2023-01-01" <= b["occurred_at"][:10] <= "2023-06-30"
    ]
    assert made == expected(chosen, lambda b: b["sex"]) and sum(made.values()) == len(chosen)


def test_occupancy_counts_the_last_days(session, population):
    bodies, _ = population
    last = max(datetime.fromisoformat(b["occurred_at"]) for b in bodies).date()
    made = service.occupancy(session, last)
    window = [
        b
        for b in bodies
        if last - timedelta(days=service.STAY_DAYS - 1) <= datetime.fromisoformat(b["occurred_at"]).date() <= last
    ]
    present = {row[0]: row[1] for row in made.table.rows}
    assert sum(present.values()) <= len(window) and sum(present.values()) >= 1
    assert "<svg" in made.svg


def test_the_dashboard_page_and_downloads(client, session, make_user, auth_ctx, population):
    from tests.conftest import login

    make_user("estadistica", Role.STATISTICIAN)
    session.commit()
    login(client, "estadistica")
    page = client.get("/statistics?start=2021-01-01&end=2025-12-31&grain=month")
    assert page.status_code == 200 and page.text.count("<svg") >= 11
    csv = client.get("/statistics/charts/arrivals_station.csv?start=2021-01-01&end=2025-12-31&grain=month")
    assert csv.status_code == 200 and csv.text.startswith("period,")
    svg = client.get("/statistics/charts/arrivals_sex.svg?start=2021-01-01&end=2025-12-31")
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg")
    png = client.get("/statistics/charts/arrivals_sex.png?start=2021-01-01&end=2025-12-31")
    assert png.headers["content-type"] == "image/png" and "arrivals_sex.png" in png.headers["content-disposition"]
    picture = Image.open(io.BytesIO(png.content)).convert("RGB")
    assert picture.size == (1440, 600)  # the drawing at twice its size
    colours = {colour for _, colour in picture.getcolors(1_000_000)}
    assert (29, 78, 216) in colours  # the first series' columns are drawn
    textless = re.sub(r"<text[^>]*>[^<]*</text>", "", svg.text)
    title_area = (0, 0, 1440, 44)
    drawn = picture.crop(title_area)
    bare = Image.open(io.BytesIO(charts.png(textless))).convert("RGB").crop(title_area)
    assert ImageChops.difference(drawn, bare).getbbox() is not None  # the title's letters are there
    bad = client.get("/statistics?grain=year")
    assert bad.status_code == 422
    assert client.get("/statistics/charts/nothing.csv").status_code == 404
    reader = token_for(make_user, session, auth_ctx, "analista.stats", Role.ANALYST)
    assert client.get("/api/v1/statistics/headline", headers=reader).status_code == 403


def test_the_forecast_page_backtests_against_seasonal_naive(client, session, make_user, auth_ctx, population):
    reader = token_for(make_user, session, auth_ctx, "estadistica.api", Role.STATISTICIAN)
    data = client.get("/api/v1/statistics/forecast?by=station&horizon=8", headers=reader).json()
    assert {f["key"] for f in data["forecasts"]} >= {"ERM-LAJAS-BLANCAS", "ERM-SAN-VICENTE"}
    assert all(len(f["mean"]) == 8 for f in data["forecasts"])
    assert data["backtests"] and all(b["mase_model"] > 0 and b["mase_baseline"] > 0 for b in data["backtests"])
    from tests.conftest import login

    make_user("estadistica.web", Role.STATISTICIAN)
    session.commit()
    login(client, "estadistica.web")
    page = client.get("/statistics/forecast")
    assert page.status_code == 200 and 'id="capacity-warnings"' in page.text and 'id="backtest"' in page.text


def test_a_late_earlier_registration_moves_its_group(db, session, tmp_path):
    import json
    import uuid as uuid_

    from travesia.core.principal import cli_principal
    from travesia.demo import ensure_stations
    from travesia.enrolment.bulk import run_import

    with db.transaction() as s:
        ensure_stations(s, cli_principal("t"))
    group = {"id": str(uuid_.uuid4()), "kind": "family", "relation": "head"}

    def register(day, name):
        path = tmp_path / f"{name}.jsonl"
        at = f"2024-03-{day:02d}T10:00:00+00:00"
        body = {"id": str(uuid_.uuid4()), "station": "ERM-SAN-VICENTE", "occurred_at": at, "given_names": name,
                "surnames": "Grupo", "sex": "F", "birth_date": "1990-01-01", "group": group}  # fmt: skip
        path.write_text(json.dumps(body))
        assert run_import(db, cli_principal("t"), path)[0].stored == 1
        with db.transaction() as s:
            service.refresh(s, datetime.now(UTC))  # the import has committed: nothing is in flight

    daily = service.Filters(date(2024, 3, 1), date(2024, 3, 31), None, "day")
    register(5, "Ana")
    register(6, "Eva")  # the same group later: not a new group
    assert table_counts(service.chart(session, "groups", daily).table) == Counter({("2024-03-05", "family"): 1})
    register(2, "Isa")  # a station syncing late brings an earlier registration of the same group
    assert table_counts(service.chart(session, "groups", daily).table) == Counter({("2024-03-02", "family"): 1})


def test_protection_and_repatriation_figures(session, population):
    import uuid as uuid_

    from travesia.models import Alert, AsylumClaim, Encounter, Flight, ManifestEntry, ProtectionFlag, Referral

    persons = [p for (p,) in session.query(Encounter.person_id).limit(6)]
    encounters = [e for (e,) in session.query(Encounter.id).limit(3)]
    at = datetime(2024, 5, 10, 12, tzinfo=UTC)
    for i, p in enumerate(persons[:3]):
        session.add(
            AsylumClaim(person_id=p, state="pending" if i else "granted", history=[], recorded_at=at, updated_at=at)
        )
    session.add_all(
        [
            Referral(person_id=persons[3], kind="medical", partner="x", consent="given", opened_at=at),
            Referral(person_id=persons[4], kind="trafficking", partner="y", consent="given", opened_at=at),
            ProtectionFlag(person_id=persons[5], kind="unaccompanied_child", source="derived", recorded_at=at),
            *[
                Alert(
                    dedupe_key=f"k{i}",
                    encounter_id=e,
                    kind="watchlist",
                    score=0.9,
                    priority=1,
                    state=state,
                    created_at=at,
                )
                for i, (e, state) in enumerate(zip(encounters, ["open", "confirmed", "confirmed"], strict=True))
            ],
        ]
    )
    flight = Flight(
        id=uuid_.uuid4(), kind="repatriation", departs_on=at.date(), destination="VEN", capacity=10, operator="x"
    )
    session.add(flight)
    session.flush()
    session.add_all([ManifestEntry(flight_id=flight.id, person_id=p, family_key=str(p), state="boarded", placed_at=at,
                                   boarded_at=at) for p in persons[:2]])  # fmt: skip
    session.commit()
    may = service.Filters(date(2024, 5, 1), date(2024, 5, 31), None, "month")
    period = "2024-05-01"

    def counts(chart_id):
        return table_counts(service.chart(session, chart_id, may).table)

    assert counts("claims") == Counter({(period, "pending"): 2, (period, "granted"): 1})
    assert counts("referrals") == Counter({(period, "medical"): 1, (period, "trafficking"): 1})
    assert counts("children_alone") == Counter({(period, "unaccompanied_child"): 1})
    assert counts("repatriations") == Counter({(period, "VEN"): 2})
    assert counts("alerts") == Counter({(period, "watchlist:open"): 1, (period, "watchlist:confirmed"): 2})
