"""Reading a dataset into a validated :class:`TimeSeries`.

The checks run in the order a user would fix them: the file, its header, the date column, the
timestamps, the chosen columns, then the values. Each failure raises
:class:`~informer.errors.DataError` with one line naming the file and the column or line
(``line`` is the line number in the CSV file, the header being line 1; for Parquet it is
the 1-based row).

Names are data: the header must name every column once (the whitespace around names does not
count), and a name or cell quoted in a message or log line goes through :func:`printable`, so
that newlines, terminal escape codes and whole lines of a file that is not a CSV never reach a
console raw.
"""

from __future__ import annotations

import csv
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from informer.config import DataConfig
from informer.data.bundled import BUNDLED, BundledDataset, find_bundled
from informer.data.frequency import infer_freq, paper_letter, parse_freq
from informer.errors import DataError
from informer.safeio import DATA_LIMIT, MIB

log = logging.getLogger(__name__)

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class TimeSeries:
    """A validated multivariate series, columns in model order (the target last).

    ``values`` is float64 (N, C) in original units; ``dates`` are strictly increasing
    (except for bundled files the published loaders read as they are).
    """

    source: str
    dates: pd.DatetimeIndex
    values: np.ndarray
    columns: tuple[str, ...]
    target: str
    freq: str
    split: str
    time_freq: str | None = None  # other time features than the data's own frequency gives

    @property
    def letter(self) -> str:
        """The paper's frequency letter (``h``, ``t``, ...), which picks the time features."""
        return paper_letter(self.time_freq or self.freq)

    def __len__(self) -> int:
        return len(self.dates)


@dataclass(frozen=True)
class _Source:
    path: Path
    label: str
    bundled: BundledDataset | None
    parquet: bool

    def where(self, row: int) -> str:
        """Human position of 0-based data row ``row``: the file line for CSV."""
        return f"row {row + 1}" if self.parquet else f"line {row + 2}"


def printable(text: object, *, limit: int = 60) -> str:
    """``text`` quoted as ``repr`` quotes a string, with what a console would act on escaped
    (newlines, tabs, terminal escape codes such as ``\\x1b[31m``, other unprintable characters),
    and cut after ``limit`` characters (``...`` after the quote says so): a name or cell of a
    user's file, safe to put in a one-line message or a log line."""
    text = str(text)
    if len(text) > limit:
        return repr(text[:limit]) + "..."
    return repr(text)


def resolve_source(data: str) -> _Source:
    """A bundled dataset name or a path to a CSV/Parquet file."""
    bundled = find_bundled(data)
    if bundled is not None:
        return _Source(bundled.path, bundled.name, bundled, parquet=False)
    path = Path(data).expanduser()
    if not path.exists():
        names = ", ".join(BUNDLED)
        raise DataError(f"{data}: no such file, and not a bundled dataset ({names})")
    if path.is_dir():
        raise DataError(f"{data}: is a directory, expected a CSV or Parquet file")
    if not path.is_file():  # a named pipe or a device: reading one can block for ever
        raise DataError(f"{data}: is not a regular file (a pipe or a device?); give a CSV or Parquet file")
    if path.stat().st_size > DATA_LIMIT:
        raise DataError(f"{data}: {path.stat().st_size / MIB:.0f} MiB, more than the {DATA_LIMIT // MIB} MiB a data "
                        "file may have; select columns or rows into a smaller file")
    return _Source(path, str(data), None, parquet=path.suffix.lower() in PARQUET_SUFFIXES)


def read_table(source: _Source, *, decimal: str | None = None) -> pd.DataFrame:
    """Read the raw table; cells stay as pandas parses them. ``decimal`` is the CSV's decimal
    mark; None detects a decimal comma in ``;``-separated files (the spreadsheet dialect of
    much of Europe)."""
    if source.parquet:
        return _read_parquet(source)
    return _read_csv(source, decimal)


