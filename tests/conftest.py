"""Shared fixtures: tiny CSV files written to a temporary directory."""

from __future__ import annotations

import pandas as pd
import pytest

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
