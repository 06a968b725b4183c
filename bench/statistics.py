"""Dashboard query times at scale on SQLite and PostgreSQL, and the forecast backtest against seasonal naive.

    python bench/statistics.py --encounters 1000000                  # SQLite (a fresh file in a temporary folder)
    python bench/statistics.py --encounters 1000000 --postgres URL   # and PostgreSQL (an empty database)
    python bench/statistics.py --encounters 5000000 --skip-forecast

Rows are written straight into the tables (persons, travel groups, encounters) with the Darién flow's shape —
years, months, nationality mix and stations of `travesia.synth.population` — since only the columns the dashboard
reads matter here. Each chart is timed as the dashboard computes it (all time, by month, then one station over one
year), with a bare `SELECT count(*)` over the same table in the same run as the baseline. The forecast backtest
runs on the weekly arrivals per station: MASE of the model and of the seasonal-naive forecast.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select

from travesia.core import migrations
from travesia.core.db import Database
from travesia.core.principal import cli_principal
from travesia.demo import ensure_stations
from travesia.models import Encounter, Person, Station, TravelGroup
from travesia.statistics import forecast, service
from travesia.synth.figures import MIX, MONTHS, YEARS

BATCH = 20_000


def generate(db: Database, encounters: int, seed: int, recorded: datetime | None = None) -> float:
    """``recorded``: when the rows were recorded (default: when they occurred, as a bulk import of history)."""
    r = random.Random(seed)
    with db.transaction() as session:
        ensure_stations(session, cli_principal("bench"))
        stations = [s.id for s in session.execute(select(Station)).scalars() if s.capacity]
    years, weights = list(YEARS), list(YEARS.values())
    start = time.perf_counter()
    made = 0
    while made < encounters:
        persons, groups, rows = [], [], []
        for _ in range(min(BATCH, encounters - made)):
            year = r.choices(years, weights)[0]
            month = r.choices(range(1, 13), MONTHS)[0]
            when = datetime(year, month, r.randrange(1, 29), r.randrange(6, 18), tzinfo=UTC)
            nationality = r.choices(list(MIX[year]), list(MIX[year].values()))[0]
            pid, eid = uuid.uuid4(), uuid.uuid4()
            station = r.choice(stations)
            group = None
            if r.random() < 0.3:
                group = uuid.uuid4()
                groups.append({"id": group, "kind": r.choice(["family", "travelling"]), "station_id": station,
                               "created_at": when})  # fmt: skip
            persons.append({"id": pid, "created_at": when})
            rows.append({
                "id": eid, "body_hash": "0" * 64, "station_id": station, "person_id": pid, "registered_person_id": pid,
                "group_id": group, "occurred_at": when, "recorded_at": recorded or when, "source": "import", "given_names": "X",
                "surnames": "Y", "name_key": "x y", "sex": r.choice("FM"), "birth_year": year - r.randrange(0, 70),
                "birth_precision": "year", "birth_estimated": False, "nationality": nationality, "languages": [],
                "route_countries": [], "biometric_exemptions": [],
            })  # fmt: skip
        with db.transaction() as session:
            session.execute(insert(Person), persons)
            if groups:
                session.execute(insert(TravelGroup), groups)
            session.execute(insert(Encounter), rows)
        made += len(rows)
    return time.perf_counter() - start


def timed(call: object, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best * 1000


def dashboard_times(db: Database, label: str) -> None:
    principal = cli_principal("bench")
    with db.transaction(readonly=True) as session:
        count = session.execute(select(func.count()).select_from(Encounter)).scalar_one()
        baseline = timed(lambda: session.execute(select(func.count()).select_from(Encounter)).scalar_one())
        all_time = service.Filters(date(2015, 1, 1), date(2026, 12, 31), None, "month")
        station = session.execute(select(Station.code).where(Station.capacity.is_not(None))).scalars().first()
        one_year = service.Filters(date(2023, 1, 1), date(2023, 12, 31), station, "week")
        print(f"\n## {label}: {count:,} encounters — baseline SELECT count(*): {baseline:.0f} ms")
        print("| chart | all time, by month (ms) | one station, 2023, by week (ms) |")
        print("|---|---|---|")
        worst = 0.0
        for chart_id in service.CHARTS:
            a = timed(lambda c=chart_id: service.chart(session, c, all_time))
            b = timed(lambda c=chart_id: service.chart(session, c, one_year))
            worst = max(worst, a, b)
            print(f"| {chart_id} | {a:.0f} | {b:.0f} |")
        occ = timed(lambda: service.occupancy(session, date(2023, 8, 15)))
        worst = max(worst, occ)
        print(f"| occupancy (one day) | {occ:.0f} | |")
        whole = timed(lambda: service.dashboard(session, principal, all_time), repeat=1)
        print(f"worst single query {worst:.0f} ms (target ≤ 500 ms); the whole dashboard page's queries {whole:.0f} ms")


def backtest(db: Database) -> None:
    from travesia.statistics import repository

    with db.transaction(readonly=True) as session:
        frame = forecast.weekly_frame(repository.weekly_arrivals(session, None, "station"))
    start = time.perf_counter()
    tests = forecast.backtest(frame, horizon=8, windows=4)
    took = time.perf_counter() - start
    print(f"\n## Forecast backtest (8 weeks ahead, 4 windows, {forecast.model_name(forecast._season(frame))})")
    print("| station | MASE model | MASE seasonal naive | better |")
    print("|---|---|---|---|")
    for t in tests:
        print(
            f"| {t.key} | {t.mase_model:.3f} | {t.mase_baseline:.3f} | {'model' if t.beats_baseline else 'seasonal naive'} |"
        )
    wins = sum(t.beats_baseline for t in tests)
    print(f"model better on {wins} of {len(tests)} stations; backtest {took:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encounters", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="URL of an empty PostgreSQL database to fill and measure as well")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-forecast", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true", help="measure PostgreSQL only")
    args = parser.parse_args()
    print(f"# bench/statistics.py — {time.strftime('%Y-%m-%d')} — {platform.node()} ({platform.machine()})")
    print(
        f"command: python bench/statistics.py --encounters {args.encounters}{' --postgres URL' if args.postgres else ''}"
    )
    with tempfile.TemporaryDirectory() as folder:
        targets = [] if args.skip_sqlite else [("SQLite", f"sqlite:///{folder}/bench.db")]
        targets += [("PostgreSQL", args.postgres)] if args.postgres else []
        for label, url in targets:
            migrations.upgrade(url)
            db = Database(url, sqlite_synchronous="NORMAL")
            took = generate(db, args.encounters, args.seed)
            print(f"\n{label}: wrote {args.encounters:,} encounters in {took:.0f} s")
            start = time.perf_counter()
            with db.transaction() as session:
                service.refresh(session, datetime.now(UTC))
            print(f"roll-ups built from scratch in {time.perf_counter() - start:.1f} s")
            generate(db, 1000, args.seed + 1, recorded=datetime.now(UTC) - timedelta(seconds=1))
            start = time.perf_counter()
            with db.transaction() as session:
                added = service.refresh(session, datetime.now(UTC))
            print(f"incremental refresh of {added:,} new registrations: {(time.perf_counter() - start) * 1000:.0f} ms")
            dashboard_times(db, label)
            if not args.skip_forecast and label == "SQLite":
                backtest(db)
            db.dispose()


if __name__ == "__main__":
    main()
