"""A straightforward form of the published ProbSparse algorithm, kept only as a baseline.

It computes what :func:`informer.model.attention.prob_sparse_attention` computes, but the way
the published code does: it builds the whole (B, H, L_Q, S, E) tensor of sampled keys before
scoring them. Benchmarks compare against it; the model never uses it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from informer.model.attention import (
    draw_sampled_keys,
    kept_query_count,
    lazy_context,
    sampled_key_count,
)


def materialised_prob_sparse_attention(
    q: Tensor, k: Tensor, v: Tensor, *, factor: int = 5, causal: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """(B, H, L_Q, E), (B, H, L_K, E), (B, H, L_K, E) -> (B, H, L_Q, E)."""
    batch, heads, length_q, width = q.shape
    length_k = k.shape[2]
    sampled = sampled_key_count(factor, length_k)
    index = draw_sampled_keys(length_q, length_k, sampled, generator=generator, device=q.device)  # (L_Q, S)
    rows = torch.arange(length_q, device=q.device).unsqueeze(1)  # (L_Q, 1)
    expanded = k.unsqueeze(2).expand(batch, heads, length_q, length_k, width)  # (B, H, L_Q, L_K, E) view
    sampled_keys = expanded[:, :, rows, index, :]  # (B, H, L_Q, S, E), materialised
    sampled_scores = (q.unsqueeze(-2) @ sampled_keys.transpose(-2, -1)).squeeze(-2)  # (B, H, L_Q, S)
    sparsity = sampled_scores.max(-1)[0] - sampled_scores.sum(-1) / length_k  # (B, H, L_Q)
    kept = sparsity.topk(kept_query_count(factor, length_q), sorted=False)[1]  # (B, H, U)
    batch_index = torch.arange(batch, device=q.device)[:, None, None]
    head_index = torch.arange(heads, device=q.device)[None, :, None]
    scores = q[batch_index, head_index, kept] @ k.transpose(-2, -1) / math.sqrt(width)  # (B, H, U, L_K)
    if causal:
        future = torch.arange(length_k, device=q.device) > kept.unsqueeze(-1)  # (B, H, U, L_K)
        scores = scores.masked_fill(future, float("-inf"))
    context = lazy_context(v, length_q, causal=causal).clone()  # (B, H, L_Q, E)
    context[batch_index, head_index, kept] = torch.softmax(scores, dim=-1) @ v  # (B, H, U, E)
    return context
