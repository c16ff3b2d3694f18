import logging

import pandas as pd
import pytest

from informer.data.frequency import future_dates, infer_freq, paper_letter, parse_freq
from informer.errors import ConfigError, DataError


@pytest.mark.parametrize(
    "text,alias,letter",
    [
        ("h", "h", "h"), ("H", "h", "h"), ("1h", "h", "h"), ("2h", "2h", "h"),
        ("t", "min", "t"), ("T", "min", "t"), ("15t", "15min", "t"), ("15min", "15min", "t"), ("15T", "15min", "t"),
        ("s", "s", "s"), ("30s", "30s", "s"),
        ("d", "D", "d"), ("D", "D", "d"), ("b", "B", "b"), ("w", "W-SUN", "w"), ("W-MON", "W-MON", "w"),
        ("ME", "ME", "m"), ("MS", "MS", "m"), ("m", "ME", "m"), ("a", "YE-DEC", "a"),
    ],
)  # fmt: skip
def test_parse_freq_accepts_pandas_and_paper_spellings(text, alias, letter):
    assert parse_freq(text) == alias
    assert paper_letter(parse_freq(text)) == letter


def test_month_letter_follows_the_dates():
    starts = pd.date_range("2020-01-01", periods=5, freq="MS")
    assert parse_freq("m", starts) == "MS"
    assert parse_freq("m", pd.date_range("2020-01-31", periods=5, freq="ME")) == "ME"


@pytest.mark.parametrize("text", ["fortnightly", "", "3x", "h2"])
def test_unknown_frequency(text):
    with pytest.raises(ConfigError, match="unknown frequency"):
        parse_freq(text)


@pytest.mark.parametrize("freq,expected", [("h", "h"), ("15min", "15min"), ("D", "D"), ("B", "B"), ("MS", "MS")])
def test_infer_regular(freq, expected):
    assert infer_freq(pd.date_range("2021-01-01", periods=40, freq=freq)) == expected


def test_infer_with_a_gap_uses_the_usual_step_and_warns(caplog):
    dates = pd.date_range("2021-01-01", periods=50, freq="10min").delete([20, 21])
    with caplog.at_level(logging.WARNING):
        assert infer_freq(dates, source="gappy.csv") == "10min"
    assert "gappy.csv" in caplog.text and "1 of 47 steps" in caplog.text


def test_infer_needs_some_rows():
    with pytest.raises(DataError, match="at least 3"):
        infer_freq(pd.DatetimeIndex(["2021-01-01", "2021-01-02"]))


def test_future_dates_continue_the_frequency():
    got = future_dates(pd.Timestamp("2021-01-31 23:45"), "15min", 3)
    assert list(got) == list(pd.to_datetime(["2021-02-01 00:00", "2021-02-01 00:15", "2021-02-01 00:30"]))
    assert list(future_dates(pd.Timestamp("2021-01-29"), "B", 2)) == list(pd.to_datetime(["2021-02-01", "2021-02-02"]))


def test_daily_data_with_gaps_stays_daily():
    dates = pd.date_range("2021-01-01", periods=60, freq="D").delete([10, 11, 30])
    assert infer_freq(dates) == "D" and paper_letter("D") == "d"
    weekly = pd.date_range("2021-01-03", periods=30, freq="W").delete([5])
    assert paper_letter(infer_freq(weekly)) in ("w", "d")
