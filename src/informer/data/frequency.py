"""Sampling frequencies: parse what users type, infer from timestamps, map to the paper's letters.

Three spellings meet here:

* pandas offset aliases (``h``, ``15min``, ``D``, ``B``, ``W-SUN``, ``MS``, ``ME`` ...), the
  canonical form we store (``to_offset(...).freqstr``);
* the paper's single letters ``s t h d b w m a`` (second, minute, hour, day, business day,
  week, month, year) and their multiples such as ``15t``; also the upper-case aliases that
  pandas 3 no longer accepts (``H``, ``T``, ``S``, ``M``, ``A``);
* the paper letter of an offset, which decides the time features and the embedding tables.

Works on pandas 2.2+ and 3.
"""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pandas as pd
from pandas.tseries import offsets
from pandas.tseries.frequencies import to_offset

from informer.errors import ConfigError, DataError

log = logging.getLogger(__name__)

PAPER_LETTERS = ("s", "t", "h", "d", "b", "w", "m", "a")

# Units whose meaning differs between the paper, old pandas and pandas 3. Anything else is
# handed to pandas as it is. ``None`` marks anchored units (month, quarter, year) whose
# begin/end variant is decided by the timestamps.
_ALIASES = {
    "h": "h", "H": "h",
    "t": "min", "T": "min", "min": "min",
    "s": "s", "S": "s",
    "d": "D", "D": "D",
    "b": "B", "B": "B",
    "w": "W", "W": "W",
    "m": None, "M": None,
    "q": None, "Q": None,
    "a": None, "A": None, "y": None, "Y": None,
}  # fmt: skip
_ANCHORED = {"m": "M", "M": "M", "q": "Q", "Q": "Q", "a": "Y", "A": "Y", "y": "Y", "Y": "Y"}
_SPELLING = re.compile(r"^\s*(\d*)\s*([A-Za-z]+)\s*$")


def parse_freq(text: str, dates: pd.DatetimeIndex | None = None) -> str:
    """Return the canonical pandas alias for a frequency typed by a user.

    Accepts pandas aliases (``15min``, ``h``, ``W-MON``), the paper's letters and multiples
    (``t``, ``15t``, ``h``, ``m``). For month, quarter and year letters the begin or end variant
    is chosen from ``dates`` when given (``MS`` if every date is a month start, else ``ME``).

    Raises:
        ConfigError: if neither pandas nor the paper's vocabulary knows the spelling.
    """
    match = _SPELLING.match(str(text))
    alias = str(text).strip()
    if match and match.group(2) in _ALIASES:
        count, unit = match.group(1), match.group(2)
        base = _ALIASES[unit]
        if base is None:
            base = _anchored_alias(_ANCHORED[unit], dates)
        alias = f"{count}{base}"
    try:
        return to_offset(alias).freqstr
    except (ValueError, TypeError) as error:
        raise ConfigError(
            f"unknown frequency {text!r}: use a pandas alias such as 15min, h, D, B, W, MS "
            f"or one of the paper's letters {', '.join(PAPER_LETTERS)} (e.g. 15t)"
        ) from error


def _anchored_alias(unit: str, dates: pd.DatetimeIndex | None) -> str:
    """``MS``/``ME``, ``QS``/``QE`` or ``YS``/``YE``, whichever the dates sit on."""
    if dates is not None and len(dates):
        is_start = {"M": dates.is_month_start, "Q": dates.is_quarter_start, "Y": dates.is_year_start}
        if bool(np.all(is_start[unit])):
            return f"{unit}S"
    return f"{unit}E"


def infer_freq(dates: pd.DatetimeIndex, *, source: str = "data") -> str:
    """Infer the canonical alias from increasing timestamps.

    Uses :func:`pandas.infer_freq`; when the series has gaps it falls back to the most common
    step and logs how many steps differ from it.

    Raises:
        DataError: if there are fewer than three timestamps or no step repeats.
    """
    if len(dates) < 3:
        raise DataError(f"{source}: need at least 3 timestamps to infer the frequency; pass `freq`")
    with warnings.catch_warnings():
        # pandas 3 warns that infer_freq will return an offset; to_offset takes either.
        warnings.filterwarnings("ignore", message=".*infer_freq.*")
        inferred = pd.infer_freq(dates)
    if inferred is not None:
        return to_offset(inferred).freqstr
    steps = pd.Series(dates[1:] - dates[:-1])  # Timedelta, whatever the index's unit
    counts = steps.value_counts()
    step = counts.index[0]
    if counts.iloc[0] < 2 or step <= pd.Timedelta(0):
        raise DataError(f"{source}: timestamps have no regular step; pass `freq`")
    day = pd.Timedelta(days=1)
    # pandas 3 spells a Timedelta of whole days in hours (24h); keep days so the features are daily
    alias = f"{step // day}D" if step % day == pd.Timedelta(0) else to_offset(step).freqstr
    alias = to_offset(alias).freqstr
    irregular = int(len(steps) - counts.iloc[0])
    first = int(np.flatnonzero((steps != step).to_numpy())[0])
    log.warning(
        "%s: %d of %d steps differ from the usual %s (first after %s); using freq %s, "
        "pass `freq` to override",
        source, irregular, len(steps), step, dates[first], alias,
    )  # fmt: skip
    return alias


def paper_letter(freq: str) -> str:
    """The paper's letter (``s t h d b w m a``) for a canonical alias: it picks time features."""
    offset = to_offset(freq)
    # Day is a Tick in pandas 2 and not in pandas 3; test it before the Tick subclasses.
    if isinstance(offset, offsets.Day):
        return "d"
    if isinstance(offset, offsets.Hour):
        return "h"
    if isinstance(offset, offsets.Minute):
        return "t"
    if isinstance(offset, offsets.Tick):
        return "s"
    if isinstance(offset, (offsets.BusinessDay, offsets.CustomBusinessDay)):
        return "b"
    if isinstance(offset, offsets.BusinessHour):
        return "h"
    if isinstance(offset, offsets.Week):
        return "w"
    if isinstance(offset, (offsets.YearBegin, offsets.YearEnd)):
        return "a"
    # months, quarters, semi-months: the published code uses month-of-year for all of them
    return "m"


def future_dates(last: pd.Timestamp, freq: str, periods: int) -> pd.DatetimeIndex:
    """The ``periods`` timestamps that follow ``last`` at frequency ``freq``."""
    offset = to_offset(freq)
    return pd.date_range(start=last + offset, periods=periods, freq=offset)
