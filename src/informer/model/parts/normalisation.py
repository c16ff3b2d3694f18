"""Reversible instance normalisation (RevIN; Kim et al., ICLR 2022), as two parts.

Each window is normalised by its own statistics (per sample and channel, over the encoder's
steps) before the model sees it, and the forecast is taken back to the window's level and scale
at the output (:class:`InstanceNorm`). A series that drifts away from the training split's range
(a trend, a level shift) then reaches the model in the range it was trained on, and its forecast
starts from the window's own level. ``last`` uses the window's last value as its level and no
scaling (NLinear's normalisation; Zeng et al., AAAI 2023). RevIN's learnable per-channel scale
and shift (:class:`Affine`) is a part of its own, so that a part can sit between the two steps
(the cycle in normalised units, as CycleNet orders it).

Both parts record in the batch how the window they hand on relates to the data's units
(``data = x_enc * scale + loc``), for a part inside them that reads the data's units (the raw
linear skip).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from informer.errors import ConfigError
from informer.model.parts import Sizes, with_known

if TYPE_CHECKING:
    from informer.batches import Batch


class InstanceNorm(nn.Module):
    """Per-window normalisation, reversible for the last output channels. No parameters.

    Args:
        label_len: known steps of the decoder input, normalised with the window.
        last: the last value as the level, and no scaling (NLinear), instead of mean and std.
        eps: added to the variance.
    """

    def linear_parameters(self) -> list[nn.Parameter]:
        return []

    def __init__(self, *, label_len: int, last: bool = False, eps: float = 1e-5) -> None:
        super().__init__()
        self.label_len = label_len
        self.last = last
        self.eps = eps

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

    def inner_sizes(self, sizes: Sizes) -> Sizes:
        if sizes.dec_in != sizes.enc_in:
            raise ConfigError(f"norm treats the decoder's channels as the encoder's: dec_in ({sizes.dec_in}) must "
                              f"equal enc_in ({sizes.enc_in})")
        return sizes

    def encode(self, batch: Batch) -> tuple[Batch, tuple[Tensor, Tensor]]:
        """The window and the known decoder steps in units of the window's statistics; the state
        is those statistics, mean and std (B, 1, C) each."""
        mean, std = self.statistics(batch.x_enc)
        x_enc = (batch.x_enc - mean) / std
        x_dec = with_known(batch.x_dec, self.label_len, (batch.x_dec[:, :self.label_len] - mean) / std)
        if batch.scale is None:
            loc, scale = mean, std
        else:  # data = (x * std + mean) * scale + loc
            loc, scale = mean * batch.scale + batch.loc, std * batch.scale
        return batch.replace(x_enc=x_enc, x_dec=x_dec, loc=loc, scale=scale), (mean, std)

    def decode(self, out: Tensor, state: tuple[Tensor, Tensor]) -> Tensor:
        """(B, P, c) -> (B, P, c) back at the level and scale of the window's last ``c`` channels."""
        mean, std = state
        c = out.shape[-1]
        return out.float() * std[..., -c:] + mean[..., -c:]


class Affine(nn.Module):
    """RevIN's learned scale and shift of each of ``channels`` channels, after the normalisation.

    Args:
        channels: input channels C.
        label_len: known steps of the decoder input, scaled with the window.
        eps: keeps the inverse finite where a scale has learned to be 0 (RevIN's published code).
    """

    def linear_parameters(self) -> list[nn.Parameter]:
        return []

    def __init__(self, channels: int, *, label_len: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.label_len = label_len
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def inner_sizes(self, sizes: Sizes) -> Sizes:
        return sizes

    def encode(self, batch: Batch) -> tuple[Batch, None]:
        x_enc = batch.x_enc * self.weight + self.bias
        x_dec = with_known(batch.x_dec, self.label_len, batch.x_dec[:, :self.label_len] * self.weight + self.bias)
        loc, scale = batch.loc, batch.scale
        if scale is not None:  # data = (x - bias) / weight * scale + loc
            scale = scale / (self.weight + self.eps * self.eps)
            loc = loc - self.bias * scale
        return batch.replace(x_enc=x_enc, x_dec=x_dec, loc=loc, scale=scale), None

    def decode(self, out: Tensor, state: None) -> Tensor:
        """The inverse for an output (B, P, c) of the last ``c`` channels."""
        c = out.shape[-1]
        return (out.float() - self.bias[-c:]) / (self.weight[-c:] + self.eps * self.eps)
