import numpy as np
import pandas as pd
import pytest

from informer.data.timefeatures import (
    calendar_fields,
    continuous_time_features,
    time_marks,
    timef_names,
    timef_width,
)


def test_hourly_features_by_hand():
    # 2016-07-01 is a Friday (weekday 4) and day 183 of the leap year 2016
    dates = pd.DatetimeIndex(["2016-07-01 00:00", "2016-12-31 23:00"])
    got = continuous_time_features(dates, "h")
    expected = [
        [0 / 23 - 0.5, 4 / 6 - 0.5, 0 / 30 - 0.5, 182 / 365 - 0.5],
        [23 / 23 - 0.5, 5 / 6 - 0.5, 30 / 30 - 0.5, 365 / 365 - 0.5],
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert got.dtype == np.float32
    assert timef_names("h") == ["hour_of_day", "day_of_week", "day_of_month", "day_of_year"]


def test_minutely_adds_minute_of_hour_first():
    dates = pd.DatetimeIndex(["2016-07-01 00:15", "2016-07-01 13:59"])
    got = continuous_time_features(dates, "t")
    assert got.shape == (2, 5)
    np.testing.assert_allclose(got[:, 0], [15 / 59 - 0.5, 59 / 59 - 0.5], rtol=1e-6)
    np.testing.assert_allclose(got[:, 1], [0 / 23 - 0.5, 13 / 23 - 0.5], rtol=1e-6)


def test_secondly_adds_second_of_minute():
    got = continuous_time_features(pd.DatetimeIndex(["2020-01-01 00:00:30"]), "s")
    assert got.shape == (1, 6)
    np.testing.assert_allclose(got[0, :2], [30 / 59 - 0.5, -0.5], rtol=1e-6)


def test_daily_business_weekly_monthly_yearly():
    day = pd.DatetimeIndex(["2021-03-01"])  # Monday, day 60
    np.testing.assert_allclose(continuous_time_features(day, "d"), [[-0.5, -0.5, 59 / 365 - 0.5]], rtol=1e-6)
    np.testing.assert_allclose(continuous_time_features(day, "b"), continuous_time_features(day, "d"))
    sunday = pd.DatetimeIndex(["2021-01-03"])  # ISO week 53 of 2020
    np.testing.assert_allclose(continuous_time_features(sunday, "w"), [[2 / 30 - 0.5, 52 / 52 - 0.5]], rtol=1e-6)
    december = pd.DatetimeIndex(["2021-12-31"])
    np.testing.assert_allclose(continuous_time_features(december, "m"), [[0.5]])
    assert continuous_time_features(december, "a").shape == (1, 0)


@pytest.mark.parametrize("letter,width", [("s", 6), ("t", 5), ("h", 4), ("d", 3), ("b", 3), ("w", 2), ("m", 1)])
def test_widths_and_range(letter, width):
    dates = pd.date_range("2019-12-25", periods=500, freq="37min")
    got = continuous_time_features(dates, letter)
    assert got.shape == (500, width) == (500, timef_width(letter))
    assert got.min() >= -0.5 and got.max() <= 0.5


def test_calendar_fields():
    dates = pd.DatetimeIndex(["2016-07-01 00:45", "2017-12-31 23:14"])
    np.testing.assert_array_equal(calendar_fields(dates), [[7, 1, 4, 0, 3], [12, 31, 6, 23, 0]])
    marks = time_marks(dates, "h", "fixed")
    assert marks.dtype == np.float32 and marks.shape == (2, 5)
    assert time_marks(dates, "h", "timeF").shape == (2, 4)
