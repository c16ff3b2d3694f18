"""Encoder: post-LayerNorm attention layers, the distilling block between them, the stack.

Lengths: with distilling, each block between two layers halves the length (rounding up), so
a 96-step input leaves a 2-layer encoder with 48 steps and a 3-layer one with 24. The stack of
:class:`EncoderStack` feeds encoder ``k`` the last ``L // 2**k`` steps and concatenates the
outputs along time (96 -> 48 + 24 ... see :func:`encoder_output_length`).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from informer.config import ACTIVATIONS
from informer.model.attention import AttentionLayer, make_inner_attention
from informer.model.checkpointing import checkpointed
from informer.model.dropout import Dropout


class FeedForward(nn.Module):
    """Position-wise feed-forward: D -> d_ff -> D with GELU or ReLU and dropout after each.

    The published code writes it as two Conv1d with kernel 1; a linear map is the same function.
    """

    def __init__(self, *, d_model: int, d_ff: int, dropout: float, activation: str) -> None:
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be 'gelu' or 'relu', got {activation!r}")
        self.expand = nn.Linear(d_model, d_ff)
        self.contract = nn.Linear(d_ff, d_model)
        self.dropout = Dropout(dropout)
        self.activation = F.gelu if activation == "gelu" else F.relu

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, D) -> (B, L, D)."""
        hidden = self.dropout(self.activation(self.expand(x)))  # (B, L, d_ff)
        return self.dropout(self.contract(hidden))


class EncoderLayer(nn.Module):
    """Self-attention + residual + LayerNorm, then feed-forward + residual + LayerNorm."""

    def __init__(
        self,
        *,
        d_model: int,
        n_heads: int,
        d_ff: int,
        factor: int,
        dropout: float,
        attn: str,
        activation: str,
    ) -> None:
        super().__init__()
        inner = make_inner_attention(attn, causal=False, factor=factor, dropout=dropout)
        self.attention = AttentionLayer(d_model=d_model, n_heads=n_heads, attention=inner, mix=False)
        self.attention_norm = nn.LayerNorm(d_model)
        self.feed_forward = FeedForward(d_model=d_model, d_ff=d_ff, dropout=dropout, activation=activation)
        self.feed_forward_norm = nn.LayerNorm(d_model)
        self.dropout = Dropout(dropout)
        self.checkpoint_activations = False

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """(B, L, D) -> (B, L, D)."""
        if self.checkpoint_activations and self.training and torch.is_grad_enabled():
            x = checkpointed(self._attention_block, x, generator=generator)
            return checkpointed(self._feed_forward_block, x)
        return self._feed_forward_block(self._attention_block(x, generator=generator))

    def _attention_block(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return self.attention_norm(x + self.dropout(self.attention(x, x, x, generator=generator)))

    def _feed_forward_block(self, x: Tensor) -> Tensor:
        return self.feed_forward_norm(x + self.feed_forward(x))


class DistillingLayer(nn.Module):
    """Conv1d(kernel 3, circular) -> BatchNorm -> ELU -> MaxPool(3, stride 2, padding 1).

    Halves the length, rounding up: (B, L, D) -> (B, ceil(L / 2), D). In training mode the
    BatchNorm statistics couple the items of a batch.
    """

    def __init__(self, *, d_model: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(d_model, d_model, kernel_size=3, padding=1, padding_mode="circular")
        self.norm = nn.BatchNorm1d(d_model)
        self.activation = nn.ELU()
        self.pool = nn.MaxPool1d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """(B, L, D) -> (B, ceil(L / 2), D)."""
        y = self.conv(x.transpose(1, 2))  # (B, D, L)
        y = self.pool(self.activation(self.norm(y)))  # (B, D, ceil(L/2))
        return y.transpose(1, 2)  # (B, ceil(L/2), D)


class Encoder(nn.Module):
    """``depth`` encoder layers, a distilling block between consecutive layers, a final LayerNorm.

    With ``distil=False`` there are no distilling blocks and the length is kept.
    """

    def __init__(self, *, depth: int, d_model: int, distil: bool, **layer: Any) -> None:
        """``layer``: the keyword arguments of :class:`EncoderLayer` but ``d_model`` (n_heads, d_ff,
        factor, dropout, attn, activation)."""
        super().__init__()
        if depth < 1:
            raise ValueError(f"an encoder needs at least one layer, got depth {depth}")
        self.layers = nn.ModuleList(EncoderLayer(d_model=d_model, **layer) for _ in range(depth))
        self.distil_layers = (
            nn.ModuleList(DistillingLayer(d_model=d_model) for _ in range(depth - 1)) if distil else None
        )
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """(B, L, D) -> (B, L', D), L' = ceil(L / 2**(depth - 1)) with distilling, else L."""
        for index, layer in enumerate(self.layers):
            x = layer(x, generator=generator)
            if self.distil_layers is not None and index < len(self.distil_layers):
                x = self.distil_layers[index](x)
        return self.norm(x)


class EncoderStack(nn.Module):
    """Several encoders; encoder ``k`` reads the last ``L // 2**k`` steps; outputs are concatenated.

    Args:
        depths: layers of each encoder (the published ``s_layers``, default 3, 2, 1).
        other arguments: as for :class:`Encoder`.
    """

    def __init__(self, *, depths: tuple[int, ...], **encoder: Any) -> None:
        super().__init__()
        self.encoders = nn.ModuleList(Encoder(depth=depth, **encoder) for depth in depths)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """(B, L, D) -> (B, sum_k L'_k, D)."""
        length = x.shape[1]
        outputs = []
        for level, encoder in enumerate(self.encoders):
            steps = length // 2**level
            if steps == 0:
                raise ValueError(
                    f"encoder {level} of the stack would read {length} // 2**{level} = 0 steps; "
                    "use a longer seq_len or fewer encoders in s_layers"
                )
            outputs.append(encoder(x[:, -steps:], generator=generator))  # (B, L'_k, D)
        return torch.cat(outputs, dim=1)  # (B, sum_k L'_k, D)


def encoder_output_length(seq_len: int, depths: tuple[int, ...] | int, *, distil: bool = True) -> int:
    """Steps the encoder (an int depth) or the encoder stack (a tuple of depths) returns."""
    if isinstance(depths, int):
        return math.ceil(seq_len / 2 ** (depths - 1)) if distil else seq_len
    return sum(
        encoder_output_length(seq_len // 2**level, depth, distil=distil) for level, depth in enumerate(depths)
    )