def _read_parquet(source: _Source) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        check_names(pq.read_schema(source.path).names, source)  # pyarrow cannot read two columns named alike
        frame = pd.read_parquet(source.path)
    except DataError:
        raise
    except ImportError as error:
        raise DataError(
            f"{source.label}: reading Parquet needs pyarrow: pip install 'informer[parquet]'"
        ) from error
    except (OSError, ValueError) as error:
        raise DataError(f"{source.label}: cannot read Parquet file: {_first_line(error)}") from error
    if frame.empty:
        raise DataError(f"{source.label}: has no data rows")
    frame.columns = [str(c) for c in frame.columns]
    if frame.index.name is not None:  # a named index becomes the first column, and may repeat a name
        check_names([str(frame.index.name), *frame.columns], source)
    return frame.reset_index(drop=frame.index.name is None)


def _read_csv(source: _Source, decimal: str | None = None) -> pd.DataFrame:
    encoding = "utf-8-sig"  # strips a byte-order mark if there is one
    try:
        with open(source.path, "rb") as handle:
            if b"\x00" in handle.read(4096):
                raise DataError(f"{source.label}: binary content (NUL bytes), not a CSV text file")
    except OSError as error:
        raise DataError(f"{source.label}: cannot read file: {error.strerror or error}") from error
    try:
        with open(source.path, encoding=encoding, newline="") as handle:
            first = handle.readline()
    except UnicodeDecodeError:
        encoding = "latin-1"
        log.warning("%s: not UTF-8 text; reading it as Latin-1", source.label)
        with open(source.path, encoding=encoding, newline="") as handle:
            first = handle.readline()
    except OSError as error:
        raise DataError(f"{source.label}: cannot read file: {error.strerror or error}") from error
    if not first.strip():
        raise DataError(f"{source.label}: file is empty (expected a header line and data rows)")
    delimiter = _sniff_delimiter(first)
    with open(source.path, encoding=encoding, newline="") as handle:  # the whole header, quoted newlines too
        header = next(csv.reader(handle, delimiter=delimiter, skipinitialspace=True), [])
    check_names(header, source, unnamed_first=True)  # before pandas renames a repeated `a` to `a.1`
    if decimal is None:
        decimal = _sniff_decimal(source, delimiter, encoding)
    elif decimal == delimiter:
        raise DataError(f"{source.label}: {delimiter!r} separates the columns, so it cannot be the decimal mark "
                        "too; such files use ';' between columns")
    try:
        frame = pd.read_csv(source.path, sep=delimiter, encoding=encoding, skipinitialspace=True, decimal=decimal)
    except UnicodeDecodeError as error:  # a bad byte after the first line
        raise DataError(f"{source.label}: not valid {encoding} text ({error.reason})") from error
    except pd.errors.ParserError as error:
        raise DataError(f"{source.label}: malformed CSV: {_first_line(error)}") from error
    except (OSError, ValueError) as error:
        raise DataError(f"{source.label}: cannot read CSV: {_first_line(error)}") from error
    if frame.empty:
        raise DataError(f"{source.label}: has a header but no data rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def check_names(names: list[str], source: _Source, *, unnamed_first: bool = False) -> None:
    """Refuse a header that names a column twice (once the whitespace around the names is
    stripped: ``a, a`` and ``a,a `` name ``a`` twice) or leaves a column unnamed; with
    ``unnamed_first``, the first column may be unnamed (pandas writes its row index there, see
    :func:`_index_column`).

    Raises:
        DataError: naming the file, the column's position and the name.
    """
    header = "the column names" if source.parquet else "the header"
    seen: dict[str, tuple[int, str]] = {}
    for position, raw in enumerate(names, start=1):
        raw = str(raw)
        name = raw.strip()
        if not name:
            if position == 1 and unnamed_first:
                continue
            trailing = (" (a separator at the end of every line makes an empty last column)"
                        if position == len(names) > 1 else "")
            raise DataError(f"{source.label}: column {position} of {header} has no name{trailing}; name it "
                            "or delete the column")
        if name in seen:
            first, spelled = seen[name]
            spaces = "" if spelled == raw else ", the spaces around them not counted"
            raise DataError(f"{source.label}: column name {printable(name)} appears more than once in {header} "
                            f"(columns {first} and {position}{spaces}); rename one")
        seen[name] = (position, raw)


def _sniff_delimiter(header: str) -> str:
    """Comma unless the header has none and another common separator instead."""
    if "," in header:
        return ","
    for candidate in (";", "\t", "|"):
        if candidate in header:
            return candidate
    return ","


_DECIMAL_COMMA = re.compile(r"^[-+]?\d+,\d+$")
_DECIMAL_POINT = re.compile(r"^[-+]?\d*\.\d+$")


def _sniff_decimal(source: _Source, delimiter: str, encoding: str) -> str:
    """``,`` when a ``;``-separated file writes numbers with a decimal comma (and never a point)."""
    if delimiter != ";":
        return "."
    commas = points = 0
    with open(source.path, encoding=encoding, errors="replace", newline="") as handle:
        for number, line in enumerate(handle):
            if number > 200:
                break
            for cell in line.strip().split(";")[1:] if number else ():
                cell = cell.strip().strip('"')
                commas += bool(_DECIMAL_COMMA.match(cell))
                points += bool(_DECIMAL_POINT.match(cell))
    if commas and not points:
        log.info("%s: ';'-separated with decimal commas; reading 0,5 as 0.5", source.label)
        return ","
    return "."


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def parse_dates(frame: pd.DataFrame, date_col: str, source: _Source, *, dayfirst: bool = False) -> pd.DatetimeIndex:
    """Parse the date column into naive timestamps, or say which cell is wrong.

    Integer years (``1700``, ``2016``) are yearly timestamps; UTC stamps (``...Z``, ``+00:00``)
    become naive UTC times; ``dayfirst`` reads ``13/01/2010`` as 13 January.
    """
    if date_col not in frame.columns:
        hint = _date_column_hint(frame, date_col)
        raise DataError(f"{source.label}: no date column {printable(date_col)}{hint}")
    raw = frame[date_col]
    missing = raw.isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DataError(f"{source.label}, {source.where(row)}: empty value in date column {printable(date_col)}")
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    elif _years(raw):
        try:
            parsed = pd.to_datetime(raw.astype(np.int64).astype(str), format="%Y")
        except (ValueError, OverflowError) as error:  # pandas 2 cannot hold years before 1678
            raise DataError(f"{source.label}: date column {printable(date_col)} holds years pandas cannot represent "
                            f"({_first_line(error)})") from error
        log.info("%s: date column %s holds whole years; reading them as yearly timestamps", source.label,
                 printable(date_col))
    elif pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        raise DataError(
            f"{source.label}: date column {printable(date_col)} holds numbers, not timestamps "
            "(expected text such as 2016-07-01 00:00:00, or whole years)"
        )
    else:
        text = raw.astype(str).str.strip()
        try:
            parsed = _to_datetime(text, dayfirst=dayfirst)
            if not dayfirst and not parsed.isna().any() and text.str.contains(r"^\d{1,2}[/.-]\d{1,2}[/.-]\d").all():
                parsed = _month_or_day_first(text, parsed, source, date_col)
        except (ValueError, TypeError) as error:  # e.g. mixed time-zone offsets
            reason = _first_line(error)
            if "timezone" in reason.lower() or "time zone" in reason.lower():
                reason = "the dates mix time-zone offsets; write them as naive local or UTC times"
            raise DataError(f"{source.label}: cannot parse date column {printable(date_col)}: {reason}") from error
        bad = parsed.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            hint = ""
            if not dayfirst:
                try:
                    if not _to_datetime(text, dayfirst=True).isna().any():
                        hint = "; the dates look day-first (day/month/year): pass `dayfirst=true`"
                except (ValueError, TypeError):
                    pass
            raise DataError(
                f"{source.label}, {source.where(row)}: cannot parse {printable(text.iloc[row])} in date column "
                f"{printable(date_col)} as a timestamp in the format of the first row ({printable(text.iloc[0])}){hint}"
            )
    dates = pd.DatetimeIndex(parsed)
    if dates.tz is not None:
        if str(dates.tz).upper() not in ("UTC", "UTC+00:00", "+00:00", "ETC/UTC", "GMT"):
            raise DataError(
                f"{source.label}: dates in column {printable(date_col)} carry the time zone {dates.tz}; "
                "write them as naive local times or as UTC"
            )
        log.warning("%s: dates in column %s are UTC; using them as naive UTC times", source.label,
                    printable(date_col))
        dates = dates.tz_convert(None)
    return dates


def _month_or_day_first(text: pd.Series, month_first: pd.Series, source: _Source, date_col: str) -> pd.Series:
    """Dates such as 01/02/2010 read both ways when no day exceeds 12: keep the reading whose
    steps are regular, and say which one was taken."""
    day_first = _to_datetime(text, dayfirst=True)
    if day_first.isna().any() or (day_first == month_first).all():
        return month_first

    def regular(parsed: pd.Series) -> bool:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore")
            return len(parsed) > 2 and pd.infer_freq(pd.DatetimeIndex(parsed)) is not None

    if regular(day_first) and not regular(month_first):
        log.warning("%s: dates in column %s read day-first (day/month/year): read month-first their steps are "
                    "irregular; pass `dayfirst=false` to keep month-first", source.label, printable(date_col))
        return day_first
    log.warning("%s: dates in column %s such as %s read month-first (month/day/year); pass `dayfirst=true` if "
                "they are day/month/year", source.label, printable(date_col), printable(text.iloc[0]))
    return month_first


def _to_datetime(text: pd.Series, *, dayfirst: bool) -> pd.Series:
    with warnings.catch_warnings():
        # pandas warns when it falls back to per-element parsing (or ignores dayfirst for ISO
        # text); the checks after it say which cell does not parse, so warnings are only noise.
        warnings.filterwarnings("ignore", category=UserWarning)
        parsed = pd.to_datetime(text, errors="coerce", dayfirst=dayfirst)
        if parsed.isna().any():
            # e.g. midnight written as a bare date among full timestamps
            retry = pd.to_datetime(text, errors="coerce", format="ISO8601")
            if retry.isna().sum() < parsed.isna().sum():
                parsed = retry
    return parsed


def _years(raw: pd.Series) -> bool:
    """Whole numbers that read as years (1000-2999), increasing: a yearly series."""
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return False
    values = raw.to_numpy(dtype=np.float64)
    return bool(np.all(values == np.round(values)) and values.min() >= 1000 and values.max() <= 2999
                and len(values) > 1 and np.all(np.diff(values) > 0))


def _date_column_hint(frame: pd.DataFrame, date_col: str) -> str:
    for name in frame.columns:
        if name.lower() == date_col.lower() or name.lower() in ("date", "datetime", "time", "timestamp"):
            return f"; pass `date_col={printable(name)}`"
    first = frame.columns[0]
    sample = frame[first].iloc[0]
    if isinstance(sample, str):
        try:
            pd.Timestamp(sample)
            return f"; the first column {printable(first)} looks like dates: pass `date_col={printable(first)}`"
        except (ValueError, TypeError):
            pass
    if len(frame.columns) == 1:  # not a table: do not echo its first line
        return ("; the first line has no ',', ';', tab or '|' between column names: expected a CSV file whose "
                "header names a date column and value columns")
    return f"; columns are {_listing(list(frame.columns), limit=8)}; pass `date_col=NAME`"


def check_timestamps(dates: pd.DatetimeIndex, source: _Source, *, strict: bool) -> None:
    """Refuse duplicate or decreasing timestamps (or only warn, for lenient bundled files)."""
    steps = (dates[1:] - dates[:-1]).to_numpy()
    wrong = np.flatnonzero(steps <= np.timedelta64(0, "ns"))
    if not wrong.size:
        return
    row = int(wrong[0]) + 1
    if dates[row] == dates[row - 1]:
        problem = f"duplicate timestamp {dates[row]} (same as {source.where(row - 1)})"
    else:
        problem = f"timestamp {dates[row]} is earlier than the one before it ({dates[row - 1]}); sort the file by date"
    if strict:
        raise DataError(f"{source.label}, {source.where(row)}: {problem}")
    log.warning(
        "%s: %d repeated or backward timestamps kept, as the published loaders keep them (first: %s, %s)",
        source.label, wrong.size, source.where(row), problem,
    )  # fmt: skip


PANDAS_INDEX = "Unnamed: 0"  # the header pandas' to_csv (index=True) gives the row index


def _index_column(frame: pd.DataFrame, date_col: str, source: _Source) -> pd.DataFrame:
    """A first column written by ``df.to_csv(path)`` (header ``Unnamed: 0``): dropped when it is a
    row counter, used as the date column when it holds the dates and ``date_col`` is absent,
    refused otherwise (an unnamed column is not data to train on)."""
    first = frame.columns[0]
    if first != PANDAS_INDEX or date_col == PANDAS_INDEX or source.parquet:
        return frame
    values = frame[first]
    counter = (pd.api.types.is_integer_dtype(values) and len(values) > 1
               and bool(np.all(np.diff(values.to_numpy()) > 0)))
    if counter and (date_col in frame.columns or not _years(values)):
        # 0..n-1, or with holes where rows were dropped before writing: pandas' row index
        log.warning("%s: dropped the first column, a row counter (the index pandas writes with to_csv)",
                    source.label)
        return frame.drop(columns=first)
    if date_col not in frame.columns and (_years(values) or not pd.api.types.is_numeric_dtype(values)):
        try:
            dates = _years(values) or not _to_datetime(values.astype(str), dayfirst=False).isna().any()
        except (ValueError, TypeError):  # e.g. offsets that change with daylight saving: dates all the same
            dates = True
        if dates:
            log.warning("%s: the unnamed first column holds the dates; reading it as %s", source.label,
                        printable(date_col))
            return frame.rename(columns={first: date_col})
    if date_col in frame.columns:  # neither the row counter nor the dates: it would become a value column
        raise DataError(f"{source.label}: column 1 of the header has no name, and it holds neither a row counter nor "
                        "the dates; name it in the header or delete the column (pandas writes its row index there "
                        "unless to_csv is given index=False)")
    return frame


class FrequencyMismatch(DataError):
    """A declared frequency disagrees with the step of the timestamps."""


def _declared_freq(text: str, dates: pd.DatetimeIndex, source: _Source) -> str:
    """A declared frequency, checked against the timestamps' own step: their regular frequency
    when pandas finds one, else (gaps) their most common step for fixed-length frequencies.

    Raises:
        FrequencyMismatch: naming both when they disagree.
    """
    freq = parse_freq(text, dates)
    if len(dates) < 3:
        return freq
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore")
        inferred = pd.infer_freq(dates)
    declared = to_offset(freq)
    if inferred is None and isinstance(declared, pd.offsets.Tick):
        steps = pd.Series(dates[1:] - dates[:-1]).value_counts()
        step = steps.index[0]
        if steps.iloc[0] >= 2 and step > pd.Timedelta(0) and step != pd.Timedelta(declared):
            inferred = to_offset(step).freqstr
    if inferred is not None and to_offset(inferred) != declared:
        raise FrequencyMismatch(
            f"{source.label}: `freq` {printable(text)} disagrees with the timestamps, which step by "
            f"{to_offset(inferred).freqstr}; drop `freq` to use theirs (to use other time features, "
            f"set `time_freq`)"
        )
    return freq


def select_columns(
    frame: pd.DataFrame,
    *,
    date_col: str,
    features: str,
    target: str | None,
    cols: tuple[str, ...] | None,
    source: _Source,
) -> tuple[list[str], str]:
    """The model's columns in order (others, then the target) and the target's name."""
    available = [c for c in frame.columns if c != date_col]
    if not available:
        raise DataError(f"{source.label}: no value columns besides the date column {printable(date_col)}")
    if cols is not None:
        unknown = [c for c in cols if c not in frame.columns or c == date_col]
        if unknown:
            raise DataError(f"{source.label}: unknown column {printable(unknown[0])}; columns are "
                            f"{_listing(available)}")
        chosen = list(dict.fromkeys(cols))
    else:
        chosen = available
    if target is None:
        target = chosen[-1]
    elif target not in frame.columns or target == date_col:
        raise DataError(f"{source.label}: unknown target column {printable(target)}; columns are {_listing(available)}")
    elif target not in chosen:
        raise DataError(f"{source.label}: target {printable(target)} is not among the `cols`; add it or change "
                        "`target`")
    if features == "S":
        return [target], target
    return [c for c in chosen if c != target] + [target], target


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(map(printable, names[:limit]))
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def numeric_values(frame: pd.DataFrame, columns: list[str], source: _Source) -> np.ndarray:
    """The chosen columns as float64 (N, C); non-numbers are named with their line."""
    arrays = []
    for name in columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column):
            column = column.astype(np.float64)
        if not pd.api.types.is_numeric_dtype(column):
            converted = pd.to_numeric(column, errors="coerce")
            bad = (converted.isna() & column.notna()).to_numpy()
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                cell = str(column.iloc[row]).strip()
                advice = ("a decimal comma: pass `decimal=,`" if _DECIMAL_COMMA.match(cell)
                          else "choose numeric columns with `cols`")
                raise DataError(
                    f"{source.label}, {source.where(row)}: column {printable(name)} holds "
                    f"{printable(column.iloc[row])}, not a number ({advice})"
                )
            column = converted
        arrays.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
    return np.stack(arrays, axis=1)  # (N, C)


