"""Input embedding: value convolution + fixed position table + time embedding, then dropout.

The encoder and the decoder each own one :class:`DataEmbedding`. Positions restart at 0 in
both: the decoder input's first step (the first known label step) has position 0.
"""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor, nn

from informer.config import EMBEDDINGS
from informer.data.timefeatures import timef_width
from informer.model.dropout import Dropout

# Calendar fields of the ``fixed`` / ``learned`` time embeddings: (name, table rows, column).
# The published tables are one row larger than needed for month (1-12) and day (1-31).
CALENDAR_TABLES = (("month", 13, 0), ("day", 32, 1), ("weekday", 7, 2), ("hour", 24, 3), ("minute", 4, 4))


def sinusoid_table(rows: int, width: int) -> Tensor:
    """The Transformer sinusoid table (rows, width): sin on even columns, cos on odd ones.

    Column pair ``(2i, 2i + 1)`` of row ``p`` holds ``sin`` and ``cos`` of
    ``p * exp(-2i * ln(10000) / width)``, computed in float32 as the published code does.
    """
    position = torch.arange(rows, dtype=torch.float32).unsqueeze(1)  # (rows, 1)
    frequency = (torch.arange(0, width, 2, dtype=torch.float32) * -(math.log(10000.0) / width)).exp()
    table = torch.zeros(rows, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency[: width // 2])
    return table


class ValueEmbedding(nn.Module):
    """Conv1d(C -> D, kernel 3, circular padding) over time, Kaiming-normal initialised.

    Circular padding wraps around the window: the first step also sees the last one.
    """

    def __init__(self, *, c_in: int, d_model: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(c_in, d_model, kernel_size=3, padding=1, padding_mode="circular")
        nn.init.kaiming_normal_(self.conv.weight, mode="fan_in", nonlinearity="leaky_relu")

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, C) -> (B, L, D)."""
        return self.conv(x.transpose(1, 2)).transpose(1, 2)  # (B, C, L) -> (B, D, L) -> (B, L, D)


class PositionalEmbedding(nn.Module):
    """The fixed sinusoid table of positions 0 .. max_len - 1 (not a parameter, not saved)."""

    def __init__(self, *, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        self.register_buffer("table", sinusoid_table(max_len, d_model), persistent=False)

    def forward(self, length: int) -> Tensor:
        """length -> (L, D)."""
        if length > self.table.shape[0]:
            raise ValueError(
                f"sequence of {length} steps is longer than the position table ({self.table.shape[0]})"
            )
        return self.table[:length]


class TimeFeatureEmbedding(nn.Module):
    """``timeF``: a linear map of the continuous time features (B, L, F) -> (B, L, D).

    Yearly data (letter ``a``) has no features (F = 0): the map is then a learned constant.
    """

    def __init__(self, *, n_features: int, d_model: int) -> None:
        super().__init__()
        with warnings.catch_warnings():  # F = 0: PyTorch warns that initialising no weights is a no-op
            warnings.filterwarnings("ignore", message="Initializing zero-element tensors")
            self.linear = nn.Linear(n_features, d_model)

    def forward(self, x_mark: Tensor) -> Tensor:
        return self.linear(x_mark)


class SinusoidLookup(nn.Module):
    """A frozen sinusoid table used as an embedding lookup (``fixed`` time embedding)."""

    def __init__(self, *, rows: int, d_model: int) -> None:
        super().__init__()
        self.register_buffer("table", sinusoid_table(rows, d_model), persistent=False)

    def forward(self, index: Tensor) -> Tensor:
        return self.table[index]


class CalendarEmbedding(nn.Module):
    """``fixed`` / ``learned``: one table per calendar field, summed.

    Reads columns 0-3 (month, day, weekday, hour) of the calendar fields, and column 4
    (minute // 15) only for minute-level data (``minutes=True``, paper letter ``t``), so hourly
    inputs may have 4 or 5 columns. ``fixed`` tables are frozen sinusoids; ``learned`` ones are
    trainable ``nn.Embedding`` tables.
    """

    def __init__(self, *, d_model: int, learned: bool, minutes: bool) -> None:
        super().__init__()
        tables = CALENDAR_TABLES if minutes else CALENDAR_TABLES[:4]
        self.columns = {name: column for name, _, column in tables}
        for name, rows, _ in tables:
            table = nn.Embedding(rows, d_model) if learned else SinusoidLookup(rows=rows, d_model=d_model)
            self.add_module(name, table)

    @property
    def n_features(self) -> int:
        """Calendar columns the input must have at least."""
        return len(self.columns)

    def forward(self, x_mark: Tensor) -> Tensor:
        """(B, L, F) float calendar fields holding integers -> (B, L, D)."""
        fields = x_mark.long()
        return sum(getattr(self, name)(fields[:, :, column]) for name, column in self.columns.items())


class DataEmbedding(nn.Module):
    """Value embedding + position embedding + time embedding, then dropout.

    Args:
        c_in: input channels C.
        d_model: model width D.
        embed: ``"timeF"`` (linear map of continuous time features), ``"fixed"`` (frozen
            sinusoid tables of calendar fields) or ``"learned"`` (trainable tables).
        freq: paper letter of the data frequency (s, t, h, d, b, w, m, a); it sets the
            ``timeF`` width and whether calendar embeddings read the minute column.
        dropout: dropout probability on the sum.
        max_len: longest sequence the position table covers.
    """

    def __init__(
        self,
        *,
        c_in: int,
        d_model: int,
        embed: str = "timeF",
        freq: str = "h",
        dropout: float = 0.0,
        max_len: int = 5000,
    ) -> None:
        super().__init__()
        if embed not in EMBEDDINGS:
            raise ValueError(f"embed must be one of {', '.join(EMBEDDINGS)}; got {embed!r}")
        self.value = ValueEmbedding(c_in=c_in, d_model=d_model)
        self.position = PositionalEmbedding(d_model=d_model, max_len=max_len)
        if embed == "timeF":
            self.temporal = TimeFeatureEmbedding(n_features=timef_width(freq), d_model=d_model)
        else:
            self.temporal = CalendarEmbedding(d_model=d_model, learned=embed == "learned", minutes=freq == "t")
        self.dropout = Dropout(dropout)
        self.c_in = c_in
        self.embed = embed

    @property
    def n_features(self) -> int:
        """F, the time-feature columns expected (calendar embeddings accept more)."""
        if self.embed == "timeF":
            return self.temporal.linear.in_features
        return self.temporal.n_features

    def forward(self, x: Tensor, x_mark: Tensor) -> Tensor:
        """(B, L, C), (B, L, F) -> (B, L, D)."""
        embedded = self.value(x) + self.position(x.shape[1]) + self.temporal(x_mark)
        return self.dropout(embedded)
