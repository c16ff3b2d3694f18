"""Per-column z-score scaling, fitted on the training rows only.

Three pure functions (fit, scale, inverse) over a small immutable :class:`Scaler`. Statistics
are the population mean and standard deviation (``ddof=0``, as the published ``StandardScaler``)
computed in float64. A column that is constant on the training rows gets a standard deviation
of 1, so it maps to zeros instead of NaN or inf.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from informer.errors import DataError


@dataclass(frozen=True)
class Scaler:
    """Column means and standard deviations, with the column names they belong to."""

    columns: tuple[str, ...]
    mean: np.ndarray
    std: np.ndarray

    def select(self, columns: list[str] | tuple[str, ...]) -> "Scaler":
        """The statistics of some columns only (e.g. the target, for MS forecasts)."""
        index = [self.columns.index(c) for c in columns]
        return Scaler(tuple(columns), self.mean[index], self.std[index])

    def to_dict(self) -> dict:
        return {
            "columns": list(self.columns),
            "mean": [float(x) for x in self.mean],
            "std": [float(x) for x in self.std],
        }

    @classmethod
    def from_dict(cls, payload: dict) -> "Scaler":
        """The scaler :meth:`to_dict` wrote: ``columns`` (names), ``mean`` and ``std`` (numbers), one per column.

        Raises:
            DataError: when a field is missing, null or of another type, the lengths differ, or a
                statistic is not finite (a std not positive).
        """
        if not isinstance(payload, dict):
            raise DataError(f"scaler: expected a table of columns, mean and std, got {type(payload).__name__}")
        missing = [key for key in ("columns", "mean", "std") if key not in payload]
        if missing:
            raise DataError(f"scaler: {', '.join(missing)} missing")
        columns = payload["columns"]
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise DataError(f"scaler: columns must be a list of column names, got {_shown(columns)}")
        for key in ("mean", "std"):
            values = payload[key]
            if not isinstance(values, list) or not all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) for x in values):
                raise DataError(f"scaler: {key} must be a list of numbers, got {_shown(values)}")
        mean = np.asarray(payload["mean"], dtype=np.float64)
        std = np.asarray(payload["std"], dtype=np.float64)
        if not len(columns) == mean.shape[0] == std.shape[0]:
            raise DataError("scaler: columns, mean and std must have the same length")
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std > 0).all()):
            raise DataError("scaler: mean and std must be finite and std positive")
        return cls(tuple(columns), mean, std)


def _shown(value: object) -> str:
    """A value as scaler.json spells it (null, true, [1, "a"]), at most 60 characters."""
    text = json.dumps(value, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."


def fit_scaler(values: np.ndarray, columns: list[str] | tuple[str, ...]) -> Scaler:
    """Fit on ``values`` (N, C): the training rows only.

    Raises:
        DataError: if a column's statistics overflow (values too large to standardise).
    """
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = values.mean(axis=0)
        std = values.std(axis=0)
        constant = np.ptp(values, axis=0) == 0
    std = np.where(constant | (std == 0), 1.0, std)
    bad = ~(np.isfinite(mean) & np.isfinite(std))
    if bad.any():
        raise DataError(f"column {columns[int(np.flatnonzero(bad)[0])]!r}: values too large to standardise")
    return Scaler(tuple(columns), mean, std)


def scale(values: np.ndarray, scaler: Scaler) -> np.ndarray:
    """(values - mean) / std, column-wise; any leading shape, the last axis the columns."""
    return (np.asarray(values, dtype=np.float64) - scaler.mean) / scaler.std


def inverse_scale(values: np.ndarray, scaler: Scaler) -> np.ndarray:
    """The exact inverse of :func:`scale`: values * std + mean."""
    return np.asarray(values, dtype=np.float64) * scaler.std + scaler.mean
