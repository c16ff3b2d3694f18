"""Decoder: masked self-attention, full cross-attention to the encoder output, feed-forward.

Each sub-layer is followed by dropout, a residual connection and a LayerNorm (post-norm); the
decoder ends with one more LayerNorm. The model projects its output to ``c_out`` channels.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from informer.model.attention import AttentionLayer, FullAttention, make_inner_attention
from informer.model.checkpointing import checkpointed
from informer.model.dropout import Dropout
from informer.model.encoder import FeedForward


class DecoderLayer(nn.Module):
    """Masked self-attention (ProbSparse or full, optionally ``mix``), cross-attention, feed-forward."""

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
        mix: bool,
        lazy_decoder: str = "cumsum",
    ) -> None:
        super().__init__()
        inner = make_inner_attention(attn, causal=True, factor=factor, dropout=dropout, lazy_causal=lazy_decoder)
        self.self_attention = AttentionLayer(d_model=d_model, n_heads=n_heads, attention=inner, mix=mix)
        self.self_attention_norm = nn.LayerNorm(d_model)
        self.cross_attention = AttentionLayer(
            d_model=d_model,
            n_heads=n_heads,
            attention=FullAttention(causal=False, dropout=dropout),
            mix=False,
        )
        self.cross_attention_norm = nn.LayerNorm(d_model)
        self.feed_forward = FeedForward(d_model=d_model, d_ff=d_ff, dropout=dropout, activation=activation)
        self.feed_forward_norm = nn.LayerNorm(d_model)
        self.dropout = Dropout(dropout)
        self.checkpoint_activations = False

    def forward(self, x: Tensor, memory: Tensor, generator: torch.Generator | None = None,
                keep_last: int | None = None) -> Tensor:
        """(B, L, D) decoder input, (B, L_enc, D) encoder output -> (B, L, D), or (B, keep_last, D):
        only the last ``keep_last`` steps after self-attention (every sub-layer after it works on
        each step alone, so the kept steps come out exactly as if all had been computed)."""
        checkpoint = self.checkpoint_activations and self.training and torch.is_grad_enabled()
        if checkpoint:
            x = checkpointed(self._self_attention_block, x, generator=generator)
        else:
            x = self._self_attention_block(x, generator=generator)
        if keep_last is not None:
            x = x[:, -keep_last:]
        if checkpoint:
            return checkpointed(self._feed_forward_block, checkpointed(self._cross_attention_block, x, memory))
        return self._feed_forward_block(self._cross_attention_block(x, memory))

    def _self_attention_block(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return self.self_attention_norm(x + self.dropout(self.self_attention(x, x, x, generator=generator)))

    def _cross_attention_block(self, x: Tensor, memory: Tensor) -> Tensor:
        return self.cross_attention_norm(x + self.dropout(self.cross_attention(x, memory, memory)))

    def _feed_forward_block(self, x: Tensor) -> Tensor:
        return self.feed_forward_norm(x + self.feed_forward(x))


class Decoder(nn.Module):
    """``depth`` decoder layers and a final LayerNorm."""

    def __init__(self, *, depth: int, d_model: int, **layer: Any) -> None:
        """``layer``: the keyword arguments of :class:`DecoderLayer` but ``d_model``."""
        super().__init__()
        if depth < 1:
            raise ValueError(f"the decoder needs at least one layer, got depth {depth}")
        self.layers = nn.ModuleList(DecoderLayer(d_model=d_model, **layer) for _ in range(depth))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: Tensor, memory: Tensor, generator: torch.Generator | None = None,
                keep_last: int | None = None) -> Tensor:
        """(B, L, D), (B, L_enc, D) -> (B, L, D); with ``keep_last``, (B, keep_last, D).

        ``keep_last``: the model reads only the last steps (the forecast), so the last layer
        computes its cross-attention, feed-forward and norm for those alone. Earlier layers keep
        every step: the next layer's self-attention reads them. The published code computes
        all steps and slices at the end; the kept steps are the same (up to float rounding).
        """
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x, memory, generator=generator, keep_last=keep_last if i == last else None)
        return self.norm(x)