# Numbers that data loggers and archives write for "no measurement".
MISSING_CODES = (-9999.0, -99999.0, -999.0, 9999.0, 99999.0)


def check_missing_codes(values: np.ndarray, columns: list[str], source: _Source, *, strict: bool,
                        fill: str | None) -> np.ndarray:
    """Find missing-value codes (-9999 and the like) used in place of measurements: values exactly
    equal to one of :data:`MISSING_CODES` and beyond every other value of their column. With
    ``fill`` they become missing (and are filled); bundled files the published loaders read as
    they are keep them, with a warning.

    Raises:
        DataError: otherwise, naming the column, the first line and the count, and the repair.
    """
    found: list[tuple[int, int, float, int]] = []  # (first row, column, code, count)
    for j in range(values.shape[1]):
        column = values[:, j]
        for code in MISSING_CODES:
            hits = column == code
            if not hits.any():
                continue
            others = column[~hits & np.isfinite(column)]
            beyond = others.size == 0 or (others.min() > code if code < 0 else others.max() < code)
            if beyond and (others.size == 0 or abs(code) > 2 * np.abs(others).max()):
                found.append((int(np.flatnonzero(hits)[0]), j, code, int(hits.sum())))
    if not found:
        return values
    row, j, code, _ = min(found)
    total = sum(count for *_, count in found)
    where = f"{len({f[1] for f in found})} column(s)"
    if strict and fill is None:
        raise DataError(
            f"{source.label}, {source.where(row)}: column {printable(columns[j])} holds {code:g}, a missing-value code "
            f"rather than a measurement ({total} such cells in {where}); treat them as missing and repair them with "
            "`fill=interpolate` or `fill=ffill`"
        )
    if strict:
        values = values.copy()
        for _, column, code, _ in found:
            values[values[:, column] == code, column] = np.nan
        log.info("%s: %d cells holding a missing-value code (%g, ...) treated as missing", source.label, total, code)
        return values
    log.warning("%s: %d cells hold %g (a missing-value code) in %s, the first in column %s on %s; kept as they "
                "are, as the published loaders keep them", source.label, total, code, where, printable(columns[j]),
                source.where(row))
    return values


