"""The only SQL of statistics: aggregations computed by the database (GROUP BY on indexed columns, one scan per
chart), on SQLite and PostgreSQL alike. Periods bucket by day, ISO week (Monday) or month."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Integer, case, cast, extract, func, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from travesia.models import (
    Alert,
    AsylumClaim,
    Encounter,
    Flight,
    ManifestEntry,
    ProtectionFlag,
    Referral,
    Station,
    StatsDaily,
    StatsGroupFirst,
    StatsGroupsDaily,
    StatsWatermark,
    TravelGroup,
)

GRAINS = ("day", "week", "month")
AGE_BANDS = ("0-4", "5-11", "12-17", "18-59", "60+")


@dataclass(frozen=True)
class Scope:
    start: datetime
    end: datetime  # exclusive
    station_id: uuid.UUID | None = None


def bucket(session: Session, column: ColumnElement, grain: str) -> ColumnElement:
    """The period a timestamp falls in, as an ISO date string (the first day of the day, week or month)."""
    if session.get_bind().dialect.name == "sqlite":
        if grain == "day":
            return func.strftime("%Y-%m-%d", column)
        if grain == "week":  # back to Monday: SQLite's %w counts Sunday as 0
            offset = (cast(func.strftime("%w", column), Integer) + 6) % 7
            return func.date(column, func.printf("-%d days", offset))
        return func.strftime("%Y-%m-01", column)
    return func.to_char(func.date_trunc(grain, column), "YYYY-MM-DD")


def age_band(occurred: ColumnElement, birth_year: ColumnElement) -> ColumnElement:
    age = extract("year", occurred) - birth_year
    return case(
        (age < 5, literal("0-4")),
        (age < 12, literal("5-11")),
        (age < 18, literal("12-17")),
        (age < 60, literal("18-59")),
        else_=literal("60+"),
    )


DIMENSIONS = {
    "station": lambda: Station.code,
    "nationality": lambda: StatsDaily.nationality,
    "sex": lambda: StatsDaily.sex,
    "age_band": lambda: StatsDaily.age_band,
    "total": lambda: literal("all"),
}


def arrivals(session: Session, scope: Scope, grain: str, by: str) -> list[tuple[str, str, int]]:
    """Registrations per period and dimension value, from the daily roll-up."""
    period = bucket(session, StatsDaily.day, grain)
    key = DIMENSIONS[by]()
    stmt = (
        select(period, key, func.sum(StatsDaily.registrations))
        .select_from(StatsDaily)
        .where(StatsDaily.day >= scope.start.date(), StatsDaily.day < scope.end.date())
        .group_by(period, key)
        .order_by(period)
    )
    if by == "station":
        stmt = stmt.join(Station, Station.id == StatsDaily.station_id)
    if scope.station_id:
        stmt = stmt.where(StatsDaily.station_id == scope.station_id)
    return [(str(p), str(k), int(n)) for p, k, n in session.execute(stmt)]


def groups(session: Session, scope: Scope, grain: str) -> list[tuple[str, str, int]]:
    """Travelling groups and families per period of their first registration, from the roll-up."""
    period = bucket(session, StatsGroupsDaily.day, grain)
    stmt = (
        select(period, StatsGroupsDaily.kind, func.sum(StatsGroupsDaily.groups))
        .where(StatsGroupsDaily.day >= scope.start.date(), StatsGroupsDaily.day < scope.end.date())
        .group_by(period, StatsGroupsDaily.kind)
        .order_by(period)
    )
    if scope.station_id:
        stmt = stmt.where(StatsGroupsDaily.station_id == scope.station_id)
    return [(str(p), str(k), int(n)) for p, k, n in session.execute(stmt)]


def _by_period(session: Session, column: ColumnElement, key: ColumnElement, scope: Scope, grain: str,
               model: type, *where: ColumnElement) -> list[tuple[str, str, int]]:  # fmt: skip
    period = bucket(session, column, grain)
    stmt = (
        select(period, key, func.count())
        .select_from(model)
        .where(column >= scope.start, column < scope.end, *where)
        .group_by(period, key)
        .order_by(period)
    )
    return [(str(p), str(k), int(n)) for p, k, n in session.execute(stmt)]


def children_alone(session: Session, scope: Scope, grain: str) -> list[tuple[str, str, int]]:
    return _by_period(session, ProtectionFlag.recorded_at, ProtectionFlag.kind, scope, grain, ProtectionFlag,
                      ProtectionFlag.kind.in_(("unaccompanied_child", "separated_child")))  # fmt: skip


def alerts(session: Session, scope: Scope, grain: str) -> list[tuple[str, str, int]]:
    key = Alert.kind + literal(":") + Alert.state
    return _by_period(session, Alert.created_at, key, scope, grain, Alert)


def referrals(session: Session, scope: Scope, grain: str) -> list[tuple[str, str, int]]:
    return _by_period(session, Referral.opened_at, Referral.kind, scope, grain, Referral)


def claims(session: Session, scope: Scope, grain: str) -> list[tuple[str, str, int]]:
    return _by_period(session, AsylumClaim.recorded_at, AsylumClaim.state, scope, grain, AsylumClaim)


def repatriations(session: Session, scope: Scope, grain: str) -> list[tuple[str, str, int]]:
    period = bucket(session, ManifestEntry.boarded_at, grain)
    stmt = (
        select(period, Flight.destination, func.count())
        .select_from(ManifestEntry)
        .join(Flight, Flight.id == ManifestEntry.flight_id)
        .where(
            ManifestEntry.state == "boarded",
            ManifestEntry.boarded_at >= scope.start,
            ManifestEntry.boarded_at < scope.end,
        )
        .group_by(period, Flight.destination)
        .order_by(period)
    )
    return [(str(p), str(k), int(n)) for p, k, n in session.execute(stmt)]


def occupancy(session: Session, on: date, stay_days: int) -> list[tuple[str, str, int, int | None]]:
    """(station code, name, registrations there in the ``stay_days`` up to ``on``, capacity): the people a
    reception station is sheltering, as far as registrations tell (people move on within a few days)."""
    present = (
        select(StatsDaily.station_id, func.sum(StatsDaily.registrations).label("n"))
        .where(StatsDaily.day > on - timedelta(days=stay_days), StatsDaily.day <= on)
        .group_by(StatsDaily.station_id)
        .subquery()
    )
    stmt = (
        select(Station.code, Station.name, func.coalesce(present.c.n, 0), Station.capacity)
        .outerjoin(present, present.c.station_id == Station.id)
        .where(Station.active.is_(True), Station.capacity.is_not(None))
        .order_by(Station.code)
    )
    return [(c, n, int(p), cap) for c, n, p, cap in session.execute(stmt)]


def weekly_arrivals(session: Session, station_id: uuid.UUID | None, by: str) -> list[tuple[str, str, int]]:
    """Every week's registrations since the beginning (for forecasting), per station or nationality."""
    scope = Scope(datetime(1900, 1, 1, tzinfo=UTC), datetime(2999, 1, 1, tzinfo=UTC), station_id)
    return arrivals(session, scope, "week", by)


