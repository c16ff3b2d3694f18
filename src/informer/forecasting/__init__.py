"""Forecasting the real future as a dated frame in original units (see :mod:`.forecast`)."""

from informer.forecasting.forecast import (
    forecast_csv,
    forecast_frame,
    forecast_window,
    spreadsheet_safe,
    window_end,
)

__all__ = ["forecast_csv", "forecast_frame", "forecast_window", "spreadsheet_safe", "window_end"]
