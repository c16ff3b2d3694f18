"""Issue 13's findings, replayed as a new user met them: each now loads or says what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import synthetic_frame
from informer.config import DataConfig
from informer.data.loading import load_series
from informer.errors import DataError


def test_a_pandas_counter_index_is_dropped(tmp_path, caplog):
    path = tmp_path / "x.csv"
    synthetic_frame(50, 2).to_csv(path)  # index=True: a first column "Unnamed: 0" of 0..49
    with caplog.at_level("WARNING"):
        series = load_series(DataConfig(data=str(path)))
    assert series.columns == ("a", "b") and "row counter" in caplog.text


def test_a_date_index_is_the_date_column(tmp_path, caplog):
    path = tmp_path / "x.csv"
    synthetic_frame(50, 2).set_index("date").rename_axis(None).to_csv(path)  # header: ",a,b"
    with caplog.at_level("WARNING"):
        series = load_series(DataConfig(data=str(path)))
    assert series.columns == ("a", "b") and series.dates[0] == pd.Timestamp("2021-01-01")
    assert "holds the dates" in caplog.text


def european(tmp_path, rows=30):
    frame = synthetic_frame(rows, 2)
    path = tmp_path / "eu.csv"
    frame.to_csv(path, sep=";", decimal=",", index=False)
    return path, frame


def test_a_european_csv_reads_its_decimal_commas(tmp_path):
    path, frame = european(tmp_path)
    series = load_series(DataConfig(data=str(path)))
    np.testing.assert_allclose(series.values, frame[["a", "b"]].to_numpy())


def test_a_decimal_comma_elsewhere_gets_the_right_advice(tmp_path):
    path = tmp_path / "tab.csv"
    path.write_text("date\tload\n2021-01-01 00:00\t0,5\n2021-01-01 01:00\t1,5\n2021-01-01 02:00\t2,5\n")
    with pytest.raises(DataError, match="holds '0,5', not a number \\(a decimal comma: pass `decimal=,`\\)"):
        load_series(DataConfig(data=str(path)))
    series = load_series(DataConfig(data=str(path), decimal=","))
    assert series.values[:, 0].tolist() == [0.5, 1.5, 2.5]


def test_day_first_dates_get_a_hint_and_load_with_dayfirst(tmp_path):
    path = tmp_path / "d.csv"
    days = pd.date_range("2010-01-01", periods=20, freq="D")
    pd.DataFrame({"date": days.strftime("%d/%m/%Y %H:%M"), "x": range(20)}).to_csv(path, index=False)
    with pytest.raises(DataError, match="look day-first .* `dayfirst=true`"):
        load_series(DataConfig(data=str(path)))
    series = load_series(DataConfig(data=str(path), dayfirst=True))
    assert (series.dates == days).all() and series.freq == "D"


def test_whole_years_are_yearly_timestamps(tmp_path):
    path = tmp_path / "sunspots.csv"
    pd.DataFrame({"year": range(1700, 1760), "spots": np.arange(60.0)}).to_csv(path, index=False)
    series = load_series(DataConfig(data=str(path), date_col="year"))
    assert series.dates[0] == pd.Timestamp("1700-01-01") and series.letter == "a"


@pytest.mark.parametrize("suffix", ["Z", "+00:00"])
def test_utc_stamps_become_naive_utc(tmp_path, suffix, caplog):
    path = tmp_path / "utc.csv"
    stamps = pd.date_range("2021-01-01", periods=10, freq="h").strftime("%Y-%m-%dT%H:%M:%S") + suffix
    pd.DataFrame({"date": stamps, "x": range(10)}).to_csv(path, index=False)
    with caplog.at_level("WARNING"):
        series = load_series(DataConfig(data=str(path)))
    assert series.dates.tz is None and series.dates[0] == pd.Timestamp("2021-01-01") and "UTC" in caplog.text


def test_other_time_zones_are_still_refused(tmp_path):
    path = tmp_path / "tz.csv"
    stamps = pd.date_range("2021-01-01", periods=10, freq="h").strftime("%Y-%m-%dT%H:%M:%S") + "+02:00"
    pd.DataFrame({"date": stamps, "x": range(10)}).to_csv(path, index=False)
    with pytest.raises(DataError, match="time zone"):
        load_series(DataConfig(data=str(path)))


def test_a_declared_freq_that_disagrees_is_an_error(tmp_path):
    path = tmp_path / "yearly.csv"
    dates = pd.date_range("1990-01-01", periods=30, freq="YS")
    pd.DataFrame({"date": dates, "x": range(30)}).to_csv(path, index=False)
    with pytest.raises(DataError, match="`freq` 'MS' disagrees with the timestamps, which step by YS"):
        load_series(DataConfig(data=str(path), freq="MS"))
    assert load_series(DataConfig(data=str(path), freq="YS")).freq == "YS-JAN"


def test_time_freq_picks_other_time_features():
    series = load_series(DataConfig(data="ETTm1", time_freq="h"))
    assert series.freq == "15min" and series.letter == "h"
    with pytest.raises(DataError, match="disagrees"):
        load_series(DataConfig(data="ETTm1", freq="h"))


def test_a_pandas_index_in_a_daylight_saving_zone_is_one_line(tmp_path):
    path = tmp_path / "berlin.csv"
    index = pd.date_range("2021-03-27", periods=48, freq="h", tz="Europe/Berlin")
    pd.DataFrame({"x": range(48)}, index=index).to_csv(path)
    with pytest.raises(DataError, match="mix time-zone offsets"):
        load_series(DataConfig(data=str(path)))


def test_a_year_index_is_the_date_column(tmp_path):
    path = tmp_path / "years.csv"
    pd.DataFrame({"spots": np.arange(40.0)}, index=range(1900, 1940)).to_csv(path)
    series = load_series(DataConfig(data=str(path)))
    assert series.columns == ("spots",) and series.dates[0] == pd.Timestamp("1900-01-01")


def test_a_latin1_semicolon_file_is_read(tmp_path):
    path = tmp_path / "latin.csv"
    lines = ["date;temperatur;ort"] + [f"2021-01-01 {h:02d}:00;{h},5;Köln" for h in range(24)]
    path.write_bytes("\n".join(lines).encode("latin-1"))
    series = load_series(DataConfig(data=str(path), cols=("temperatur",)))
    assert series.values[1, 0] == 1.5


def test_a_wrong_freq_is_caught_despite_gaps(tmp_path):
    path = tmp_path / "gappy.csv"
    dates = pd.date_range("2021-01-01", periods=50, freq="h").delete(10)
    pd.DataFrame({"date": dates, "x": range(49)}).to_csv(path, index=False)
    with pytest.raises(DataError, match="disagrees with the timestamps, which step by h"):
        load_series(DataConfig(data=str(path), freq="15min"))


def test_dates_that_read_both_ways_take_the_regular_reading(tmp_path, caplog):
    path = tmp_path / "monthly.csv"
    months = pd.date_range("2010-01-01", periods=36, freq="MS")  # 01/01, 01/02, ...: every day <= 12
    pd.DataFrame({"date": months.strftime("%d/%m/%Y"), "x": range(36)}).to_csv(path, index=False)
    with caplog.at_level("WARNING"):
        series = load_series(DataConfig(data=str(path)))
    assert (series.dates == months).all() and series.freq == "MS" and "day-first" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        american = load_series(DataConfig(data=str(_write(tmp_path, months.strftime("%m/%d/%Y")))))
    assert (american.dates == months).all() and "month-first" in caplog.text


def _write(tmp_path, stamps):
    path = tmp_path / "us.csv"
    pd.DataFrame({"date": stamps, "x": range(len(stamps))}).to_csv(path, index=False)
    return path


def test_a_counter_index_with_holes_is_dropped_too(tmp_path):
    path = tmp_path / "x.csv"
    frame = synthetic_frame(50, 2)
    frame.iloc[::7, 1] = np.nan
    frame.dropna().to_csv(path)  # the index keeps its holes
    assert load_series(DataConfig(data=str(path))).columns == ("a", "b")


def test_a_missing_value_code_is_refused_or_filled(tmp_path):
    import numpy as np

    from helpers import synthetic_frame
    from informer.config import DataConfig
    from informer.data.loading import load_series
    from informer.errors import DataError

    frame = synthetic_frame(n=120, columns=3)
    frame.loc[40, "b"] = -9999
    frame.loc[41, "b"] = -9999
    path = tmp_path / "logger.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(DataError, match=r"logger.csv, line 42: column 'b' holds -9999, a missing-value code .*"
                                        r"2 such cells.*`fill=interpolate`"):
        load_series(DataConfig(data=str(path)))
    series = load_series(DataConfig(data=str(path), fill="interpolate"))
    b = series.values[:, series.columns.index("b")]
    assert np.isfinite(b).all() and b.min() > -100
    np.testing.assert_allclose(b[40:42], np.linspace(b[39], b[42], 4)[1:3])


def test_a_legitimate_large_value_is_not_a_missing_code(tmp_path):
    from helpers import synthetic_frame
    from informer.config import DataConfig
    from informer.data.loading import load_series

    frame = synthetic_frame(n=120, columns=2)
    frame["b"] = frame["b"] * 1000 + 9000  # a series that passes through 9999 is fine
    frame.loc[10, "b"] = 9999.0
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    assert load_series(DataConfig(data=str(path))).values[10, 1] == 9999.0


def test_the_bundled_weather_set_is_read_as_published_with_warnings(caplog):
    from informer.config import DataConfig
    from informer.data.loading import load_series

    with caplog.at_level("WARNING", logger="informer"):
        series = load_series(DataConfig(data="weather"))
    text = caplog.text
    assert "1 repeated or backward timestamps kept" in text
    assert "81 cells hold -9999" in text
    assert "gap(s) in the timestamps kept" in text
    assert (series.values == -9999).sum() == 81 and len(series) == 52696
