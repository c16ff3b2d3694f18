"""Train/validation/test borders as named presets.

Each split is a half-open row range ``[start, end)`` of the whole series. Validation and test
start ``seq_len`` rows before their first target row, so the first window's prediction lies
inside the split (the published code's ``border1s``/``border2s``). Presets:

* ``ett_hour``: the paper's ETT hourly split, months of 30 days, 12/4/4 months: train
  [0, 8640), val [8640 - seq_len, 11520), test [11520 - seq_len, 14400); later rows unused.
* ``ett_minute``: the same for 15-minute data, every border times 4.
* ``ratio``: 70% / 10% / 20% of the rows (train = int(0.7 n), test = int(0.2 n), val the
  rest), as the published code cuts every other dataset. ``ratio:0.8,0.1,0.1`` picks other
  fractions with the same arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass

from informer.errors import ConfigError, DataError

SPLIT_NAMES = ("train", "val", "test")

_HOURS_PER_MONTH = 30 * 24
# Months of train, val and test in the ETT presets.
_ETT_MONTHS = (12, 4, 4)
_ETT_STEPS_PER_HOUR = {"ett_hour": 1, "ett_minute": 4}
SPLIT_PRESETS = ("ett_hour", "ett_minute", "ratio")


@dataclass(frozen=True)
class Borders:
    """Row ranges ``[start, end)`` of each split; val and test include their look-back rows."""

    train: tuple[int, int]
    val: tuple[int, int]
    test: tuple[int, int]

    def __getitem__(self, split: str) -> tuple[int, int]:
        if split not in SPLIT_NAMES:
            raise KeyError(f"unknown split {split!r}; use one of {', '.join(SPLIT_NAMES)}")
        return getattr(self, split)

    def windows(self, split: str, *, seq_len: int, pred_len: int) -> int:
        """Number of windows in ``split``: rows - seq_len - pred_len + 1 (may be <= 0)."""
        start, end = self[split]
        return end - start - seq_len - pred_len + 1

    def as_dict(self) -> dict[str, list[int]]:
        return {split: list(self[split]) for split in SPLIT_NAMES}


def split_rows(preset: str, n_rows: int) -> tuple[int, int, int]:
    """The rows each split owns (without the look-back of val and test): train, val, test.

    Raises:
        ConfigError: for an unknown preset or malformed ratios.
        DataError: when the series is too short for an ETT preset.
    """
    if preset in _ETT_STEPS_PER_HOUR:
        month = _HOURS_PER_MONTH * _ETT_STEPS_PER_HOUR[preset]
        rows = tuple(months * month for months in _ETT_MONTHS)
        if n_rows < sum(rows):
            raise DataError(f"the {preset} split needs {sum(rows)} rows, the data has {n_rows}; use `split=ratio`")
        return rows
    train_fraction, _, test_fraction = parse_ratio(preset)
    n_train = int(n_rows * train_fraction)
    n_test = int(n_rows * test_fraction)
    return n_train, n_rows - n_train - n_test, n_test


def split_borders(preset: str, n_rows: int, seq_len: int, *, pred_len: int | None = None) -> Borders:
    """The borders of ``preset`` for a series of ``n_rows`` rows.

    Raises:
        ConfigError: for an unknown preset or malformed ratios.
        DataError: when the series is too short for the preset or for ``seq_len`` (the message
            gives each split's rows and, with ``pred_len``, the longest ``seq_len`` that fits).
    """
    n_train, n_val, n_test = split_rows(preset, n_rows)
    train_end, val_end = n_train, n_train + n_val
    borders = Borders((0, train_end), (train_end - seq_len, val_end), (val_end - seq_len, val_end + n_test))
    for split in SPLIT_NAMES:
        start, end = borders[split]
        if start < 0 or end <= start:
            raise DataError(f"the data is too short for seq_len {seq_len}: "
                            + length_advice(preset, n_rows, seq_len, pred_len))
    return borders


def length_advice(preset: str, n_rows: int, seq_len: int, pred_len: int | None) -> str:
    """Each split's rows, the rows a window needs, and the longest ``seq_len`` that fits."""
    n_train, n_val, n_test = split_rows(preset, n_rows)
    text = f"the {preset} split gives train {n_train}, val {n_val} and test {n_test} rows of {n_rows}"
    if pred_len is None:
        return text + f"; use a `seq_len` of at most {n_train - 1} or more data"
    text += (f"; a window needs seq_len + pred_len = {seq_len + pred_len} train rows, and every split at least "
             f"pred_len = {pred_len}")
    if min(n_val, n_test) < pred_len or n_train - pred_len < 1:
        return text + "; no seq_len fits: use a shorter `pred_len`, another `split` or more data"
    return text + f"; the longest `seq_len` that fits is {n_train - pred_len}"


def parse_ratio(preset: str) -> tuple[float, float, float]:
    """Fractions of ``ratio`` (0.7, 0.1, 0.2) or ``ratio:a,b,c``."""
    if preset == "ratio":
        return (0.7, 0.1, 0.2)
    if not preset.startswith("ratio:"):
        raise ConfigError(
            f"unknown split {preset!r}; use one of {', '.join(SPLIT_PRESETS)} or ratio:TRAIN,VAL,TEST"
        )
    try:
        fractions = tuple(float(part) for part in preset[len("ratio:") :].split(","))
    except ValueError:
        fractions = ()
    if len(fractions) != 3 or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ConfigError(f"split {preset!r}: give three positive fractions that sum to 1, e.g. ratio:0.7,0.1,0.2")
    return fractions  # type: ignore[return-value]


def check_split_name(preset: str) -> str:
    """Validate a split preset name early (before any data is read)."""
    if preset not in _ETT_STEPS_PER_HOUR:
        parse_ratio(preset)
    return preset