def repair_missing(values: np.ndarray, columns: list[str], fill: str | None, source: _Source) -> np.ndarray:
    """Refuse NaN/inf cells, or fill them (``ffill``: last value; ``interpolate``: linear)."""
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    if fill is None:
        rows, cols = np.nonzero(bad)
        first = int(np.argmin(rows))
        raise DataError(
            f"{source.label}: {int(bad.sum())} missing or infinite values, the first in column "
            f"{printable(columns[cols[first]])} on {source.where(int(rows[first]))}; "
            "repair them with `fill=ffill` or `fill=interpolate`"
        )
    empty = np.flatnonzero(bad.all(axis=0))
    if empty.size:
        raise DataError(f"{source.label}: column {printable(columns[empty[0]])} has no finite values to fill from")
    frame = pd.DataFrame(np.where(bad, np.nan, values))
    if fill == "ffill":
        frame = frame.ffill()
    else:
        frame = frame.interpolate(method="linear", limit_direction="both")
    log.info("%s: filled %d missing or infinite values (%s)", source.label, int(bad.sum()), fill)
    return frame.bfill().to_numpy(dtype=np.float64)  # leading gaps take the first value


def _warn_gaps(dates: pd.DatetimeIndex, freq: str, source: _Source) -> None:
    """Say where a file read as published skips steps (its windows then span the gap)."""
    try:
        step = pd.Timedelta(pd.tseries.frequencies.to_offset(freq))
    except (TypeError, ValueError):  # a calendar frequency (months): no fixed step
        return
    gaps = np.flatnonzero((dates[1:] - dates[:-1]) > step)
    if gaps.size:
        row = int(gaps[0]) + 1
        missing = int((dates[row] - dates[row - 1]) / step) - 1
        log.warning("%s: %d gap(s) in the timestamps kept, as the published loaders keep them (first: %d missing "
                    "step(s) before %s)", source.label, gaps.size, missing, source.where(row))


