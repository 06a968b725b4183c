"""Forecasts of weekly arrivals with prediction intervals (statsforecast), a rolling-origin backtest against the
seasonal-naive forecast in the same run (MASE), and the capacity warning.

With two years of history the model is MSTL (the yearly season taken out by STL, the rest forecast by AutoETS):
ETS itself cannot hold a 52-week season, and tried alone it lost to seasonal naive on a seasonal flow. With less
history there is no season to estimate: AutoETS on the series, against the plain naive forecast. Weeks without
registrations count as zero."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

MODEL, BASELINE = "model", "baseline"
YEAR = 52


@dataclass(frozen=True)
class Forecast:
    key: str
    weeks: list[date]
    mean: list[float]
    low: list[float]
    high: list[float]
    level: int


@dataclass(frozen=True)
class Backtest:
    key: str
    mase_model: float
    mase_baseline: float
    windows: int

    @property
    def beats_baseline(self) -> bool:
        return self.mase_model < self.mase_baseline


def weekly_frame(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """(week as ISO date, key, count) → one row per key and week, missing weeks filled with zeros."""
    if not rows:
        return pd.DataFrame(columns=["unique_id", "ds", "y"])
    raw = pd.DataFrame(rows, columns=["ds", "unique_id", "y"])
    raw["ds"] = pd.to_datetime(raw["ds"])
    raw = raw.groupby(["unique_id", "ds"], as_index=False)["y"].sum()
    weeks = pd.date_range(raw["ds"].min(), raw["ds"].max(), freq="W-MON")
    full = pd.MultiIndex.from_product([sorted(raw["unique_id"].unique()), weeks], names=["unique_id", "ds"])
    frame = raw.set_index(["unique_id", "ds"]).reindex(full, fill_value=0).reset_index()
    frame["y"] = frame["y"].astype(float)
    return frame


def _season(frame: pd.DataFrame) -> int:
    shortest = frame.groupby("unique_id").size().min() if len(frame) else 0
    return YEAR if shortest >= 2 * YEAR else 1


def model_name(season: int) -> str:
    return "MSTL + AutoETS" if season > 1 else "AutoETS"


def _forecaster(season: int) -> object:
    # statsforecast (with statsmodels and numba) takes over a second to import: imported when a forecast is made,
    # not when a web or worker process starts (uvicorn gives a new web process 5 s to answer its first ping).
    from statsforecast import StatsForecast

    return StatsForecast(models=_models(season), freq="W-MON", n_jobs=1)


def _models(season: int) -> list[object]:
    from statsforecast.models import MSTL, AutoETS, Naive, SeasonalNaive

    if season > 1:
        model = MSTL(season_length=season, trend_forecaster=AutoETS(model="ZZN"), alias=MODEL)
        return [model, SeasonalNaive(season_length=season, alias=BASELINE)]
    return [AutoETS(season_length=1, alias=MODEL), Naive(alias=BASELINE)]


def forecast(frame: pd.DataFrame, horizon: int, level: int = 80) -> list[Forecast]:
    if frame.empty:
        return []
    season = _season(frame)
    sf: Any = _forecaster(season)
    out = sf.forecast(df=frame, h=horizon, level=[level])
    result = []
    for key, part in out.groupby("unique_id"):
        part = part.sort_values("ds")
        result.append(
            Forecast(
                key=str(key),
                weeks=[d.date() for d in part["ds"]],
                mean=[max(0.0, float(v)) for v in part[MODEL]],
                low=[max(0.0, float(v)) for v in part[f"{MODEL}-lo-{level}"]],
                high=[max(0.0, float(v)) for v in part[f"{MODEL}-hi-{level}"]],
                level=level,
            )
        )
    return result


def backtest(frame: pd.DataFrame, horizon: int, windows: int = 4) -> list[Backtest]:
    """Rolling-origin backtest: ``windows`` cut-offs, ``horizon`` weeks ahead each; MASE scaled by the in-sample
    error of the seasonal-naive (or naive) forecast, for the model and the baseline alike."""
    if frame.empty:
        return []
    season = _season(frame)
    sf: Any = _forecaster(season)
    lengths = frame.groupby("unique_id").size()
    usable = lengths[lengths >= horizon * windows + max(2 * season, 8)].index
    frame = frame[frame["unique_id"].isin(usable)]
    if frame.empty:
        return []
    cv = sf.cross_validation(df=frame, h=horizon, n_windows=windows, step_size=horizon)
    results = []
    for key, part in cv.groupby("unique_id"):
        history = frame[frame["unique_id"] == key].sort_values("ds")["y"].to_numpy()
        first_cutoff = part["cutoff"].min()
        train = frame[(frame["unique_id"] == key) & (frame["ds"] <= first_cutoff)]["y"].to_numpy()
        scale = np.mean(np.abs(train[season:] - train[:-season])) if len(train) > season else np.nan
        if not scale or np.isnan(scale):
            scale = np.mean(np.abs(np.diff(history))) or 1.0
        results.append(
            Backtest(
                key=str(key),
                mase_model=float(np.mean(np.abs(part["y"] - part[MODEL])) / scale),
                mase_baseline=float(np.mean(np.abs(part["y"] - part[BASELINE])) / scale),
                windows=windows,
            )
        )
    return results


@dataclass(frozen=True)
class Warning:
    station: str
    week: date
    expected_present: float
    capacity: int


def capacity_warnings(forecasts: list[Forecast], capacities: dict[str, int], stay_days: int) -> list[Warning]:
    """Weeks where the upper bound of a station's forecast, turned into people present (arrivals per week ×
    days they stay ÷ 7), exceeds its capacity: time to prepare (IOM's emergency preparedness)."""
    out = []
    for f in forecasts:
        cap = capacities.get(f.key)
        if cap is None:
            continue
        for week, high in zip(f.weeks, f.high, strict=True):
            present = high * stay_days / 7
            if present > cap:
                out.append(Warning(f.key, week, round(present, 1), cap))
    return out


def next_monday(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7 or 7)
