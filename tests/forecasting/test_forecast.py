"""Forecasting the real future: the window's end, the one-window batch, the dated frame."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import synthetic_frame
from informer.config import DataConfig
from informer.data.loading import load_series
from informer.data.scaling import fit_scaler, scale
from informer.data.timefeatures import time_marks
from informer.errors import DataError
from informer.forecasting.forecast import forecast_frame, forecast_window, window_end
from informer.model.baselines import Repeat

CPU = torch.device("cpu")
SEQ_LEN, LABEL_LEN, PRED_LEN = 12, 6, 4


def load(write_csv, frame: pd.DataFrame, **config):
    return load_series(DataConfig(data=write_csv(frame), seq_len=SEQ_LEN, label_len=LABEL_LEN, pred_len=PRED_LEN,
                                  **config))


@pytest.fixture
def hourly(write_csv):
    return load(write_csv, synthetic_frame(40, 3))  # 2021-01-01 00:00 .. 2021-01-02 15:00


# ---------------------------------------------------------------- window_end


def test_window_end_defaults_to_the_end_of_the_data(hourly):
    assert window_end(hourly, None) == 40


@pytest.mark.parametrize("at, end", [("2021-01-01 05:00", 6), (pd.Timestamp("2021-01-01 00:00"), 1),
                                     ("2021-01-02T15:00:00", 40), ("2021-01-02", 25)])
def test_window_end_is_one_past_the_row_at_a_timestamp(hourly, at, end):
    assert window_end(hourly, at) == end
    assert hourly.dates[end - 1] == pd.Timestamp(at)


@pytest.mark.parametrize("at, nearest", [
    ("2021-01-01 05:30", ["2021-01-01 05:00:00", "2021-01-01 06:00:00"]),
    ("2020-12-31 23:00", ["2021-01-01 00:00:00"]),
    ("2021-03-01", ["2021-01-02 15:00:00"]),
])  # fmt: skip
def test_an_unknown_timestamp_names_the_nearest_rows(hourly, at, nearest):
    with pytest.raises(DataError, match="no row at") as caught:
        window_end(hourly, at)
    message = str(caught.value)
    assert "`at`" in message and hourly.source in message
    for stamp in nearest:
        assert stamp in message


@pytest.mark.parametrize("at", ["2021-01-01 05:00+00:00", pd.Timestamp("2021-01-01 05:00", tz="UTC")])
def test_a_time_zone_is_refused(hourly, at):
    with pytest.raises(DataError, match="time zone") as caught:
        window_end(hourly, at)
    assert "`at`" in str(caught.value)


@pytest.mark.parametrize("at", ["yesterday at noon", "", "NaT", [2021]])
def test_a_value_that_is_not_a_timestamp_is_refused(hourly, at):
    with pytest.raises(DataError, match="`at`"):
        window_end(hourly, at)


# ---------------------------------------------------------------- forecast_window


@pytest.mark.parametrize("freq, letter", [("h", "h"), ("15min", "t"), ("D", "d")])
def test_forecast_window_shapes_known_rows_and_future_marks(write_csv, freq, letter):
    """Oracle: cut a longer series short; the future dates and marks are those of the rows cut off."""
    full = synthetic_frame(50, 3, freq=freq)
    series = load(write_csv, full.iloc[:40])
    assert series.letter == letter
    scaler = fit_scaler(series.values, series.columns)
    (x, known, x_mark, y_mark), future = forecast_window(series, end=40, scaler=scaler, embed="timeF",
                                                         seq_len=SEQ_LEN, label_len=LABEL_LEN, pred_len=PRED_LEN)
    width = time_marks(series.dates[:1], letter, "timeF").shape[1]
    assert x.shape == (1, SEQ_LEN, 3) and known.shape == (1, LABEL_LEN, 3)
    assert x_mark.shape == (1, SEQ_LEN, width) and y_mark.shape == (1, LABEL_LEN + PRED_LEN, width)
    assert x.dtype == known.dtype == x_mark.dtype == y_mark.dtype == torch.float32

    np.testing.assert_allclose(x[0].numpy(), scale(series.values[28:40], scaler), rtol=1e-6, atol=1e-6)
    assert torch.equal(known, x[:, -LABEL_LEN:])
    all_dates = pd.DatetimeIndex(full["date"])
    assert list(future) == list(all_dates[40:44])
    np.testing.assert_array_equal(x_mark[0].numpy(), time_marks(all_dates[28:40], letter, "timeF"))
    np.testing.assert_array_equal(y_mark[0].numpy(), time_marks(all_dates[34:44], letter, "timeF"))


def test_forecast_window_at_an_earlier_end_continues_from_that_row(hourly):
    scaler = fit_scaler(hourly.values, hourly.columns)
    (x, _, _, _), future = forecast_window(hourly, end=20, scaler=scaler, embed="fixed", seq_len=SEQ_LEN,
                                           label_len=LABEL_LEN, pred_len=PRED_LEN)
    assert list(future) == list(hourly.dates[20:24])
    np.testing.assert_allclose(x[0].numpy(), scale(hourly.values[8:20], scaler), rtol=1e-6, atol=1e-6)


def test_forecast_window_needs_seq_len_rows(hourly):
    scaler = fit_scaler(hourly.values, hourly.columns)
    forecast_window(hourly, end=SEQ_LEN, scaler=scaler, embed="timeF", seq_len=SEQ_LEN, label_len=LABEL_LEN,
                    pred_len=PRED_LEN)  # exactly enough
    with pytest.raises(DataError, match=f"needs {SEQ_LEN} rows"):
        forecast_window(hourly, end=SEQ_LEN - 1, scaler=scaler, embed="timeF", seq_len=SEQ_LEN,
                        label_len=LABEL_LEN, pred_len=PRED_LEN)


# ---------------------------------------------------------------- forecast_frame


def repeat_frame(series, *, features, at=None, date_col="date"):
    c_out = 3 if features == "M" else 1
    model = Repeat(enc_in=3, c_out=c_out, seq_len=SEQ_LEN, pred_len=PRED_LEN, label_len=LABEL_LEN)
    scaler = fit_scaler(series.values[:28], series.columns)  # as training would: not the last rows
    return forecast_frame(model, series, scaler=scaler, features=features,
                          embed="timeF", seq_len=SEQ_LEN, label_len=LABEL_LEN, seed=0, device=CPU, at=at,
                          date_col=date_col)


@pytest.mark.parametrize("at, end", [(None, 40), ("2021-01-01 19:00", 20)])
def test_repeat_forecast_is_the_last_row_in_original_units(hourly, at, end):
    frame = repeat_frame(hourly, features="M", at=at)
    assert list(frame.columns) == ["date", "a", "b", "c"]
    assert list(frame["date"]) == list(pd.date_range(hourly.dates[end - 1], periods=PRED_LEN + 1, freq="h")[1:])
    expected = np.tile(hourly.values[end - 1], (PRED_LEN, 1))
    np.testing.assert_allclose(frame[["a", "b", "c"]].to_numpy(), expected, rtol=1e-5)


def test_ms_forecasts_only_the_target_under_date_col(hourly):
    frame = repeat_frame(hourly, features="MS", date_col="timestamp")
    assert list(frame.columns) == ["timestamp", "c"]
    assert len(frame) == PRED_LEN and frame["timestamp"].iloc[0] == hourly.dates[-1] + pd.Timedelta(hours=1)
    np.testing.assert_allclose(frame["c"].to_numpy(), np.full(PRED_LEN, hourly.values[-1, -1]), rtol=1e-5)


def test_forecast_frame_leaves_the_model_in_its_mode(hourly):
    model = Repeat(enc_in=3, c_out=3, seq_len=SEQ_LEN, pred_len=PRED_LEN, label_len=LABEL_LEN).train()
    forecast_frame(model, hourly, scaler=fit_scaler(hourly.values, hourly.columns),
                   features="M", embed="timeF", seq_len=SEQ_LEN, label_len=LABEL_LEN, seed=0, device=CPU)
    assert model.training


def test_too_few_rows_before_the_forecast_start(write_csv, hourly):
    with pytest.raises(DataError, match=f"needs {SEQ_LEN} rows"):
        repeat_frame(load(write_csv, synthetic_frame(SEQ_LEN - 1, 3)), features="M")
    with pytest.raises(DataError, match=f"needs {SEQ_LEN} rows"):
        repeat_frame(hourly, features="M", at="2021-01-01 05:00")
    with pytest.raises(DataError, match="no row at"):
        repeat_frame(hourly, features="M", at="2021-01-01 05:30")
