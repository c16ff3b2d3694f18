"""Figures of the data and of what a run learned: the sliding window, a forecast, training curves.

Shapes: N rows of the series, T = label_len + pred_len target steps, K plotted columns. The
x axis of every series figure is the row position, labelled with its timestamp, so that a window
of ``seq_len`` rows is ``seq_len`` ticks wide whatever the calendar does. Column names and titles
are drawn literally (a name such as ``$\\alpha$`` is not mathtext, nor TeX).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from informer.data.splits import SPLIT_NAMES, Borders

SPLIT_COLOURS = {"train": "#4c72b0", "val": "#dd8452", "test": "#55a868"}
ENCODER = "#4c72b0"  # the look-back window (encoder input)
KNOWN = "#8172b3"  # the label_len known steps the decoder starts from
FUTURE = "#dd8452"  # the pred_len steps to forecast
TRUTH = "#222222"
# Text built from a user's names (columns, titles) is shown as written: no mathtext for `$...$`,
# no TeX even when the user's matplotlibrc turns text.usetex on.
LITERAL = {"parse_math": False, "usetex": False}


def _date_labels(axes: Axes, dates: pd.DatetimeIndex, *, ticks: int = 6) -> None:
    """Label row positions on the x axis with their timestamps."""
    span = dates[-1] - dates[0] if len(dates) > 1 else pd.Timedelta(0)
    with_time = bool(((dates.hour != 0) | (dates.minute != 0)).any())
    if span > pd.Timedelta(days=120) or not with_time:
        form = "%Y-%m-%d"
    else:
        form = "%m-%d %H:%M"

    def label(position: float, _index: int) -> str:
        row = int(round(position))
        return dates[row].strftime(form) if 0 <= row < len(dates) else ""

    axes.xaxis.set_major_locator(MaxNLocator(ticks, integer=True))
    axes.xaxis.set_major_formatter(FuncFormatter(label))


def _bracket(axes: Axes, start: int, stop: int, y: float, text: str, colour: str, *, below: bool = False) -> None:
    """A double arrow over rows ``[start, stop)`` at height ``y``, with its text above (or below)."""
    axes.annotate("", xy=(start - 0.5, y), xytext=(stop - 0.5, y),
                  arrowprops={"arrowstyle": "<->", "color": colour, "lw": 1.5, "shrinkA": 0, "shrinkB": 0})
    axes.text((start + stop - 1) / 2, y, f"\n{text}" if below else text, ha="center", va="top" if below else "bottom",
              color=colour, fontsize=9)


def window_figure(dates: pd.DatetimeIndex, values: np.ndarray, *, borders: Borders, encoder: slice, target: slice,
                  column: str, title: str | None = None) -> Figure:
    """One window on the real series, drawn as the usual Informer diagram.

    Above: the whole column with the train / val / test rows shaded and the window marked.
    Below: the window up close: the encoder reads ``seq_len`` rows; the decoder starts from the
    last ``label_len`` of them (known) followed by ``pred_len`` placeholders, whose rows are
    what the model forecasts.

    Args:
        dates: (N,) timestamps of the series.
        values: (N,) one column in original units.
        borders: the split borders of the series (row ranges).
        encoder, target: absolute row slices of the window's encoder input and target, as
            :meth:`~informer.data.windows.WindowDataset.bounds` gives them plus the split start.
        column: the column's name.

    Raises:
        ValueError: if ``values`` is not (N,) for the N dates, or the slices do not form a window
            inside the series.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(dates)
    if values.shape != (n,):
        raise ValueError(f"expected values of shape ({n},) for {n} dates, got {values.shape}")
    if not (0 <= encoder.start <= target.start < encoder.stop < target.stop <= n):
        raise ValueError(f"expected encoder rows [a, b) and target rows [c, d) with 0 <= a <= c < b < d <= {n}, "
                         f"got [{encoder.start}, {encoder.stop}) and [{target.start}, {target.stop})")
    seq_len = encoder.stop - encoder.start
    label_len = encoder.stop - target.start
    pred_len = target.stop - encoder.stop

    figure = Figure(figsize=(11, 7), layout="constrained")
    overview, zoom = figure.subplots(2, 1, height_ratios=(1, 2.2))
    rows = np.arange(n)
    overview.plot(rows, values, color="#777777", lw=0.5)
    for split in SPLIT_NAMES:
        start, end = borders[split]
        overview.axvspan(start - 0.5, end - 0.5, color=SPLIT_COLOURS[split], alpha=0.13,
                         label=f"{split}: rows {start}..{end - 1}")
    overview.axvspan(encoder.start - 0.5, target.stop - 0.5, color="black", alpha=0.35, label="this window")
    overview.set_xlim(-0.5, n - 0.5)
    overview.set_ylabel(column, **LITERAL)
    overview.set_title(f"{column}: the whole series and its splits (val and test start seq_len rows early, "
                       "so their first window forecasts their first own row)", fontsize=10, **LITERAL)
    overview.legend(loc="upper left", fontsize=8, ncols=4)
    _date_labels(overview, dates)

    pad = max(pred_len, seq_len // 4)
    low, high = max(0, encoder.start - pad), min(n, target.stop + pad)
    shown = np.arange(low, high)
    zoom.plot(shown, values[low:high], color="#999999", lw=1)
    zoom.plot(np.arange(encoder.start, encoder.stop), values[encoder], color=ENCODER, lw=1.6)
    zoom.plot(np.arange(encoder.stop, target.stop), values[encoder.stop:target.stop], color=FUTURE, lw=1.6)
    zoom.axvspan(encoder.start - 0.5, encoder.stop - 0.5, color=ENCODER, alpha=0.10)
    zoom.axvspan(target.start - 0.5, encoder.stop - 0.5, facecolor="none", edgecolor=KNOWN, hatch="//", lw=0,
                 alpha=0.5)
    zoom.axvspan(encoder.stop - 0.5, target.stop - 0.5, color=FUTURE, alpha=0.15)
    bottom, top = float(values[low:high].min()), float(values[low:high].max())
    height = (top - bottom) or 1.0
    _bracket(zoom, encoder.start, encoder.stop, bottom - 0.14 * height,
             f"encoder input: seq_len = {seq_len} steps", ENCODER)
    _bracket(zoom, target.start, encoder.stop, bottom - 0.36 * height,
             f"decoder start: label_len = {label_len} known steps", KNOWN)
    _bracket(zoom, encoder.stop, target.stop, bottom - 0.36 * height, f"pred_len = {pred_len} zeros in, "
             "forecast out", FUTURE, below=True)
    zoom.set_ylim(bottom - 0.56 * height, top + 0.06 * height)
    zoom.set_xlim(low - 0.5, high - 0.5)
    zoom.set_ylabel(f"{column} (original units)", **LITERAL)
    zoom.set_title(title or "one window up close", fontsize=10, **LITERAL)
    _date_labels(zoom, dates)
    return figure


def forecast_figure(dates: pd.DatetimeIndex, truth: np.ndarray, forecast: np.ndarray, *, columns: Sequence[str],
                    label_len: int, title: str | None = None) -> Figure:
    """Forecast against truth for one window, one panel per column, after its label_len context.

    Args:
        dates: (T,) timestamps of the target window, T = label_len + pred_len.
        truth: (T, K) true values in original units: the known start, then the forecast steps.
        forecast: (T - label_len, K) the model's forecast in original units.
        columns: the K column names.

    Raises:
        ValueError: for shapes that do not fit together.
    """
    truth = np.asarray(truth, dtype=np.float64)
    forecast = np.asarray(forecast, dtype=np.float64)
    steps, k = len(dates), len(columns)
    if truth.shape != (steps, k) or not 0 < label_len < steps or forecast.shape != (steps - label_len, k):
        raise ValueError(f"expected truth (T, K) = ({steps}, {k}) and forecast (T - label_len, K) with "
                         f"0 < label_len = {label_len} < T, got {truth.shape} and {forecast.shape}")
    figure = Figure(figsize=(10, 2.4 * k + 0.8), layout="constrained")
    panels = figure.subplots(k, 1, sharex=True, squeeze=False)[:, 0]
    positions = np.arange(steps)
    for index, (panel, column) in enumerate(zip(panels, columns)):
        panel.axvspan(-0.5, label_len - 0.5, color=KNOWN, alpha=0.10, label=f"label_len = {label_len} known steps")
        panel.plot(positions, truth[:, index], color=TRUTH, lw=1.4, marker=".", ms=3, label="truth")
        panel.plot(positions[label_len:], forecast[:, index], color=FUTURE, lw=1.6, marker=".", ms=4,
                   label="forecast")
        panel.axvline(label_len - 0.5, color="#555555", ls="--", lw=0.8)
        error = float(np.abs(forecast[:, index] - truth[label_len:, index]).mean())
        panel.set_ylabel(column, **LITERAL)
        panel.set_title(f"{column}: mean absolute error {error:.4g} over the {steps - label_len} forecast steps",
                        fontsize=9, loc="left", **LITERAL)
        _date_labels(panel, dates)
    panels[0].legend(loc="upper left", fontsize=8, ncols=3)
    if title:
        figure.suptitle(title, fontsize=11, **LITERAL)
    return figure


def _number(text: object) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def training_figure(history: Sequence[dict], *, best_epoch: int | None = None, loss: str = "mse") -> Figure:
    """Train, validation and test loss per epoch (the learning rate below).

    Args:
        history: rows of ``history.csv`` (strings or numbers): epoch, train_loss, val_loss,
            test_loss, lr.
        best_epoch: the epoch whose weights were kept, marked when given.

    Raises:
        ValueError: when there is no epoch (a model that does not train).
    """
    if not history:
        raise ValueError("no epochs to plot: the history is empty")
    epochs = np.array([_number(row.get("epoch")) for row in history])
    figure = Figure(figsize=(9, 5.5), layout="constrained")
    losses, rates = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    for key, label, colour in (("train_loss", "train", SPLIT_COLOURS["train"]),
                               ("val_loss", "validation", SPLIT_COLOURS["val"]),
                               ("test_loss", "test", SPLIT_COLOURS["test"])):
        values = np.array([_number(row.get(key)) for row in history])
        if np.isfinite(values).any():
            losses.plot(epochs, values, marker="o", color=colour, label=label)
    if best_epoch:
        losses.axvline(best_epoch, color="#555555", ls="--", lw=1, label=f"best epoch {best_epoch} (saved weights)")
    losses.set_ylabel(f"{loss} loss (scaled units)", **LITERAL)
    losses.set_title("training curves", fontsize=10)
    losses.legend(fontsize=8)
    losses.grid(alpha=0.3)
    lr = np.array([_number(row.get("lr")) for row in history])
    if np.isfinite(lr).any() and (lr[np.isfinite(lr)] > 0).all():
        rates.plot(epochs, lr, marker="o", color="#555555")
        rates.set_yscale("log")
    rates.set_ylabel("learning rate")
    rates.set_xlabel("epoch")
    finite = epochs[np.isfinite(epochs)]
    if len(finite):
        rates.set_xlim(finite.min() - 0.5, finite.max() + 0.5)
    rates.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    rates.grid(alpha=0.3)
    return figure
