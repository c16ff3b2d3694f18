"""Two baselines that give the Informer rows of a result table their context.

Shapes follow the legend in the :mod:`informer.model` package docstring (B batch, L time steps,
C channels, F time-feature columns).

* :class:`Repeat` (``kind="repeat"``): the last observed value, repeated over the horizon. It has
  nothing to fit; a model that cannot beat it has learned nothing about the series.
* :class:`Linear` (``kind="linear"``): DLinear (Zeng et al., AAAI 2023, "Are Transformers
  Effective for Time Series Forecasting?"): a moving-average split into trend and seasonal parts
  and one linear map over time for each. It is the paper's evidence that a plain linear model
  often beats Transformer forecasters on these data sets, so a Transformer row needs it beside it.

Both meet the :class:`~informer.model.forecaster.Forecaster` contract. They read only the encoder
window ``batch.x_enc`` (B, seq_len, enc_in) and forecast each channel from its own past; the time
features and the decoder input are accepted and ignored. ``label_len`` and ``freq`` are kept in
the settings only so that :meth:`input_shapes` can describe those ignored inputs exactly.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from informer.config import ModelConfig
from informer.data.timefeatures import TIMEF_FEATURES, timef_width
from informer.data.windows import window_shapes
from informer.errors import ConfigError
from informer.model.inputs import check_unread

if TYPE_CHECKING:
    from informer.batches import Batch


def decompose(x: Tensor, moving_avg: int) -> tuple[Tensor, Tensor]:
    """Split a series into its seasonal part and its trend, a centred moving average.

    The series is padded by repeating its first and last rows, ``(moving_avg - 1) // 2`` in front
    and the rest behind, so the trend keeps the input's length for odd and even windows alike
    (DLinear's published code pads ``(k - 1) // 2`` on both sides, one step short for even k).

    Args:
        x: series (B, L, C).
        moving_avg: window of the moving average, in steps (1 makes the trend the series).

    Returns:
        ``(seasonal, trend)``, each (B, L, C), with ``seasonal + trend == x``.
    """
    front = (moving_avg - 1) // 2
    padded = torch.cat(
        [x[:, :1].expand(-1, front, -1), x, x[:, -1:].expand(-1, moving_avg - 1 - front, -1)], dim=1
    )  # (B, L + moving_avg - 1, C)
    trend = F.avg_pool1d(padded.transpose(1, 2), moving_avg, stride=1).transpose(1, 2)  # (B, L, C)
    return x - trend, trend


class _Baseline(nn.Module):
    """Settings, validation, input shapes and the x_enc check the two baselines share."""

    def __init__(self, **settings: Any) -> None:
        super().__init__()
        sizes = {name: settings[name] for name in ("enc_in", "c_out", "seq_len", "pred_len", "moving_avg")
                 if name in settings}
        for name, value in sizes.items():
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        label_len = settings["label_len"]
        if not isinstance(label_len, int) or isinstance(label_len, bool) or label_len < 0:
            raise ConfigError(f"label_len must be a non-negative integer, got {label_len!r}")
        if settings["c_out"] > settings["enc_in"]:
            raise ConfigError(
                f"c_out ({settings['c_out']}) must not exceed enc_in ({settings['enc_in']}): "
                "the forecast is the last c_out input channels"
            )
        if settings["freq"] not in TIMEF_FEATURES:
            raise ConfigError(f"freq must be a paper letter ({', '.join(TIMEF_FEATURES)}), got {settings['freq']!r}")
        self._settings = settings

    @property
    def settings(self) -> dict[str, Any]:
        """The constructor arguments as plain ints, strings and bools."""
        return dict(self._settings)

    @property
    def pred_len(self) -> int:
        return self._settings["pred_len"]

    def input_shapes(self, batch_size: int) -> dict[str, tuple[int, ...]]:
        """Shapes of the four inputs for a batch (marks as ``timeF`` columns; only x_enc is read)."""
        s = self._settings
        return window_shapes(batch_size, seq_len=s["seq_len"], label_len=s["label_len"], pred_len=s["pred_len"],
                             enc_in=s["enc_in"], dec_in=s["enc_in"],
                             marks=timef_width(s["freq"]))

    def _check_x_enc(self, x_enc: Tensor) -> None:
        want = (self._settings["seq_len"], self._settings["enc_in"])
        if x_enc.dim() != 3 or tuple(x_enc.shape[1:]) != want:
            raise ValueError(
                f"x_enc must have shape (B, seq_len, enc_in) = (B, {want[0]}, {want[1]}); got {tuple(x_enc.shape)}"
            )


class Repeat(_Baseline):
    """The last observed value of each output channel, repeated ``pred_len`` times. No parameters.

    Args:
        enc_in: input channels C.
        c_out: output channels, the last ``c_out`` input channels (1 for S and MS: the target).
        seq_len: encoder input steps.
        pred_len: steps to forecast.
        label_len: known steps of the (ignored) decoder input, for :meth:`input_shapes`.
        freq: paper letter of the data frequency, for the (ignored) time features' width.

    Raises:
        ConfigError: (a ``ValueError``) for a non-positive size, ``c_out > enc_in`` or an unknown freq.
    """

    kind = "repeat"
    trainable = False
    config_fields = ()

    def __init__(self, *, enc_in: int, c_out: int, seq_len: int, pred_len: int, label_len: int = 0,
                 freq: str = "h") -> None:
        super().__init__(enc_in=enc_in, c_out=c_out, seq_len=seq_len, pred_len=pred_len, label_len=label_len,
                         freq=freq)

    def forward(self, batch: Batch, *, generator: torch.Generator | None = None) -> Tensor:
        """The forecast (B, pred_len, c_out) from batch.x_enc (B, seq_len, enc_in); other inputs are ignored.

        Raises:
            ValueError: if x_enc is not (B, seq_len, enc_in).
        """
        self._check_x_enc(batch.x_enc)
        # Positions in a cycle may come with the data (a cycle setting, which this kind ignores
        # with a warning); they cannot change the last value.
        check_unread(batch, ("phase_enc", "phase_dec"))
        last = batch.x_enc[:, -1:, -self._settings["c_out"]:]  # (B, 1, c_out)
        # A real copy: callers may write into the forecast, which an expanded view would forbid.
        return last.expand(-1, self.pred_len, -1).contiguous()  # (B, pred_len, c_out)


class TimeMap(nn.Module):
    """A linear map over time, seq_len -> pred_len: one for all channels, or one per channel.

    Per-channel maps are one batched weight (C, pred_len, seq_len) rather than C ``nn.Linear``
    modules, so 320 channels cost one einsum, not 320 kernel launches. Both kinds start as
    ``nn.Linear`` does: weight and bias uniform in +-1/sqrt(seq_len).
    """

    def __init__(self, *, seq_len: int, pred_len: int, channels: int | None) -> None:
        super().__init__()
        leading = () if channels is None else (channels,)
        bound = 1 / math.sqrt(seq_len)
        self.weight = nn.Parameter(torch.empty(*leading, pred_len, seq_len).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(*leading, pred_len).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, seq_len) -> (B, C, pred_len)."""
        if self.weight.dim() == 2:
            return F.linear(x, self.weight, self.bias)
        return torch.einsum("bcl,cpl->bcp", x, self.weight) + self.bias


class Linear(_Baseline):
    """DLinear: seasonal and trend parts of the input window, each mapped linearly over time.

    Args:
        enc_in: input channels C.
        c_out: output channels, the last ``c_out`` input channels (1 for S and MS: the target).
        seq_len: encoder input steps.
        pred_len: steps to forecast.
        moving_avg: moving-average window of the trend, in steps.
        individual: one pair of maps per output channel instead of one pair shared by all.
        label_len: known steps of the (ignored) decoder input, for :meth:`input_shapes`.
        freq: paper letter of the data frequency, for the (ignored) time features' width.

    A learned cycle (CycleNet with DLinear's maps) is a part composed around it
    (:class:`~informer.model.parts.cycle.Cycle`), as around Informer.

    Raises:
        ConfigError: (a ``ValueError``) for a non-positive size, ``c_out > enc_in``,
            ``moving_avg > seq_len``, a non-bool ``individual`` or an unknown freq.
    """

    kind = "linear"
    trainable = True
    config_fields = ("moving_avg", "individual")

    def __init__(self, *, enc_in: int, c_out: int, seq_len: int, pred_len: int,
                 moving_avg: int = ModelConfig.moving_avg, individual: bool = ModelConfig.individual,
                 label_len: int = 0, freq: str = "h") -> None:
        if not isinstance(individual, bool):
            raise ConfigError(f"individual must be true or false, got {individual!r}")
        super().__init__(enc_in=enc_in, c_out=c_out, seq_len=seq_len, pred_len=pred_len, moving_avg=moving_avg,
                         individual=individual, label_len=label_len, freq=freq)
        if moving_avg > seq_len:
            raise ConfigError(f"`moving_avg` ({moving_avg}) is longer than `seq_len` ({seq_len}): the trend would "
                              f"mostly average padding; choose `moving_avg` <= {seq_len}")
        # Only the last c_out channels are forecast, and every map reads one channel's own past:
        # mapping just those gives the published model's forecast (for MS, the target's) without
        # computing, or storing, forecasts that are thrown away.
        channels = c_out if individual else None
        self.seasonal = TimeMap(seq_len=seq_len, pred_len=pred_len, channels=channels)
        self.trend = TimeMap(seq_len=seq_len, pred_len=pred_len, channels=channels)

    def forward(self, batch: Batch, *, generator: torch.Generator | None = None) -> Tensor:
        """The forecast (B, pred_len, c_out) from batch.x_enc (B, seq_len, enc_in); the other
        inputs are not read.

        Raises:
            ValueError: if x_enc is not (B, seq_len, enc_in).
        """
        self._check_x_enc(batch.x_enc)
        check_unread(batch, ())
        window = batch.x_enc[:, :, -self._settings["c_out"]:]  # (B, seq_len, c_out)
        return linear_forecast(window, self.seasonal, self.trend, moving_avg=self._settings["moving_avg"])


def linear_forecast(window: Tensor, seasonal: TimeMap, trend: TimeMap, *, moving_avg: int) -> Tensor:
    """DLinear's forecast (B, pred_len, c) of a window (B, seq_len, c): its seasonal part and its
    trend (:func:`decompose`) each mapped over time, and added."""
    seasonal_part, trend_part = decompose(window, moving_avg)  # (B, seq_len, c) each
    forecast = seasonal(seasonal_part.transpose(1, 2)) + trend(trend_part.transpose(1, 2))  # (B, c, pred_len)
    return forecast.transpose(1, 2).contiguous()  # (B, pred_len, c)
