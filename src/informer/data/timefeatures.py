"""Time features of timestamps, as the published Informer code computes them.

Two encodings:

* ``timeF`` (:func:`continuous_time_features`): a few calendar positions scaled to
  [-0.5, 0.5], chosen by the paper letter of the frequency (see :data:`TIMEF_FEATURES`). The
  model's ``timeF`` embedding is a linear map of these columns.
* ``fixed`` / ``learned`` (:func:`calendar_fields`): five integer columns
  ``month (1-12), day (1-31), weekday (0-6), hour (0-23), minute // 15 (0-3)``, the row indices
  into the embedding tables. The published code keeps only the first four for hourly data;
  we always give five (the model reads the fifth only for minute-level data).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _second_of_minute(index: pd.DatetimeIndex) -> np.ndarray:
    return index.second / 59.0 - 0.5


def _minute_of_hour(index: pd.DatetimeIndex) -> np.ndarray:
    return index.minute / 59.0 - 0.5


def _hour_of_day(index: pd.DatetimeIndex) -> np.ndarray:
    return index.hour / 23.0 - 0.5


def _day_of_week(index: pd.DatetimeIndex) -> np.ndarray:
    return index.day_of_week / 6.0 - 0.5


def _day_of_month(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.day - 1) / 30.0 - 0.5


def _day_of_year(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.day_of_year - 1) / 365.0 - 0.5


def _month_of_year(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.month - 1) / 11.0 - 0.5


def _week_of_year(index: pd.DatetimeIndex) -> np.ndarray:
    return (index.isocalendar().week.to_numpy(dtype=np.float64) - 1) / 52.0 - 0.5


_DAILY = (_day_of_week, _day_of_month, _day_of_year)
_HOURLY = (_hour_of_day, *_DAILY)
_MINUTELY = (_minute_of_hour, *_HOURLY)

# The published feature sets, by paper letter of the frequency (second, minute, hour, day,
# business day, week, month, year). Yearly data gets none: the published code's embedding
# expects one column there but its feature function yields zero; we keep zero on both sides.
TIMEF_FEATURES = {
    "s": (_second_of_minute, *_MINUTELY),
    "t": _MINUTELY,
    "h": _HOURLY,
    "d": _DAILY,
    "b": _DAILY,
    "w": (_day_of_month, _week_of_year),
    "m": (_month_of_year,),
    "a": (),
}

CALENDAR_FIELDS = ("month", "day", "weekday", "hour", "minute")


def timef_width(letter: str) -> int:
    """Number of ``timeF`` columns for a paper letter (hourly: 4, minutely: 5, ...)."""
    return len(TIMEF_FEATURES[letter])


def timef_names(letter: str) -> list[str]:
    """Readable names of the ``timeF`` columns, e.g. ``['hour_of_day', 'day_of_week', ...]``."""
    return [feature.__name__.lstrip("_") for feature in TIMEF_FEATURES[letter]]


def continuous_time_features(dates: pd.DatetimeIndex, letter: str) -> np.ndarray:
    """``timeF`` features of ``dates``: float32 array (L, timef_width(letter)) in [-0.5, 0.5]."""
    dates = pd.DatetimeIndex(dates)
    columns = [np.asarray(feature(dates), dtype=np.float64) for feature in TIMEF_FEATURES[letter]]
    if not columns:
        return np.zeros((len(dates), 0), dtype=np.float32)
    return np.stack(columns, axis=1).astype(np.float32)  # (L, F)


def calendar_fields(dates: pd.DatetimeIndex) -> np.ndarray:
    """Integer calendar fields of ``dates``: int64 array (L, 5), see :data:`CALENDAR_FIELDS`."""
    dates = pd.DatetimeIndex(dates)
    columns = [dates.month, dates.day, dates.day_of_week, dates.hour, dates.minute // 15]
    return np.stack([np.asarray(c, dtype=np.int64) for c in columns], axis=1)  # (L, 5)


def time_marks(dates: pd.DatetimeIndex, letter: str, embed: str) -> np.ndarray:
    """The ``x_mark`` array the model's temporal embedding ``embed`` expects, float32 (L, F).

    Calendar fields are stored as float32 so that one tensor type serves every embedding;
    they are exact small integers.
    """
    if embed == "timeF":
        return continuous_time_features(dates, letter)
    return calendar_fields(dates).astype(np.float32)