def stations(session: Session) -> Sequence[Station]:
    return session.execute(select(Station).order_by(Station.code)).scalars().all()


# -- the roll-ups ---------------------------------------------------------------------------------------------------
def _utc_day(session: Session, column: ColumnElement) -> ColumnElement:
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column)  # stored as UTC already
    return func.date(func.timezone("UTC", column))


def _insert(session: Session) -> object:
    return sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert


def _upsert(session: Session, model: type, keys: list[str], counter: str, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), 5000):
        stmt = _insert(session)(model).values(rows[start : start + 5000])  # type: ignore[operator]
        column = getattr(model, counter)
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={counter: column + getattr(stmt.excluded, counter)})
        session.execute(stmt)


def watermark(session: Session) -> StatsWatermark | None:
    return session.get(StatsWatermark, "daily")


def refresh(session: Session, until: datetime) -> int:
    """Add the registrations recorded since the watermark, up to ``until``, to the daily roll-up; recount the
    groups. Returns the registrations added."""
    mark = watermark(session)
    since = mark.recorded_until if mark else datetime(1900, 1, 1, tzinfo=UTC)
    if until <= since:
        return 0
    day = _utc_day(session, Encounter.occurred_at)
    band = age_band(Encounter.occurred_at, Encounter.birth_year)
    nationality = func.coalesce(Encounter.nationality, "???")
    stmt = (
        select(day, Encounter.station_id, nationality, Encounter.sex, band, func.count())
        .where(Encounter.recorded_at > since, Encounter.recorded_at <= until)
        .group_by(day, Encounter.station_id, nationality, Encounter.sex, band)
    )
    rows = [
        {"day": d if isinstance(d, date) else date.fromisoformat(str(d)), "station_id": st, "nationality": nat,
         "sex": sex, "age_band": b, "registrations": int(n)}
        for d, st, nat, sex, b, n in session.execute(stmt)
    ]  # fmt: skip
    _upsert(session, StatsDaily, ["day", "station_id", "nationality", "sex", "age_band"], "registrations", rows)
    _first_registrations(session, since, until)
    if mark is None:
        session.add(StatsWatermark(name="daily", recorded_until=until, refreshed_at=until))
    else:
        mark.recorded_until, mark.refreshed_at = until, until
    session.flush()
    return sum(int(r["registrations"]) for r in rows)


