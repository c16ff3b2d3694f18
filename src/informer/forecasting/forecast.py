"""Forecasting the real future: a series -> one-window batch -> a dated frame in original units.

The encoder reads the last ``seq_len`` rows of the series (or the rows up to ``at``); the
decoder starts from the last ``label_len`` of them and predicts ``pred_len`` steps whose
timestamps continue the series' frequency. The window is scaled and given time features by the
data pipeline's own functions and goes through the one batch-to-model path
(:func:`informer.batches.run_batch`), as in training and evaluation.

:func:`forecast_csv` writes the frame as CSV text that a spreadsheet opens without running any
of it: the names come from the user's file, and a header such as ``=HYPERLINK(...)`` would be a
formula.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import torch
from torch import nn

from informer.batches import Windows, eval_generator, run_batch, unwrap
from informer.data.frequency import future_dates
from informer.data.loading import TimeSeries, printable
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
        raise DataError(f"`at` {printable(at)} is not a timestamp") from error
    if pd.isna(stamp):
        raise DataError(f"`at` {printable(at)} is not a timestamp")
    if stamp.tzinfo is not None:
        raise DataError(f"`at` {printable(at)} has a time zone; the data's timestamps have none")
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
        under its original name (as it is: :func:`forecast_csv` makes the names safe for a
        spreadsheet), in original units.

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


# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """``text`` with a single quote in front when it starts like a formula (``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return), as OWASP advises against CSV injection: a spreadsheet
    then shows the text instead of running it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def forecast_csv(frame: pd.DataFrame, *, float_format: str | None = None) -> str:
    """The CSV text of a forecast frame (:func:`forecast_frame`) for a file or a terminal: no
    index, numbers written with ``float_format``.

    Names are data: every header cell that starts like a formula (``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return) gets a single quote in front (``=cost`` becomes ``'=cost``), and
    so does any text cell, so that a spreadsheet opening the file runs nothing. Numbers are
    numbers, negative ones included, and stay as they are. A header holding a carriage return
    is written with every name quoted (the csv module leaves a lone one unquoted, and readers
    would end the row there).

    Raises:
        DataError: when two names would read the same once escaped (``=a`` and ``'=a``).
    """
    names = [spreadsheet_safe(str(name)) for name in frame.columns]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # "=a" and "'=a" would both read "'=a": a reader could not tell the columns apart
        raise DataError(f"columns {', '.join(printable(n) for n in frame.columns if spreadsheet_safe(str(n)) in twice)} "
                        f"would have the same name in the CSV once escaped for spreadsheets ({printable(twice[0])}); "
                        "rename one of them in the data")
    safe = frame.copy()
    for index in range(frame.shape[1]):
        values = frame.iloc[:, index]
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            safe.iloc[:, index] = values.map(lambda cell: spreadsheet_safe(cell) if isinstance(cell, str) else cell)
    header = io.StringIO()
    quoting = csv.QUOTE_ALL if any("\r" in name for name in names) else csv.QUOTE_MINIMAL
    csv.writer(header, lineterminator="\n", quoting=quoting).writerow(names)
    return header.getvalue() + safe.to_csv(index=False, header=False, float_format=float_format, lineterminator="\n")
