"""Shared test helpers: tiny synthetic CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def synthetic_frame(n: int = 200, columns: int = 3, freq: str = "h", start: str = "2021-01-01") -> pd.DataFrame:
    """A smooth multivariate series with a date column and columns a, b, c, ..."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    frame = pd.DataFrame({"date": pd.date_range(start, periods=n, freq=freq)})
    for j in range(columns):
        frame[chr(ord("a") + j)] = np.sin(t / (5 + j)) * (j + 1) + rng.normal(0, 0.1, n) + 10 * j
    return frame


@pytest.fixture
def write_csv(tmp_path):
    """Write a frame (or raw text) to a CSV in tmp_path and return its path as str."""

    def write(content, name: str = "series.csv") -> str:
        path = tmp_path / name
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return str(path)

    return write
