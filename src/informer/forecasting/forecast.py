"""Forecasting the real future: a series -> one-window batch -> a dated frame in original units.

The encoder reads the last ``seq_len`` rows of the series (or the rows up to ``at``); the
decoder starts from the last ``label_len`` of them and predicts ``pred_len`` steps whose
timestamps continue the series' frequency. The window is scaled and given time features by the
data pipeline's own functions and goes through the one batch-to-model path
(:func:`informer.batches.run_batch`), as in training and evaluation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from informer.batches import Windows, eval_generator, run_batch, unwrap
from informer.data.frequency import future_dates
from informer.data.loading import TimeSeries
from informer.data.pipeline import target_columns
from informer.data.scaling import Scaler, inverse_scale, scale
from informer.data.timefeatures import cycle_phase, time_marks
from informer.errors import DataError


def window_end(series: TimeSeries, at: str | pd.Timestamp | None) -> int:
    """Row index one past the last observed row: the end of the data, or the row at ``at``.

    Raises:
        DataError: if ``at`` is not a timestamp of the series.
    """
    if at is None:
        return len(series)
    try:
        stamp = pd.Timestamp(at)
    except (ValueError, TypeError) as error:
        raise DataError(f"`at` {at!r} is not a timestamp") from error
    if pd.isna(stamp):
        raise DataError(f"`at` {at!r} is not a timestamp")
    if stamp.tzinfo is not None:
        raise DataError(f"`at` {at!r} has a time zone; the data's timestamps have none")
    matches = np.flatnonzero(series.dates == stamp)
    if not matches.size:
        position = int(series.dates.searchsorted(stamp))
        near = series.dates[max(0, position - 1) : position + 1]
        hint = " or ".join(str(d) for d in near) if len(near) else "none"
        raise DataError(f"{series.source}: no row at {stamp} (`at` must be a timestamp of the data; nearest: {hint})")
    return int(matches[-1]) + 1


def forecast_window(
    series: TimeSeries, *, end: int, scaler: Scaler, embed: str, seq_len: int, label_len: int, pred_len: int,
    cycle: int = 0,
) -> tuple[Windows, pd.DatetimeIndex]:
    """The one-window batch that ends at row ``end`` (exclusive), and the future timestamps.

    ``embed`` and ``cycle`` pick the time features as :func:`~informer.data.pipeline.prepare` does.

    Returns:
        ``((x (1, seq_len, C), known (1, label_len, C), x_mark (1, seq_len, F),
        y_mark (1, label_len + pred_len, F)[, x_phase (1, seq_len), y_phase (1, label_len + pred_len)]),
        future dates (pred_len,))``, the positions with a ``cycle``.

    Raises:
        DataError: if fewer than ``seq_len`` rows end at ``end``.
    """
    start = end - seq_len
    if start < 0:
        raise DataError(f"{series.source}: forecasting needs {seq_len} rows up to {series.dates[end - 1]}, found {end}")
    history = scale(series.values[start:end], scaler).astype(np.float32)  # (seq_len, C)
    encoder_dates = series.dates[start:end]
    future = future_dates(encoder_dates[-1], series.freq, pred_len)
    decoder_dates = encoder_dates[seq_len - label_len :].append(future)
    x = torch.from_numpy(history)[None]  # (1, seq_len, C)
    known = x[:, seq_len - label_len :]  # (1, label_len, C)
    x_mark = torch.from_numpy(time_marks(encoder_dates, series.letter, embed))[None]  # (1, seq_len, F)
    y_mark = torch.from_numpy(time_marks(decoder_dates, series.letter, embed))[None]  # (1, label+pred, F)
    if not cycle:
        return (x, known, x_mark, y_mark), future
    x_phase = torch.from_numpy(cycle_phase(encoder_dates, series.freq, cycle))[None]  # (1, seq_len)
    y_phase = torch.from_numpy(cycle_phase(decoder_dates, series.freq, cycle))[None]  # (1, label_len + pred_len)
    return (x, known, x_mark, y_mark, x_phase, y_phase), future


@torch.no_grad()
def forecast_frame(
    model: nn.Module,
    series: TimeSeries,
    *,
    scaler: Scaler,
    features: str,
    embed: str,
    seq_len: int,
    label_len: int,
    seed: int,
    device: torch.device,
    at: str | pd.Timestamp | None = None,
    date_col: str = "date",
    amp: bool | str = False,
) -> pd.DataFrame:
    """Forecast ``pred_len`` steps after the data (or after ``at``).

    ``scaler`` is the run's (every input column, the target last); ``features`` decides which
    columns are forecast (all for M, the target for S and MS).

    Returns:
        A frame with ``date_col`` (the future timestamps) and one column per predicted series,
        under its original name, in original units.

    Raises:
        DataError: if fewer than ``seq_len`` rows precede the forecast start or ``at`` is unknown.
    """
    forecaster = unwrap(model)
    batch, future = forecast_window(series, end=window_end(series, at), scaler=scaler, embed=embed,
                                    seq_len=seq_len, label_len=label_len, pred_len=forecaster.pred_len,
                                    cycle=forecaster.settings.get("cycle", 0))
    was_training = model.training
    model.eval()
    try:
        out, _ = run_batch(model, batch, features=features, device=device, generator=eval_generator(device, seed),
                           amp=amp)  # (1, pred_len, c_out)
    finally:
        model.train(was_training)
    output_columns = scaler.columns[target_columns(features)]
    values = inverse_scale(out[0].cpu().numpy(), scaler.select(output_columns))  # (pred_len, c_out)
    frame = pd.DataFrame({date_col: future})
    for j, name in enumerate(output_columns):
        frame[name] = values[:, j]
    return frame
