"""Test helpers importable from any test module (tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_frame(n: int = 200, columns: int = 3, freq: str = "h", start: str = "2021-01-01") -> pd.DataFrame:
    """A smooth multivariate series with a date column and columns a, b, c, ..."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    frame = pd.DataFrame({"date": pd.date_range(start, periods=n, freq=freq)})
    for j in range(columns):
        frame[chr(ord("a") + j)] = np.sin(t / (5 + j)) * (j + 1) + rng.normal(0, 0.1, n) + 10 * j
    return frame
