"""A linear forecast beside the network: DLinear's, added to its output.

DLinear (Zeng et al., AAAI 2023) splits the window into a trend (a moving average) and the rest
and maps each linearly over time. Added to the output of the model inside, it leaves the
attention layers to learn what a linear map of the window misses.

``raw``: the linear map reads the window in the data's (train-scaled) units, before any
normalisation around it (through ``Batch.loc`` and ``Batch.scale``), so it keeps the window's
level and can use where the window lies against the training split, which a window normalised by
its own statistics no longer shows; its forecast is brought into the units of the model inside.
Otherwise it reads the window as the part receives it.

``gated``: the inner model's forecast is multiplied by a learned scalar that starts at 0, so
training starts from the linear forecast and brings the network in as far as it helps (ReZero's
trick; Bachlechner et al., 2021).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from informer.model.baselines import TimeMap, linear_forecast
from informer.model.parts import Sizes

if TYPE_CHECKING:
    from informer.batches import Batch


class LinearSkip(nn.Module):
    """DLinear's forecast of the last ``c_out`` channels (one pair of maps shared by them), added
    to the output.

    Args:
        seq_len, pred_len: the window's and the forecast's steps.
        c_out: forecast channels, the last ones of the input.
        moving_avg: the trend's moving-average window, in steps (at most ``seq_len``).
        raw: read the window in the data's units (see the module docstring).
        gated: scale the inner model's forecast by a learned gate that starts at 0.
    """

    def linear_parameters(self) -> list[nn.Parameter]:
        """The two maps over time, trained at ``train.linear_lr``; the gate trains with the
        network, at ``train.lr`` (as in 0.5-0.7)."""
        return [*self.seasonal.parameters(), *self.trend.parameters()]

    def __init__(self, *, seq_len: int, pred_len: int, c_out: int, moving_avg: int, raw: bool,
                 gated: bool) -> None:
        super().__init__()
        self.c_out = c_out
        self.moving_avg = min(moving_avg, seq_len)
        self.raw = raw
        self.seasonal = TimeMap(seq_len=seq_len, pred_len=pred_len, channels=None)
        self.trend = TimeMap(seq_len=seq_len, pred_len=pred_len, channels=None)
        self.gate = nn.Parameter(torch.zeros(())) if gated else None

    def inner_sizes(self, sizes: Sizes) -> Sizes:
        return sizes

    def encode(self, batch: Batch) -> tuple[Batch, Tensor]:
        """The batch unchanged; the state is the linear forecast (B, pred_len, c_out) in the
        units of the window the part received."""
        c = self.c_out
        window = batch.x_enc[..., -c:]  # (B, seq_len, c)
        in_data_units = self.raw and batch.scale is not None
        if in_data_units:
            window = window * batch.scale[..., -c:] + batch.loc[..., -c:]
        forecast = linear_forecast(window, self.seasonal, self.trend, moving_avg=self.moving_avg)
        if in_data_units:
            forecast = (forecast - batch.loc[..., -c:]) / batch.scale[..., -c:]
        return batch, forecast

    def decode(self, out: Tensor, forecast: Tensor) -> Tensor:
        out = out.float() if self.gate is None else out.float() * self.gate
        return out + forecast.float()  # (B, pred_len, c_out)
