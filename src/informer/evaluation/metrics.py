"""Forecast metrics, pure NumPy, accumulated batch by batch so no split is held in memory.

The published definitions: MAE, MSE, RMSE = sqrt(MSE), MAPE = mean |(pred - true) / true|,
MSPE = mean ((pred - true) / true)^2. Where ``true`` is exactly zero the relative errors are
undefined; the published code then reports inf or NaN, we leave those cells out of MAPE and MSPE
(and count them in ``relative_excluded``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

METRIC_NAMES = ("mse", "mae", "rmse", "mape", "mspe")


@dataclass
class MetricAccumulator:
    """Running sums of errors; ``update`` with batches, ``result`` at the end."""

    count: int = 0
    relative_count: int = 0
    squared: float = 0.0
    absolute: float = 0.0
    relative_absolute: float = 0.0
    relative_squared: float = 0.0
    _seen_shape: tuple[int, ...] | None = field(default=None, repr=False)

    def update(self, pred: np.ndarray, true: np.ndarray) -> None:
        """Add a batch: ``pred`` and ``true`` of the same shape (e.g. (B, pred_len, C))."""
        pred = np.asarray(pred, dtype=np.float64)
        true = np.asarray(true, dtype=np.float64)
        if pred.shape != true.shape:
            raise ValueError(f"pred and true must have the same shape, got {pred.shape} and {true.shape}")
        error = pred - true
        self.count += error.size
        self.squared += float(np.sum(error**2))
        self.absolute += float(np.sum(np.abs(error)))
        nonzero = true != 0
        relative = error[nonzero] / true[nonzero]
        self.relative_count += relative.size
        self.relative_absolute += float(np.sum(np.abs(relative)))
        self.relative_squared += float(np.sum(relative**2))

    def sums(self) -> list[float]:
        """The running sums, in :meth:`from_sums`'s order (to add them across processes)."""
        return [self.count, self.relative_count, self.squared, self.absolute, self.relative_absolute,
                self.relative_squared]

    @classmethod
    def from_sums(cls, sums: list[float]) -> "MetricAccumulator":
        count, relative_count, *errors = sums
        return cls(int(round(count)), int(round(relative_count)), *errors)

    def result(self) -> dict[str, float]:
        if self.count == 0:
            raise ValueError("no values were accumulated")
        mse = self.squared / self.count
        relative = max(self.relative_count, 1)
        return {
            "mse": mse,
            "mae": self.absolute / self.count,
            "rmse": math.sqrt(mse),
            "mape": self.relative_absolute / relative if self.relative_count else float("nan"),
            "mspe": self.relative_squared / relative if self.relative_count else float("nan"),
            "relative_excluded": self.count - self.relative_count,
        }


def metrics(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """All metrics of one pair of arrays."""
    accumulator = MetricAccumulator()
    accumulator.update(pred, true)
    return accumulator.result()


def summarise(values: list[dict[str, float]]) -> dict[str, dict[str, float]]:
    """Mean and (population) standard deviation of each metric over repeated runs."""
    names = [name for name in METRIC_NAMES if all(name in v for v in values)]
    table = np.array([[v[name] for name in names] for v in values], dtype=np.float64)
    return {
        "mean": dict(zip(names, table.mean(axis=0).tolist())),
        "std": dict(zip(names, table.std(axis=0).tolist())),
    }
