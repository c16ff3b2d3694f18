"""Reversible instance normalisation (RevIN; Kim et al., ICLR 2022).

Each window is normalised by its own statistics (per sample and channel, over the encoder's
steps) before the model sees it, and the forecast is taken back to the window's level and scale
at the output. A series that drifts away from the training split's range (a trend, a level
shift) then reaches the model in the range it was trained on, and its forecast starts from the
window's own level. With ``affine``, a learnable scale and shift per channel follow the
normalisation (and are undone before the statistics are).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RevIN(nn.Module):
    """Per-window normalisation of ``channels`` channels, reversible for the last output channels."""

    def __init__(self, channels: int, *, affine: bool = False, eps: float = 1e-5, last: bool = False) -> None:
        super().__init__()
        self.eps = eps
        self.last = last  # the window's last value as its level, and no scaling (NLinear's normalisation)
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))

    def statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and standard deviation (B, 1, C) of a window (B, L, C) over its steps (with ``last``,
        its last step and 1), in float32 and outside the gradient (they are data, not something
        to learn through)."""
        x = x.detach().float()
        if self.last:
            return x[:, -1:], torch.ones_like(x[:, -1:])
        mean = x.mean(dim=1, keepdim=True)
        std = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + self.eps)
        return mean, std

    def normalise(self, x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
        """``x`` (B, L, C) in the window's units -> normalised (and scaled and shifted if affine)."""
        y = (x - mean) / std
        if self.affine:
            y = y * self.weight + self.bias
        return y

    def denormalise(self, y: Tensor, mean: Tensor, std: Tensor) -> Tensor:
        """The inverse for an output (B, P, c) of the last ``c`` channels."""
        c = y.shape[-1]
        if self.affine:
            y = (y - self.bias[-c:]) / (self.weight[-c:] + self.eps * self.eps)
        return y * std[..., -c:] + mean[..., -c:]
