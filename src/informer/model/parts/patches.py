"""Patches (PatchTST; Nie et al., ICLR 2023): ``P`` consecutive steps (all channels of them) make
one token, embedded together and forecast together, so the model inside sees ``P`` times fewer
tokens; each token's time features are its first step's. Lengths that are not multiples of ``P``
are padded: the encoder input and the known decoder steps in front with their first step, the
placeholders behind with their last (the extra forecast steps are dropped). Patches do not
overlap."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from informer.model.parts import Sizes

if TYPE_CHECKING:
    from informer.batches import Batch


class Patches(nn.Module):
    """(B, L, C) windows -> (B, ceil(L / P), P * C) tokens; the forecast unrolled back. No parameters.

    Args:
        patch_len: steps per token, P.
        label_len, pred_len: the known decoder steps and the forecast steps, outside.
    """

    def linear_parameters(self) -> list[nn.Parameter]:
        return []

    def __init__(self, patch_len: int, *, label_len: int, pred_len: int) -> None:
        super().__init__()
        self.patch_len = patch_len
        self.label_len = label_len
        self.pred_len = pred_len

    def inner_sizes(self, sizes: Sizes) -> Sizes:
        p = self.patch_len
        return sizes.replace(enc_in=sizes.enc_in * p, dec_in=sizes.dec_in * p, c_out=sizes.c_out * p,
                             seq_len=-(-sizes.seq_len // p), label_len=-(-sizes.label_len // p),
                             pred_len=-(-sizes.pred_len // p))

    def encode(self, batch: Batch) -> tuple[Batch, None]:
        p, known = self.patch_len, self.label_len
        x_enc, x_mark_enc = pad_front(batch.x_enc, p), pad_front(batch.x_mark_enc, p)
        x_dec = torch.cat([pad_front(batch.x_dec[:, :known], p), pad_back(batch.x_dec[:, known:], p)], dim=1)
        x_mark_dec = torch.cat([pad_front(batch.x_mark_dec[:, :known], p),
                                pad_back(batch.x_mark_dec[:, known:], p)], dim=1)
        loc, scale = batch.loc, batch.scale
        inner = batch.replace(
            x_enc=tokens(x_enc, p), x_dec=tokens(x_dec, p),  # (B, L / P, P * C)
            x_mark_enc=x_mark_enc[:, ::p], x_mark_dec=x_mark_dec[:, ::p],  # (B, L / P, F)
            loc=None if loc is None else loc.repeat(1, 1, p),  # (B, 1, P * C), as a token's values
            scale=None if scale is None else scale.repeat(1, 1, p),
        )
        return inner, None

    def decode(self, out: Tensor, state: None) -> Tensor:
        """(B, ceil(pred_len / P), P * c) -> (B, pred_len, c)."""
        return out.reshape(out.shape[0], -1, out.shape[2] // self.patch_len)[:, :self.pred_len]


def pad_front(x: Tensor, patch: int) -> Tensor:
    """(B, L, F) -> (B, ceil(L / P) * P, F): the first step repeated in front (the known past)."""
    missing = -x.shape[1] % patch
    return torch.cat([x[:, :1].expand(-1, missing, -1), x], dim=1) if missing else x


def pad_back(x: Tensor, patch: int) -> Tensor:
    """(B, L, F) -> (B, ceil(L / P) * P, F): the last step repeated behind (placeholders, whose
    extra forecasts are dropped)."""
    missing = -x.shape[1] % patch
    return torch.cat([x, x[:, -1:].expand(-1, missing, -1)], dim=1) if missing else x


def tokens(x: Tensor, patch: int) -> Tensor:
    """(B, L, C) -> (B, L / P, P * C): token t holds steps t*P .. t*P + P - 1, step-major."""
    size, length, channels = x.shape
    return x.reshape(size, length // patch, patch * channels)
