"""Time features of timestamps, as the published Informer code computes them.

Two encodings:

* ``timeF`` (:func:`continuous_time_features`): a few calendar positions scaled to
  [-0.5, 0.5], chosen by the paper letter of the frequency (see :data:`TIMEF_FEATURES`). The
  model's ``timeF`` embedding is a linear map of these columns.
* ``fixed`` / ``learned`` (:func:`calendar_fields`): five integer columns
  ``month (1-12), day (1-31), weekday (0-6), hour (0-23), minute // 15 (0-3)``, the row indices
  into the embedding tables. The published code keeps only the first four for hourly data;
  we always give five (the model reads the fifth only for minute-level data).

A model with a learned cycle (the setting ``model.cycle`` = P) also needs each step's position in
a cycle of ``P`` steps (0 .. P - 1): :func:`cycle_phase`, passed beside the time features
(``Batch.phase_enc`` / ``phase_dec``), never as one of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.tseries import offsets
from pandas.tseries.frequencies import to_offset

from informer.errors import ConfigError


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


_EPOCH = pd.Timestamp("1970-01-01")


def _months(dates: pd.DatetimeIndex) -> np.ndarray:
    return (np.asarray(dates.year, dtype=np.int64) - 1970) * 12 + np.asarray(dates.month, dtype=np.int64) - 1


def step_numbers(dates: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """Each timestamp's step count since 1970-01-01 at frequency ``freq``: int64 (L,).

    The count depends only on the timestamp, so a step has the same number in every file and in
    the forecast future (hourly data: hours since the epoch; monthly: months; business days:
    weekdays). Steps are counted in units of the frequency's multiple (``15min``: quarter hours).

    Raises:
        ConfigError: for a frequency that has no fixed step count (business hours, semi-months).
    """
    dates = pd.DatetimeIndex(dates)
    if dates.tz is not None:
        dates = dates.tz_localize(None)
    offset = to_offset(freq)
    n = max(1, offset.n)
    if isinstance(offset, offsets.Day):  # a Tick in pandas 2, not in pandas 3
        return ((dates - _EPOCH) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64) // n
    if isinstance(offset, offsets.Tick):
        return ((dates - _EPOCH) // pd.Timedelta(offset)).to_numpy(dtype=np.int64)
    if isinstance(offset, offsets.Week):
        return ((dates - _EPOCH) // pd.Timedelta(days=1)).to_numpy(dtype=np.int64) // (7 * n)
    if isinstance(offset, offsets.BusinessDay):
        days = np.asarray(dates.values, dtype="datetime64[D]")
        return np.busday_count(np.datetime64("1970-01-01"), days).astype(np.int64) // n
    if isinstance(offset, (offsets.MonthBegin, offsets.MonthEnd)):
        return _months(dates) // n
    if isinstance(offset, (offsets.QuarterBegin, offsets.QuarterEnd)):
        return _months(dates) // (3 * n)
    if isinstance(offset, (offsets.YearBegin, offsets.YearEnd)):
        return _months(dates) // (12 * n)
    raise ConfigError(f"model.cycle needs a frequency with a fixed step (seconds to years, business days); "
                      f"{freq!r} has none: leave model.cycle at 0")


def cycle_phase(dates: pd.DatetimeIndex, freq: str, period: int) -> np.ndarray:
    """Each timestamp's position in a cycle of ``period`` steps, int64 (L,) in ``[0, period)``.

    The position is the step count since 1970-01-01 (:func:`step_numbers`) modulo ``period``:
    hourly data with period 24 gives the hour of the day, 15-minute data with period 96 the
    quarter hour of the day, hourly data with period 168 the hour of the week (counted from the
    epoch's Thursday), monthly data with period 12 the month (0 for January).
    """
    if not isinstance(period, int) or isinstance(period, bool) or period < 1:
        raise ConfigError(f"the cycle must be a positive number of steps, got {period!r}")
    return np.mod(step_numbers(dates, freq), period)


# The longest cycle ``--cycle auto`` learns: one day of minutes. A day of seconds (86,400
# positions per channel) is more table than data; such series get no cycle unless asked for one.
MAX_AUTO_CYCLE = 1440


def natural_cycle(freq: str) -> int:
    """The cycle ``--cycle auto`` picks for data at ``freq``: one day of steps for data sampled
    more often than daily (24 for hourly data, 96 for 15-minute, 144 for 10-minute, up to a day
    of minutes), a week for daily data (7; 5 for business days), a year for monthly (12) and
    quarterly (4) data; 0 (none) where no such whole number exists (weekly and yearly data, a
    step that does not divide a day).
    """
    offset = to_offset(freq)
    n = max(1, offset.n)
    day = pd.Timedelta(days=1)
    if isinstance(offset, offsets.Day):
        return 7 // n if 7 % n == 0 and n < 7 else 0
    if isinstance(offset, offsets.Tick):
        step = pd.Timedelta(offset)
        steps = day // step
        return int(steps) if day % step == pd.Timedelta(0) and 2 <= steps <= MAX_AUTO_CYCLE else 0
    if isinstance(offset, offsets.BusinessDay):
        return 5 // n if 5 % n == 0 and n < 5 else 0
    if isinstance(offset, (offsets.MonthBegin, offsets.MonthEnd)):
        return 12 // n if 12 % n == 0 and n < 12 else 0
    if isinstance(offset, (offsets.QuarterBegin, offsets.QuarterEnd)):
        return 4 // n if 4 % n == 0 and n < 4 else 0
    return 0


def time_marks(dates: pd.DatetimeIndex, letter: str, embed: str) -> np.ndarray:
    """The ``x_mark`` array the model's temporal embedding ``embed`` expects, float32 (L, F).

    Calendar fields are stored as float32 so that one tensor type serves every embedding;
    they are exact small integers. (A cycle's positions are not time features: :func:`cycle_phase`.)
    """
    if embed == "timeF":
        return continuous_time_features(dates, letter)
    return calendar_fields(dates).astype(np.float32)
