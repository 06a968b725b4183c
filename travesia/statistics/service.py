"""Statistics use cases: the dashboard's charts (each with its table for CSV), occupancy against capacity, weekly
forecasts with their backtest and capacity warnings, and the headline figures. Aggregates only: no personal data
leaves here, but reading them is still audited."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import distinct, extract, func, select
from sqlalchemy.orm import Session

from travesia.audit import service as audit
from travesia.core import pdf
from travesia.core.errors import N_, InvalidInput, NotFound, RuleProblem
from travesia.core.principal import Principal
from travesia.models import Alert, Encounter
from travesia.protection.schemas import CLAIM_STATE_LABELS, FLAG_LABELS, REFERRAL_KIND_LABELS
from travesia.screening.schemas import ALERT_KIND_LABELS, ALERT_STATE_LABELS
from travesia.stations import service as stations
from travesia.statistics import charts, forecast, repository
from travesia.statistics import release as release_

STAY_DAYS = 3  # a reception station shelters people for about three days before they move on (the seeds)
# The roll-up reads registrations recorded at least this long ago, so that one committing while it runs (with an
# earlier recorded_at) is never skipped.
LAG = timedelta(minutes=1)


def refresh(session: Session, until: datetime | None = None) -> int:
    """Bring the dashboard's roll-ups up to date (the pipeline's sweep calls this every minute)."""
    return repository.refresh(session, until or datetime.now(UTC) - LAG)


def as_of(session: Session) -> datetime | None:
    mark = repository.watermark(session)
    return mark.recorded_until if mark else None


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    station: str | None = None
    grain: str = "week"


def default_filters(today: date) -> Filters:
    return Filters(start=today - timedelta(days=364), end=today)


@dataclass
class Chart:
    id: str
    title: str
    svg: str
    table: charts.Table


CHARTS: dict[str, tuple[str, Callable[..., list[tuple[str, str, int]]]]] = {
    "arrivals_station": (N_("Arrivals by station"), lambda s, sc, g: repository.arrivals(s, sc, g, "station")),
    "arrivals_nationality": (
        N_("Arrivals by nationality"),
        lambda s, sc, g: repository.arrivals(s, sc, g, "nationality"),
    ),
    "arrivals_sex": (N_("Arrivals by sex"), lambda s, sc, g: repository.arrivals(s, sc, g, "sex")),
    "arrivals_age": (N_("Arrivals by age band"), lambda s, sc, g: repository.arrivals(s, sc, g, "age_band")),
    "groups": (N_("Families and travelling groups"), repository.groups),
    "children_alone": (N_("Children alone (unaccompanied or separated)"), repository.children_alone),
    "alerts": (N_("Alerts by kind and outcome"), repository.alerts),
    "referrals": (N_("Protection referrals"), repository.referrals),
    "claims": (N_("Asylum claims by state"), repository.claims),
    "repatriations": (N_("Repatriations boarded, by destination"), repository.repatriations),
}


def _scope(session: Session, filters: Filters) -> repository.Scope:
    if filters.grain not in repository.GRAINS:
        raise InvalidInput(N_("Choose day, week or month."), field="grain")
    if filters.end < filters.start:
        raise InvalidInput(N_("The period ends before it starts."), field="end")
    station_id = None
    if filters.station:
        station = stations.station_by_code(session, filters.station)
        if station is None:
            raise NotFound(N_("No station with code %(code)s."), field="station", code=filters.station)
        station_id = station.id
    start = datetime.combine(filters.start, datetime.min.time(), UTC)
    end = datetime.combine(filters.end + timedelta(days=1), datetime.min.time(), UTC)
    return repository.Scope(start, end, station_id)


# The charts' series in words (the table and its CSV keep the codes, which programs read).
SERIES_LABELS: dict[str, dict[str, str]] = {
    "arrivals_sex": {"F": N_("women and girls"), "M": N_("men and boys"), "X": N_("sex not recorded")},
    "groups": {"family": N_("families"), "travelling": N_("travelling groups")},
    "children_alone": FLAG_LABELS,
    "referrals": REFERRAL_KIND_LABELS,
    "claims": CLAIM_STATE_LABELS,
}


def series_label(chart_id: str, key: str, translate: Callable[[str], str]) -> str:
    if key == "other":
        return translate(N_("other"))
    if chart_id == "alerts" and ":" in key:
        kind, state = key.split(":", 1)
        words = {
            "kind": translate(ALERT_KIND_LABELS.get(kind, kind)),
            "state": translate(ALERT_STATE_LABELS.get(state, state)),
        }
        return translate(N_("%(kind)s, %(state)s")) % words
    label = SERIES_LABELS.get(chart_id, {}).get(key)
    return translate(label) if label else key


def chart(session: Session, chart_id: str, filters: Filters, translate: Callable[[str], str] = str) -> Chart:
    if chart_id not in CHARTS:
        raise NotFound(N_("No such chart."), field="chart")
    title, query = CHARTS[chart_id]
    rows = query(session, _scope(session, filters), filters.grain)
    periods, series = charts.pivot(rows)
    words = {series_label(chart_id, key, translate): counts for key, counts in series.items()}
    svg = charts.columns(translate(title), periods, words, translate(N_("No data for this period.")))
    return Chart(chart_id, translate(title), svg, charts.table(periods, series))


def occupancy(session: Session, on: date, translate: Callable[[str], str] = str) -> Chart:
    rows = repository.occupancy(session, on, STAY_DAYS)
    title = translate(N_("People present against capacity"))
    items = [(code, present, cap or 0) for code, _, present, cap in rows]
    table = charts.Table(["station", "present", "capacity"], [[c, p, cap] for c, p, cap in items])
    return Chart("occupancy", title, charts.capacity_bars(title, items), table)


def dashboard(
    session: Session, principal: Principal, filters: Filters, translate: Callable[[str], str] = str
) -> list[Chart]:
    out = [chart(session, chart_id, filters, translate) for chart_id in CHARTS]
    out.insert(0, occupancy(session, filters.end, translate))
    audit.record(
        session, principal, "statistics.dashboard", details={"station": filters.station or "", "grain": filters.grain}
    )
    return out


def csv_of(table: charts.Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return out.getvalue()


def png_of(made: Chart) -> bytes:
    return charts.png(made.svg)


# -- forecasts --------------------------------------------------------------------------------------------------------
@dataclass
class ForecastView:
    forecasts: list[forecast.Forecast]
    backtests: list[forecast.Backtest]
    warnings: list[forecast.Warning]
    chart: Chart


def forecasts(session: Session, principal: Principal, by: str = "station", horizon: int = 8,
              translate: Callable[[str], str] = str) -> ForecastView:  # fmt: skip
    if by not in ("station", "nationality"):
        raise InvalidInput(N_("Forecast by station or by nationality."), field="by")
    if not 1 <= horizon <= 8:
        raise InvalidInput(N_("Forecast one to eight weeks ahead."), field="horizon")
    frame = forecast.weekly_frame(repository.weekly_arrivals(session, None, by))
    made = forecast.forecast(frame, horizon)
    tests = forecast.backtest(frame, horizon)
    capacities = {s.code: s.capacity for s in repository.stations(session) if s.capacity} if by == "station" else {}
    warnings = forecast.capacity_warnings(made, capacities, STAY_DAYS)
    title = translate(N_("Weekly arrivals: the last year and the forecast"))
    history = frame[frame["ds"] >= frame["ds"].max() - timedelta(weeks=52)] if not frame.empty else frame
    weeks = sorted({d.date() for d in history["ds"]}) + (made[0].weeks if made else [])
    series: dict[str, list[float]] = {}
    bands: dict[str, tuple[list[float], list[float]]] = {}
    for f in sorted(made, key=lambda f: -sum(f.mean))[: charts.MAX_SERIES]:
        past = history[history["unique_id"] == f.key].sort_values("ds")["y"].tolist()
        series[f.key] = past + f.mean
        bands[f.key] = (f.low, f.high)
    labels = [w.isoformat() for w in weeks]
    svg = charts.lines(title, labels, series, bands)
    table = charts.Table(
        ["key", "week", "mean", f"low_{made[0].level if made else 80}", f"high_{made[0].level if made else 80}"],
        [[f.key, w.isoformat(), round(m, 1), round(lo, 1), round(hi, 1)]
         for f in made for w, m, lo, hi in zip(f.weeks, f.mean, f.low, f.high, strict=True)],
    )  # fmt: skip
    audit.record(session, principal, "statistics.forecast", details={"by": by, "horizon": horizon})
    return ForecastView(made, tests, warnings, Chart("forecast", title, svg, table))


# -- headline figures -------------------------------------------------------------------------------------------------
def headline(session: Session) -> dict[str, object]:
    year = extract("year", Encounter.occurred_at)
    years = dict(session.execute(select(year, func.count(distinct(Encounter.person_id))).group_by(year)).all())
    return {
        "registrations": session.execute(select(func.count()).select_from(Encounter)).scalar_one(),
        "persons": session.execute(select(func.count(distinct(Encounter.person_id)))).scalar_one(),
        "persons_by_year": {int(y): int(n) for y, n in sorted(years.items())},
        "alerts": session.execute(select(func.count()).select_from(Alert)).scalar_one(),
        "alerts_confirmed": session.execute(select(func.count()).where(Alert.state == "confirmed")).scalar_one(),
    }


# -- public release ---------------------------------------------------------------------------------------------------
def public_release(
    session: Session, principal: Principal, epsilon: float = release_.DEFAULT_EPSILON,
    threshold: int = release_.DEFAULT_THRESHOLD,
) -> release_.Release:  # fmt: skip
    people = repository.first_registrations(session)
    tables = {
        "persons_by_year_nationality": (["year", "nationality"], Counter((y, n) for y, n, _, _, _ in people)),
        "persons_by_year_sex_age": (["year", "sex", "age_band"], Counter((y, s, b) for y, _, s, b, _ in people)),
        "persons_by_year_station": (["year", "station"], Counter((y, st) for y, _, _, _, st in people)),
    }
    try:
        made = release_.release(tables, epsilon, threshold)
    except RuleProblem as problem:
        raise InvalidInput(problem.message, field="epsilon", **problem.params) from None
    details = {"epsilon": epsilon, "threshold": threshold, "spent": made.spent, "tables": len(made.tables)}
    audit.record(session, principal, "statistics.release", details=details)
    return made


def write_release(made: release_.Release, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in made.tables:
        path = folder / f"{table.name}.csv"
        path.write_text(csv_of(charts.Table(table.columns, table.rows)), encoding="utf-8")
        written.append(path)
    report = folder / "release.pdf"
    report.write_bytes(release_pdf(made))
    written.append(report)
    return written


def release_pdf(made: release_.Release) -> bytes:
    doc = pdf.document("Public release")
    doc.set_font("helvetica", "B", 14)
    doc.cell(0, 8, "Persons in transit - public release", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("helvetica", size=9)
    method = (
        f"Counts of persons (each person counted once, at their first registration), protected by differential "
        f"privacy: discrete Laplace noise (OpenDP), total privacy budget epsilon = {made.epsilon:g} "
        f"(spent {made.spent:.4f}, split equally over {len(made.tables)} tables), then cells under {made.threshold} "
        f"shown as '<{made.threshold}'. Figures are noisy by design and need not add up."
    )
    doc.multi_cell(0, 5, method)
    for table in made.tables:
        doc.ln(3)
        doc.set_font("helvetica", "B", 11)
        doc.cell(0, 7, table.name.replace("_", " "), new_x="LMARGIN", new_y="NEXT")
        doc.set_font("helvetica", size=8)
        width = 180 / len(table.columns)
        for column in table.columns:
            doc.cell(width, 5, column, border=1)
        doc.ln()
        for row in table.rows:
            for value in row:
                doc.cell(width, 5, pdf.latin(value), border=1)
            doc.ln()
    return pdf.output(doc)
