"""Forecasting the real future as a dated frame in original units (see :mod:`.forecast`)."""

from informer.forecasting.forecast import forecast_frame, forecast_window, window_end

__all__ = ["forecast_frame", "forecast_window", "window_end"]
