import numpy as np
import pandas as pd
import pytest

from helpers import synthetic_frame
from informer.config import DataConfig
from informer.data.loading import load_series
from informer.data.pipeline import prepare
from informer.errors import ConfigError, DataError


def load(path, **kwargs):
    return load_series(DataConfig(data=path, **kwargs))


def test_custom_csv_puts_the_target_last_and_infers_the_frequency(write_csv):
    frame = synthetic_frame(300, 3, freq="15min")[["date", "c", "a", "b"]]
    series = load(write_csv(frame), target="a")
    assert series.columns == ("c", "b", "a") and series.target == "a"
    assert series.freq == "15min" and series.letter == "t" and series.split == "ratio"
    np.testing.assert_array_equal(series.values[:, 2], frame["a"].to_numpy())


def test_default_target_is_the_last_column(write_csv):
    series = load(write_csv(synthetic_frame(50, 3)))
    assert series.target == "c" and series.columns == ("a", "b", "c")


@pytest.mark.parametrize("features,columns", [("M", ("a", "c", "b")), ("MS", ("a", "c", "b")), ("S", ("b",))])
def test_feature_modes(write_csv, features, columns):
    series = load(write_csv(synthetic_frame(50, 3)), features=features, target="b")
    assert series.columns == columns


def test_cols_choose_a_subset(write_csv):
    series = load(write_csv(synthetic_frame(50, 4)), cols=("d", "a"), target="d")
    assert series.columns == ("a", "d")


def test_daily_and_other_date_column(write_csv):
    frame = synthetic_frame(120, 2, freq="D").rename(columns={"date": "day"})
    series = load(write_csv(frame), date_col="day")
    assert series.freq == "D" and series.letter == "d"


def test_freq_override_accepts_paper_letters(write_csv):
    series = load(write_csv(synthetic_frame(50, 2, freq="15min")), freq="15t")
    assert series.freq == "15min"


def test_bom_and_semicolons_are_read(write_csv):
    frame = synthetic_frame(40, 2)
    text = frame.to_csv(index=False, sep=";")
    series = load(write_csv(b"\xef\xbb\xbf" + text.encode()))
    assert series.columns == ("a", "b") and len(series) == 40


def test_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "series.parquet"
    synthetic_frame(60, 2).to_parquet(path)
    series = load(str(path))
    assert len(series) == 60 and series.freq == "h"


@pytest.mark.parametrize("fill", ["ffill", "interpolate"])
def test_fill_repairs_missing_and_infinite_values(write_csv, fill):
    frame = synthetic_frame(30, 2)
    frame.loc[0, "a"] = np.nan
    frame.loc[5, "a"] = np.nan
    frame.loc[6, "b"] = np.inf
    series = load(write_csv(frame), fill=fill)
    assert np.isfinite(series.values).all()
    if fill == "ffill":
        assert series.values[5, 0] == frame.loc[4, "a"]
        assert series.values[0, 0] == frame.loc[1, "a"]  # a leading gap takes the first value
    else:
        assert series.values[5, 0] == pytest.approx((frame.loc[4, "a"] + frame.loc[6, "a"]) / 2)


# --- bad input: one case each, with the words the message must contain ------------------------


def text_file(lines):
    return "\n".join(lines) + "\n"


GOOD_HEAD = ["date,a,b", "2021-01-01 00:00,1,2", "2021-01-01 01:00,2,3"]
TAIL = [f"2021-01-01 {h:02d}:00,{h},{h + 1}" for h in range(2, 24)]