def load_series(config: DataConfig) -> TimeSeries:
    """Read, validate and order the data that ``config`` describes.

    Raises:
        DataError: for every problem with the file or its contents, naming the file and the
            column or line.
    """
    source = resolve_source(config.data)
    frame = _index_column(read_table(source, decimal=config.decimal), config.date_col, source)
    dates = parse_dates(frame, config.date_col, source, dayfirst=config.dayfirst)
    strict = source.bundled.strict if source.bundled else True
    check_timestamps(dates, source, strict=strict)
    preset_target = source.bundled.target if source.bundled else None
    columns, target = select_columns(
        frame,
        date_col=config.date_col,
        features=config.features,
        target=config.target or preset_target,
        cols=config.cols,
        source=source,
    )
    values = check_missing_codes(numeric_values(frame, columns, source), columns, source, strict=strict,
                                 fill=config.fill)
    values = repair_missing(values, columns, config.fill, source)
    if config.freq is not None:
        freq = _declared_freq(config.freq, dates, source)
    elif source.bundled is not None:
        freq = source.bundled.freq
    else:
        freq = infer_freq(dates, source=source.label)
    if not strict:
        _warn_gaps(dates, freq, source)
    split = config.split or (source.bundled.split if source.bundled else "ratio")
    time_freq = parse_freq(config.time_freq, dates) if config.time_freq is not None else None
    return TimeSeries(
        source=source.label,
        dates=dates,
        values=values,
        columns=tuple(columns),
        target=target,
        freq=freq,
        split=split,
        time_freq=time_freq,
    )
