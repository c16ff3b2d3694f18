"""Channel independence (PatchTST; Nie et al., ICLR 2023): each channel of a window is a sample of
its own, of one channel. The weights are shared by all channels, which no longer mix; a model
of C channels sees C times as many windows of one channel each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from torch import Tensor, nn

from informer.errors import ConfigError
from informer.model.parts import Sizes

if TYPE_CHECKING:
    from informer.batches import Batch


class ChannelIndependence(nn.Module):
    """(B, L, C) windows -> (B * C, L, 1); the forecast is the last ``c_out`` channels'. No parameters."""

    def linear_parameters(self) -> list[nn.Parameter]:
        return []

    def __init__(self, *, c_out: int) -> None:
        super().__init__()
        self.c_out = c_out

    def inner_sizes(self, sizes: Sizes) -> Sizes:
        if sizes.c_out > sizes.enc_in:
            raise ConfigError(f"channel_independent forecasts the input channels: c_out ({sizes.c_out}) must not "
                              f"exceed enc_in ({sizes.enc_in})")
        if sizes.dec_in != sizes.enc_in:
            raise ConfigError(f"channel_independent treats the decoder's channels as the encoder's: dec_in "
                              f"({sizes.dec_in}) must equal enc_in ({sizes.enc_in})")
        return sizes.replace(enc_in=1, dec_in=1, c_out=1)

    def encode(self, batch: Batch) -> tuple[Batch, tuple[int, int]]:
        size, channels = batch.x_enc.shape[0], batch.x_enc.shape[2]
        loc, scale = batch.loc, batch.scale
        inner = batch.replace(
            x_enc=one_channel_each(batch.x_enc),  # (B * C, seq_len, 1)
            x_dec=one_channel_each(batch.x_dec),  # (B * C, label_len + pred_len, 1)
            x_mark_enc=batch.x_mark_enc.repeat_interleave(channels, dim=0),  # (B * C, seq_len, F)
            x_mark_dec=batch.x_mark_dec.repeat_interleave(channels, dim=0),
            loc=None if loc is None else one_channel_each(loc),  # (B * C, 1, 1)
            scale=None if scale is None else one_channel_each(scale),
        )
        return inner, (size, channels)

    def decode(self, out: Tensor, state: tuple[int, int]) -> Tensor:
        """(B * C, pred_len, 1) -> (B, pred_len, c_out)."""
        size, channels = state
        return out.reshape(size, channels, out.shape[1]).transpose(1, 2)[..., -self.c_out:]


def one_channel_each(x: Tensor) -> Tensor:
    """(B, L, C) -> (B * C, L, 1): sample b's channel c becomes sample b * C + c."""
    size, length, channels = x.shape
    return x.transpose(1, 2).reshape(size * channels, length, 1)
