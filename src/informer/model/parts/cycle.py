"""A learned cycle, taken out of the input and put back into the forecast.

Residual cycle forecasting (CycleNet; Lin et al., NeurIPS 2024): many series repeat a daily or
weekly pattern. A table ``Q`` of ``period`` rows (one per position in the cycle) and one column
per channel is learned with the model; each step of the window has ``Q`` at its position
subtracted, the model forecasts what remains, and ``Q`` at the forecast steps' positions is
added back. The pattern then no longer has to be rebuilt from every window; the model forecasts
the departures from it.

The positions come from the data (``Batch.phase_enc`` and ``phase_dec``,
:func:`informer.data.timefeatures.cycle_phase`: the step count since 1970 modulo ``period``), so
a step has the same position in training, evaluation and the forecast future. The table starts
at zero: an untrained cycle changes nothing. Where the part sits decides the pattern's units:
outside the normalisation, the data's; inside it (``cycle_norm``, CycleNet's order), each
window's normalised units, so the pattern's amplitude follows the window's spread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from informer.errors import ConfigError
from informer.model.parts import Sizes, with_known

if TYPE_CHECKING:
    from informer.batches import Batch


class Cycle(nn.Module):
    """A learned pattern of ``period`` steps for the last ``channels`` channels (zeros at first).

    Args:
        period: the cycle's length in steps.
        channels: how many channels have a pattern: the last ones of the input (all of them for
            Informer; the forecast ones for DLinear, which reads nothing else).
        label_len: known steps at the start of the decoder input (the rest are placeholders,
            left at zero).
    """

    def linear_parameters(self) -> list[nn.Parameter]:
        """The table: a linear map of the positions, trained at ``train.linear_lr``."""
        return [self.pattern]

    def __init__(self, period: int, channels: int, *, label_len: int) -> None:
        if not isinstance(period, int) or isinstance(period, bool) or period < 1:
            raise ConfigError(f"cycle must be 0 (none) or a cycle length in steps, got {period!r}")
        super().__init__()
        self.label_len = label_len
        self.pattern = nn.Parameter(torch.zeros(period, channels))  # (P, C)

    def at(self, phase: Tensor, channels: int | None = None) -> Tensor:
        """The pattern at positions ``phase`` (B, L): (B, L, C), or of the last ``channels`` channels."""
        values = self.pattern[phase.remainder(self.pattern.shape[0])]  # (B, L, C)
        return values if channels is None else values[..., -channels:]

    def inner_sizes(self, sizes: Sizes) -> Sizes:
        return sizes

    def encode(self, batch: Batch) -> tuple[Batch, Tensor]:
        """The pattern out of the encoder input and the known decoder steps; the state is the
        forecast steps' positions (B, pred_len). The positions are read here and not passed on.

        Raises:
            ValueError: if the batch has no cycle positions.
        """
        if batch.phase_enc is None or batch.phase_dec is None:
            raise ValueError("a model with a cycle needs each step's position in it (batch.phase_enc and "
                             "batch.phase_dec); prepare the data with the model's cycle")
        known = self.label_len
        x_enc = self._remove(batch.x_enc, batch.phase_enc)
        x_dec = with_known(batch.x_dec, known, self._remove(batch.x_dec[:, :known], batch.phase_dec[:, :known]))
        inner = batch.replace(x_enc=x_enc, x_dec=x_dec, phase_enc=None, phase_dec=None)
        return inner, batch.phase_dec[:, known:]

    def decode(self, out: Tensor, future_phase: Tensor) -> Tensor:
        """The pattern at the forecast steps added back: (B, pred_len, c) -> (B, pred_len, c)."""
        return out.float() + self.at(future_phase, out.shape[-1])

    def _remove(self, x: Tensor, phase: Tensor) -> Tensor:
        """(B, L, C) minus the pattern at ``phase`` (B, L) on its last ``channels`` channels."""
        channels = self.pattern.shape[1]
        if channels == x.shape[2]:
            return x - self.at(phase)
        return torch.cat([x[..., :-channels], x[..., -channels:] - self.at(phase)], dim=2)
