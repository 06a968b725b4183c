"""Forecasts: intervals around the mean, a backtest against the (seasonal) naive baseline in the same run, and
capacity warnings from the upper bound."""

from datetime import date, timedelta

import numpy as np

from travesia.statistics import forecast


def weekly(values, key="ERM-A", start=date(2022, 1, 3)):
    return [((start + timedelta(weeks=i)).isoformat(), key, int(v)) for i, v in enumerate(values)]


def test_missing_weeks_are_zero():
    rows = [("2024-01-01", "A", 5), ("2024-01-15", "A", 7)]
    frame = forecast.weekly_frame(rows)
    assert frame["y"].tolist() == [5.0, 0.0, 7.0]


def test_forecast_has_intervals_and_the_model_beats_naive_on_a_seasonal_flow():
    rng = np.random.default_rng(4)
    weeks = np.arange(156)  # three years
    flow = 200 + 120 * np.sin(2 * np.pi * weeks / 52) + rng.normal(0, 12, len(weeks))
    frame = forecast.weekly_frame(weekly(np.clip(flow, 0, None)))
    [made] = forecast.forecast(frame, horizon=8)
    assert len(made.weeks) == 8 and made.weeks[0] > date(2024, 12, 23)
    assert all(lo <= m <= hi for lo, m, hi in zip(made.low, made.mean, made.high, strict=True))
    [test] = forecast.backtest(frame, horizon=8, windows=4)
    assert test.windows == 4 and test.mase_model > 0 and test.mase_baseline > 0
    assert test.beats_baseline, (test.mase_model, test.mase_baseline)


def test_capacity_warnings_come_from_the_upper_bound():
    made = forecast.Forecast("ERM-A", [date(2025, 1, 6), date(2025, 1, 13)], [500, 900], [400, 700], [800, 1500], 80)
    warnings = forecast.capacity_warnings([made], {"ERM-A": 500, "ERM-B": 10}, stay_days=3)
    assert [(w.week, w.expected_present) for w in warnings] == [(date(2025, 1, 13), round(1500 * 3 / 7, 1))]


def test_short_history_is_not_seasonal():
    frame = forecast.weekly_frame(weekly(range(10, 40)))
    [made] = forecast.forecast(frame, horizon=4)
    assert len(made.mean) == 4 and made.mean[0] > 30  # the trend carries on