def _first_registrations(session: Session, since: datetime, until: datetime) -> None:
    """Each group in the new registrations: its first day kept at the earliest seen (a station syncing late may
    bring an earlier one), and the daily group counts moved accordingly — work in proportion to what is new."""
    day = _utc_day(session, Encounter.occurred_at)
    stmt = (
        select(Encounter.group_id, func.min(day), TravelGroup.station_id, TravelGroup.kind)
        .join(TravelGroup, TravelGroup.id == Encounter.group_id)
        .where(Encounter.group_id.is_not(None), Encounter.recorded_at > since, Encounter.recorded_at <= until)
        .group_by(Encounter.group_id, TravelGroup.station_id, TravelGroup.kind)
    )
    seen = {
        g: (d if isinstance(d, date) else date.fromisoformat(str(d)), st, k) for g, d, st, k in session.execute(stmt)
    }
    known: dict[uuid.UUID, date] = {}
    ids = list(seen)
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = session.execute(
            select(StatsGroupFirst.group_id, StatsGroupFirst.day).where(StatsGroupFirst.group_id.in_(chunk))
        )
        known.update({g: d for g, d in rows})
    deltas: dict[tuple[date, uuid.UUID, str], int] = {}
    firsts = []
    for group, (first, station, kind) in seen.items():
        old = known.get(group)
        if old is not None and old <= first:
            continue
        if old is not None:
            deltas[(old, station, kind)] = deltas.get((old, station, kind), 0) - 1
        deltas[(first, station, kind)] = deltas.get((first, station, kind), 0) + 1
        firsts.append({"group_id": group, "day": first, "station_id": station, "kind": kind})
    for start in range(0, len(firsts), 5000):
        insert = _insert(session)(StatsGroupFirst).values(firsts[start : start + 5000])  # type: ignore[operator]
        session.execute(insert.on_conflict_do_update(index_elements=["group_id"], set_={"day": insert.excluded.day}))
    rows = [{"day": d, "station_id": st, "kind": k, "groups": n} for (d, st, k), n in deltas.items() if n]
    _upsert(session, StatsGroupsDaily, ["day", "station_id", "kind"], "groups", rows)


def first_registrations(session: Session) -> list[tuple[int, str, str, str, str]]:
    """(year, nationality, sex, age band, station code) of each person's first registration: one row a person."""
    first = (
        select(Encounter.person_id, func.min(Encounter.occurred_at).label("at"))
        .group_by(Encounter.person_id)
        .subquery()
    )
    stmt = (
        select(
            extract("year", Encounter.occurred_at),
            func.coalesce(Encounter.nationality, "???"),
            Encounter.sex,
            age_band(Encounter.occurred_at, Encounter.birth_year),
            Station.code,
            Encounter.person_id,
        )
        .join(first, (first.c.person_id == Encounter.person_id) & (first.c.at == Encounter.occurred_at))
        .join(Station, Station.id == Encounter.station_id)
    )
    seen: set[object] = set()
    out = []
    for year, nationality, sex, band, station, person in session.execute(stmt):
        if person not in seen:  # two registrations at the same first instant: the person counts once
            seen.add(person)
            out.append((int(year), str(nationality), str(sex), str(band), str(station)))
    return out
