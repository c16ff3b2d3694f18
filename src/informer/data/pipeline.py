"""The whole data path in one call: load -> split -> scale -> time features -> windows.

>>> from informer.config import DataConfig
>>> data = prepare(DataConfig(data="ETTh1", seq_len=96, label_len=48, pred_len=24))
>>> data.window_counts()
{'train': 8521, 'val': 2857, 'test': 2857}
>>> x, y, x_mark, y_mark = data.dataset("train")[0]

:func:`prepare_for` prepares the data a whole run configuration asks for (its time features, its
model's cycle with ``auto`` resolved): every caller that trains, evaluates or explains a model
uses it.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np

from informer.config import DataConfig, ModelConfig, RunConfig
from informer.data.loading import TimeSeries, load_series
from informer.data.scaling import Scaler, fit_scaler, scale
from informer.data.splits import SPLIT_NAMES, Borders, length_advice, split_borders
from informer.data.timefeatures import cycle_phase, natural_cycle, time_marks
from informer.data.windows import WindowDataset
from informer.errors import DataError


def target_columns(features: str) -> slice:
    """The columns a model predicts, as a slice of the input columns (the target is last).

    M: all of them; S: the one column there is; MS: the target only (the decoder reads every
    column, the loss and the metrics use the target, as in the published code). This is the one
    place that decides it.
    """
    return slice(0, None) if features == "M" else slice(-1, None)


@dataclass(frozen=True)
class PreparedData:
    """A loaded series with its split borders, train-fitted scaler and time features."""

    config: DataConfig
    series: TimeSeries
    borders: Borders
    scaler: Scaler
    scaled: np.ndarray  # (N, C) float32
    marks: np.ndarray  # (N, F) float32 time features
    cycle: int = 0  # the cycle ``phase`` holds positions in (``auto`` resolved), 0 for none
    phase: np.ndarray | None = None  # (N,) int64 each row's position in the cycle; None without one

    @property
    def n_columns(self) -> int:
        return len(self.series.columns)

    @property
    def output_columns(self) -> tuple[str, ...]:
        """The columns the model predicts: all for M, the target for S and MS."""
        return self.series.columns[target_columns(self.config.features)]

    def resolved(self, model: ModelConfig) -> ModelConfig:
        """``model`` with the cycle these marks carry (``--cycle auto`` resolved for this data)."""
        return model if model.cycle == self.cycle else dataclasses.replace(model, cycle=self.cycle)

    def fingerprint(self) -> dict:
        """What identifies the data a run trains on: where it came from, its rows and columns, a
        SHA-256 of its timestamps and values (original units), and the split borders. A run
        records it, so that resuming on data that changed since (rows appended, another file)
        is noticed instead of silently re-fitting the scaler and moving the splits."""
        digest = hashlib.sha256()
        digest.update(self.series.dates.as_unit("ns").asi8.tobytes())  # the same in pandas 2 and 3
        digest.update(np.ascontiguousarray(self.series.values, dtype=np.float64).tobytes())
        return {"source": str(self.series.source), "rows": len(self.series), "columns": list(self.series.columns),
                "sha256": digest.hexdigest(), "borders": self.borders.as_dict()}

    def window_counts(self) -> dict[str, int]:
        c = self.config
        return {s: self.borders.windows(s, seq_len=c.seq_len, pred_len=c.pred_len) for s in SPLIT_NAMES}

    def dataset(self, split: str) -> WindowDataset:
        """The windows of ``split`` (``train``, ``val`` or ``test``)."""
        start, end = self.borders[split]
        c = self.config
        return WindowDataset(
            self.scaled[start:end],
            self.marks[start:end],
            seq_len=c.seq_len,
            label_len=c.label_len,
            pred_len=c.pred_len,
            phase=None if self.phase is None else self.phase[start:end],
        )


def prepare(
    config: DataConfig,
    *,
    embed: str = "timeF",
    cycle: int | str = 0,
    scaler: Scaler | None = None,
    require: tuple[str, ...] = SPLIT_NAMES,
) -> PreparedData:
    """Load the data ``config`` names and get it ready for windows.

    ``embed`` picks the time features (``timeF``: continuous; ``fixed``/``learned``: calendar
    fields); ``cycle`` > 0 gives each step's position in a cycle of that many steps
    (``PreparedData.phase``, for a model with ``model.cycle``; ``auto``: the data's natural
    cycle, :func:`~informer.data.timefeatures.natural_cycle`, kept in ``PreparedData.cycle``).
    ``scaler``, when given (a trained run's), is used instead of fitting one on the train rows; the series must then have its columns. ``require`` names the splits that must
    hold at least one window (evaluating one split of new data needs only that one).

    Raises:
        DataError: for bad files or a series too short for the windows in some split.
        ConfigError: for an unknown split preset.
    """
    series = load_series(config)
    try:
        borders = split_borders(series.split, len(series), config.seq_len, pred_len=config.pred_len)
    except DataError as error:
        raise DataError(f"{series.source}: {error}") from error
    for split in require:
        if borders.windows(split, seq_len=config.seq_len, pred_len=config.pred_len) < 1:
            advice = length_advice(series.split, len(series), config.seq_len, config.pred_len)
            raise DataError(f"{series.source}: the {split} split has no window: {advice}")
    if scaler is None:
        train_start, train_end = borders.train
        scaler = fit_scaler(series.values[train_start:train_end], series.columns)
    elif scaler.columns != series.columns:
        raise DataError(
            f"{series.source}: columns {list(series.columns)} differ from the run's {list(scaler.columns)}"
        )
    scaled = scale(series.values, scaler).astype(np.float32)
    if cycle == "auto":
        cycle = natural_cycle(series.freq)
    marks = time_marks(series.dates, series.letter, embed)
    phase = cycle_phase(series.dates, series.freq, cycle) if cycle else None
    return PreparedData(config, series, borders, scaler, scaled, marks, cycle, phase)


def fingerprint_change(recorded: dict, current: dict) -> str | None:
    """How ``current`` (:meth:`PreparedData.fingerprint`) differs from ``recorded``, in words,
    or None when it is the same data (the source may have moved: its content decides)."""
    if recorded.get("rows") != current["rows"]:
        return f"{recorded.get('rows')} rows then, {current['rows']} now"
    if recorded.get("columns") != current["columns"]:
        return f"columns {recorded.get('columns')} then, {current['columns']} now"
    if recorded.get("sha256") != current["sha256"]:
        return "the same number of rows, with other timestamps or values"
    if recorded.get("borders") != current["borders"]:
        return f"split borders {recorded.get('borders')} then, {current['borders']} now"
    return None


def prepare_for(
    config: RunConfig,
    *,
    data: DataConfig | None = None,
    scaler: Scaler | None = None,
    require: tuple[str, ...] = SPLIT_NAMES,
) -> PreparedData:
    """The data ``config`` trains or evaluates on, ready for its model: the time features its
    embedding reads and, for a model with a cycle, each step's position in it (``auto``
    resolved for this data: :meth:`PreparedData.resolved` gives the model's settings).

    ``data``: other data settings than ``config.data`` (a run's, pointed at newer data);
    ``scaler`` and ``require``: as :func:`prepare`.
    """
    return prepare(data or config.data, embed=config.model.embed, cycle=config.model.cycle, scaler=scaler,
                   require=require)