BAD_FILES = {
    "empty file": ("", "empty"),
    "header only": ("date,a,b\n", "no data rows"),
    "no date column": (text_file(["time,a", "2021-01-01 00:00,1"]), "`date_col="),
    "unparseable date": (text_file(GOOD_HEAD + ["yesterday,3,4"] + TAIL), "line 4"),
    "mixed date formats": (text_file(GOOD_HEAD + ["01/01/2021 02:00,3,4"] + TAIL), "line 4"),
    "empty date": (text_file(GOOD_HEAD + [",3,4"] + TAIL), "line 4"),
    "numeric dates": (text_file(["date,a", "1,2", "2,3", "3,4"]), "numbers"),
    "time-zone-aware dates": (
        text_file(["date,a", "2021-01-01 00:00+01:00,1", "2021-01-01 01:00+01:00,2", "2021-01-01 02:00+01:00,3"]),
        "time zone",
    ),
    "mixed time zones": (
        text_file(["date,a", "2021-01-01 00:00+01:00,1", "2021-01-01 01:00+02:00,2", "2021-01-01 02:00+01:00,3"]),
        "date column",
    ),
    "duplicate timestamp": (text_file(GOOD_HEAD + ["2021-01-01 01:00,3,4"] + TAIL), "duplicate timestamp"),
    "decreasing timestamp": (
        text_file(GOOD_HEAD + ["2021-01-01 00:30,3,4"] + TAIL),
        "earlier than the one before",
    ),
    "text in a numeric column": (text_file(GOOD_HEAD + ["2021-01-01 02:00,oops,4"] + TAIL[1:]), "'oops'"),
    "NaN values": (text_file(GOOD_HEAD + ["2021-01-01 02:00,,4"] + TAIL[1:]), "`fill="),
    "infinite values": (text_file(GOOD_HEAD + ["2021-01-01 02:00,inf,4"] + TAIL[1:]), "infinite"),
    "duplicate column names": (text_file(["date,a,a", "2021-01-01 00:00,1,2"]), "more than once"),
    "only a date column": (text_file(["date", "2021-01-01 00:00", "2021-01-01 01:00"]), "no value columns"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_name_the_problem(write_csv, case):
    content, words = BAD_FILES[case]
    path = write_csv(content)
    with pytest.raises(DataError) as error:
        load(path)
    message = str(error.value)
    assert words in message
    assert path in message  # the file is named
    assert "\n" not in message  # one line


def test_unknown_target_and_columns(write_csv):
    path = write_csv(synthetic_frame(50, 2))
    with pytest.raises(DataError, match="unknown target column 'zz'"):
        load(path, target="zz")
    with pytest.raises(DataError, match="unknown column 'zz'"):
        load(path, cols=("a", "zz"))
    with pytest.raises(DataError, match="not among the `cols`"):
        load(path, cols=("a",), target="b")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load(str(tmp_path / "absent.csv"))
    with pytest.raises(DataError, match="is a directory"):
        load(str(tmp_path))


def test_nan_message_counts_and_locates(write_csv):
    frame = synthetic_frame(30, 2)
    frame.loc[[7, 9], "b"] = np.nan
    frame.loc[12, "a"] = np.nan
    with pytest.raises(DataError, match=r"3 missing or infinite values, the first in column 'b' on line 9"):
        load(write_csv(frame))


def test_fill_cannot_invent_a_whole_column(write_csv):
    frame = synthetic_frame(30, 2)
    frame["b"] = np.nan
    with pytest.raises(DataError, match="column 'b' has no finite values"):
        load(write_csv(frame), fill="ffill")


def test_too_short_for_the_windows(write_csv):
    path = write_csv(synthetic_frame(100, 2))
    # 100 rows: train 70, val 10, test 20; a 24-step horizon does not fit in val
    with pytest.raises(DataError, match="val 10 .* no seq_len fits: use a shorter `pred_len`"):
        prepare(DataConfig(data=path, seq_len=24, label_len=12, pred_len=24))


def test_length_errors_say_what_fits(write_csv):
    """Issue 13, finding 5: no negative rows; the rows each split has, the rows needed, the longest seq_len."""
    path = write_csv(synthetic_frame(200, 2))
    with pytest.raises(DataError) as caught:
        prepare(DataConfig(data=path, seq_len=150, label_len=12, pred_len=6))
    message = str(caught.value)
    assert "train 140, val 20 and test 40 rows of 200" in message
    assert "seq_len + pred_len = 156 train rows" in message and "the longest `seq_len` that fits is 134" in message
    assert "-" not in message.split("rows of")[0].split("split")[-1]
    data = prepare(DataConfig(data=path, seq_len=134, label_len=12, pred_len=6))
    assert min(data.window_counts().values()) >= 1


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"seq_len": 0}, "seq_len must be a positive integer"),
        ({"pred_len": -3}, "pred_len must be a positive integer"),
        ({"seq_len": 24, "label_len": 48}, "must not exceed"),
        ({"features": "X"}, "features must be one of"),
        ({"fill": "zero"}, "fill must be one of"),
    ],
)
def test_bad_settings(kwargs, words):
    with pytest.raises(ConfigError, match=words):
        DataConfig(**kwargs)


def test_midnight_written_as_a_bare_date(write_csv):
    text = "date,a\n2016-07-01,1\n2016-07-01 01:00:00,2\n2016-07-01 02:00:00,3\n2016-07-01 03:00:00,4\n"
    series = load(write_csv(text))
    assert str(series.dates[0]) == "2016-07-01 00:00:00" and series.freq == "h"
