"""A learned cycle, taken out of the input and put back into the forecast.

Residual cycle forecasting (CycleNet; Lin et al., NeurIPS 2024): many series repeat a daily or
weekly pattern. A table ``Q`` of ``period`` rows (one per position in the cycle) and one column
per channel is learned with the model; each step of the window has ``Q`` at its position
subtracted, the model forecasts what remains, and ``Q`` at the forecast steps' positions is
added back. The pattern then no longer has to be rebuilt from every window; the model forecasts
the departures from it.

The positions come from the data, as one more time-feature column (``--cycle P``:
:func:`informer.data.timefeatures.cycle_phase`, the step count since 1970 modulo ``P``), so a
step has the same position in training, evaluation and the forecast future. The table starts
at zero: an untrained cycle changes nothing.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from informer.errors import ConfigError


class Cycle(nn.Module):
    """A learned pattern of ``period`` steps for each of ``channels`` channels (zeros at first)."""

    def __init__(self, period: int, channels: int) -> None:
        if not isinstance(period, int) or isinstance(period, bool) or period < 1:
            raise ConfigError(f"cycle must be 0 (none) or a cycle length in steps, got {period!r}")
        super().__init__()
        self.pattern = nn.Parameter(torch.zeros(period, channels))  # (P, C)

    @staticmethod
    def split(marks: Tensor) -> tuple[Tensor, Tensor]:
        """``(B, L, F + 1)`` time features -> the ``(B, L, F)`` the model embeds and the ``(B, L)``
        cycle positions (the last column)."""
        return marks[..., :-1], marks[..., -1].round().long()

    def at(self, phase: Tensor, channels: int | None = None) -> Tensor:
        """The pattern at positions ``phase`` (B, L): (B, L, C), or of the last ``channels`` channels."""
        values = self.pattern[phase.remainder(self.pattern.shape[0])]  # (B, L, C)
        return values if channels is None else values[..., -channels:]
