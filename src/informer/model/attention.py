"""Attention: pure functions on per-head tensors, and the multi-head projection layer.

The functions take queries ``q`` (B, H, L_Q, E), keys ``k`` (B, H, L_K, E) and values
``v`` (B, H, L_K, E) and return the attended values (B, H, L_Q, E). They hold no state, read
no global switches, and draw random numbers only from the ``torch.Generator`` they are given
(or from torch's global generator when none is given).

ProbSparse attention (paper section 3.1; published ``ProbAttention``), step by step:

1. ``S = factor * ceil(ln L_K)`` keys are drawn for every query, with replacement, as one
   (L_Q, S) index matrix shared by every batch item and head (each query row has its own draw).
2. Each query's *sparsity* is the max of its sampled scores ``q . k`` minus their sum divided
   by ``L_K`` (not by ``S``: the published code divides by ``L_K``).
3. The ``U = factor * ceil(ln L_Q)`` sparsest queries ("kept queries") attend to all keys with
   scale ``1 / sqrt(E)``, causally masked in the decoder.
4. The other, lazy, queries get the mean of V (encoder) or its cumulative sum along time
   (masked decoder self-attention), the published choice; a cumulative mean is the option.

Both counts are capped at the sequence length, so with a large ``factor`` every query is kept
and ProbSparse attention equals full attention.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
from collections.abc import Callable, Iterator

import torch
from torch import Tensor, nn

from informer.config import LAZY_DECODERS as LAZY_CAUSAL
from informer.model.checkpointing import checkpointed
from informer.model.dropout import dropout

# Largest number of elements any sampling intermediate may hold (64 MiB of float32).
DEFAULT_MEMORY_LIMIT = 1 << 24



def _check_heads(q: Tensor, k: Tensor, v: Tensor, *, causal: bool) -> tuple[int, int, int, int, int]:
    """Check q (B, H, L_Q, E), k and v (B, H, L_K, E); returns ``(B, H, L_Q, L_K, E)``."""
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ValueError(
            "attention expects q (B, H, L_Q, E), k (B, H, L_K, E), v (B, H, L_K, E); got "
            f"{tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )
    if q.shape[:2] != k.shape[:2] or k.shape[:2] != v.shape[:2]:
        raise ValueError(
            f"q, k, v must share (B, H); got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}"
        )
    if k.shape[2] != v.shape[2]:
        raise ValueError(f"k and v must have the same length L_K; got {k.shape[2]} and {v.shape[2]}")
    if q.shape[3] != k.shape[3]:
        raise ValueError(f"q and k must have the same head width E; got {q.shape[3]} and {k.shape[3]}")
    batch, heads, length_q, width = q.shape
    length_k = k.shape[2]
    if causal and length_q != length_k:
        raise ValueError(f"causal attention needs L_Q == L_K; got {length_q} and {length_k}")
    return batch, heads, length_q, length_k, width


# Receives (name, tensor, facts) from inside an attention call; see informer.explain.
Observer = Callable[[str, Tensor, dict], None]


def _dropout(weights: Tensor, p: float, generator: torch.Generator | None) -> Tensor:
    return dropout(weights, p, training=True, generator=generator)


# Attention weights per group when full attention runs in groups of (batch, head) slices, each
# recomputed in the backward pass (see full_attention); used with activation checkpointing.
FULL_ATTENTION_CHUNK = 1 << 20


def full_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    causal: bool = False,
    scale: float | None = None,
    dropout_p: float = 0.0,
    generator: torch.Generator | None = None,
    chunk: int | None = None,
    observe: Observer | None = None,
) -> Tensor:
    """Canonical scaled dot-product attention (the paper's Informer-dagger uses it everywhere).

    With ``chunk`` (e.g. :data:`FULL_ATTENTION_CHUNK`), on the CPU, when the (B, H, L_Q, L_K)
    weights would hold more than ``chunk`` elements, the (batch, head) slices run in groups of
    about ``chunk`` weights, and in training each group's weights are recomputed in the backward
    pass instead of kept: memory for the weights is one group's rather than the whole matrix
    several times over, for a second pass of the attention's own work (activation
    checkpointing turns it on). The numbers are the same either way: the dropout masks are
    drawn in the same order from the same generator (replayed for the recomputation).

    Args:
        q: queries (B, H, L_Q, E).
        k: keys (B, H, L_K, E).
        v: values (B, H, L_K, E).
        causal: mask key ``j`` for query ``i`` when ``j > i`` (needs ``L_Q == L_K``).
        scale: score multiplier; ``1 / sqrt(E)`` when None (E is the head width, as published).
        dropout_p: dropout on the attention weights (pass 0 in evaluation).
        generator: source of the dropout mask; torch's global generator when None.
        chunk: weights per group, or None to compute the whole matrix at once.
        observe: called with the attention weights (B, H, L_Q, L_K) for ``informer explain``
            (computed once more, only then).

    Returns:
        The attended values (B, H, L_Q, E).

    Raises:
        ValueError: if the shapes do not match, or ``causal`` with ``L_Q != L_K``.
    """
    batch, heads, length_q, length_k, width = _check_heads(q, k, v, causal=causal)
    scale = 1.0 / math.sqrt(width) if scale is None else scale
    if observe is not None:
        scores = q @ k.transpose(-2, -1) * scale  # (B, H, L_Q, L_K)
        if causal:
            scores = scores.masked_fill(torch.ones_like(scores, dtype=torch.bool).triu(1), float("-inf"))
        observe("weights", torch.softmax(scores, dim=-1), {})
    if chunk is not None and q.device.type == "cpu" and batch * heads * length_q * length_k > chunk:
        return _chunked_full_attention(q, k, v, causal=causal, scale=scale, dropout_p=dropout_p,
                                       generator=generator, chunk=chunk)
    return _full_attention(q, k, v, causal=causal, scale=scale, dropout_p=dropout_p, generator=generator)


def _full_attention(
    q: Tensor, k: Tensor, v: Tensor, *, causal: bool, scale: float, dropout_p: float,
    generator: torch.Generator | None = None,
) -> Tensor:
    length_q, length_k = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1)  # (..., L_Q, L_K)
    if causal:
        future = torch.ones(length_q, length_k, dtype=torch.bool, device=q.device).triu(1)
        scores = scores.masked_fill(future, float("-inf"))
    weights = torch.softmax(scores * scale, dim=-1)
    weights = _dropout(weights, dropout_p, generator)
    return weights @ v  # (..., L_Q, E)


def _chunked_full_attention(
    q: Tensor, k: Tensor, v: Tensor, *, causal: bool, scale: float, dropout_p: float,
    generator: torch.Generator | None, chunk: int,
) -> Tensor:
    """:func:`full_attention` over groups of (batch, head) slices (see there)."""
    batch, heads, length_q, width = q.shape
    length_k = k.shape[2]
    slices = batch * heads
    q, k, v = (t.reshape(slices, t.shape[2], width) for t in (q, k, v))  # (B*H, L, E)
    per_slice = length_q * length_k
    # The dropout mask packs 4 numbers per random word; a group whose weights are a multiple of 4
    # draws exactly the words one whole-matrix draw would, so chunking leaves the masks unchanged.
    multiple = 4 // math.gcd(per_slice, 4)
    group = -(-max(1, chunk // per_slice) // multiple) * multiple
    block = functools.partial(_full_attention, causal=causal, scale=scale, dropout_p=dropout_p)
    recompute = torch.is_grad_enabled() and any(t.requires_grad for t in (q, k, v))
    outputs = []
    for start in range(0, slices, group):
        part = (q[start : start + group], k[start : start + group], v[start : start + group])
        if recompute:
            outputs.append(checkpointed(block, *part, generator=generator))
        else:
            outputs.append(block(*part, generator=generator))
    return torch.cat(outputs).view(batch, heads, length_q, width)


def _log_count(factor: int, length: int) -> int:
    return min(length, factor * math.ceil(math.log(length)))


def kept_query_count(factor: int, length: int) -> int:
    """U, the number of queries ProbSparse keeps: ``factor * ceil(ln length)``, at most ``length``.

    A single query (``length == 1``) gives ``ln 1 = 0``, so none is kept, as published.
    """
    if length < 1:
        raise ValueError(f"length must be positive, got {length}")
    return _log_count(factor, length)


def sampled_key_count(factor: int, length: int) -> int:
    """S, the keys sampled per query: ``factor * ceil(ln length)``, between 1 and ``length``.

    The lower bound of 1 only matters for a single key, where the published code fails (it takes
    the max over zero samples).
    """
    if length < 1:
        raise ValueError(f"length must be positive, got {length}")
    return max(1, _log_count(factor, length))


def draw_sampled_keys(
    length_q: int,
    length_k: int,
    sampled: int,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """The (L_Q, S) matrix of key indices, drawn with replacement: row ``i`` belongs to query ``i``.

    Drawn as ``torch.randint(L_K, (L_Q, S))`` on the generator's device (CPU when none is given,
    like the published code), then moved to ``device``.
    """
    source = generator.device if generator is not None else torch.device("cpu")
    sampled_keys = torch.randint(length_k, (length_q, sampled), generator=generator, device=source)
    return sampled_keys.to(device) if device is not None else sampled_keys


# Above this many key positions per sampled key, scoring each query's sampled keys one by one
# (a gather of S key vectors per query) beats computing whole score rows by matrix products.
# Measured on a 2-core EPYC (B 32 or 8, H 8, E 64): whole rows win at L_K / S = 3.8, break even
# near 6.4, and lose 1.6x at 11, 3.3x at 21, 19x at 91.
GATHER_RATIO = 7


def query_sparsity(
    q: Tensor,
    k: Tensor,
    sampled_keys: Tensor,
    *,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    strategy: str | None = None,
) -> Tensor:
    """Sparsity of each query from its sampled keys: ``max_j s_ij - sum_j s_ij / L_K``.

    ``s_ij = q_i . k_j`` (unscaled) for the keys ``j`` in row ``i`` of ``sampled_keys``. Only the
    ranking matters (it chooses the kept queries), so no gradient flows through it.

    Three ways to get the sampled scores, the same numbers each way up to float rounding
    (``strategy`` forces one; by default the fastest that fits is chosen):

    * ``"scores"``: gather them from the whole (B, H, L_Q, L_K) score matrix, when it holds at
      most ``memory_limit`` elements (short inputs);
    * ``"score_chunks"``: the same for chunks of queries, each chunk's score rows holding at most
      ``memory_limit`` elements: quadratic work, but in fast matrix products, and bounded memory;
    * ``"gather"``: gather the S sampled key vectors of small chunks of queries and score only
      those, for long keys (``L_K > GATHER_RATIO * S``), where the quadratic work stops paying;
      it holds one time-major copy of the keys besides.

    In no case does the whole (B, H, L_Q, S, E) tensor of sampled keys exist at once.

    Args:
        q: queries (B, H, L_Q, E).
        k: keys (B, H, L_K, E).
        sampled_keys: key indices (L_Q, S), shared by batch items and heads.
        memory_limit: element budget for the intermediates (see above).
        strategy: ``None`` (choose), ``"scores"``, ``"score_chunks"`` or ``"gather"``.

    Returns:
        The sparsity measurement (B, H, L_Q).
    """
    batch, heads, length_q, _ = q.shape
    length_k = k.shape[2]
    if sampled_keys.dim() != 2 or sampled_keys.shape[0] != length_q:
        raise ValueError(
            f"sampled_keys must be (L_Q, S) with L_Q = {length_q}; got {tuple(sampled_keys.shape)}"
        )
    sampled = sampled_keys.shape[1]
    if strategy is None:
        if length_k > GATHER_RATIO * sampled:
            strategy = "gather"
        elif batch * heads * length_q * length_k <= memory_limit:
            strategy = "scores"
        else:
            strategy = "score_chunks"
    if strategy not in ("scores", "score_chunks", "gather"):
        raise ValueError(f"unknown strategy {strategy!r}")
    with torch.no_grad():
        if strategy == "gather":
            return _sparsity_by_gather(q, k, sampled_keys, memory_limit)
        sparsity = q.new_empty(batch, heads, length_q)
        rows = length_q
        if strategy == "score_chunks":
            rows = max(1, memory_limit // (batch * heads * length_k))
        for start in range(0, length_q, rows):
            stop = min(start + rows, length_q)
            scores = q[:, :, start:stop] @ k.transpose(-2, -1)  # (B, H, rows, L_K)
            index = sampled_keys[start:stop].expand(batch, heads, stop - start, sampled)
            sampled_scores = scores.gather(-1, index)  # (B, H, rows, S)
            sparsity[:, :, start:stop] = sampled_scores.amax(-1) - sampled_scores.sum(-1) / length_k
        return sparsity


# Elements of gathered keys per chunk in the "gather" strategy: small enough to stay in cache
# (on a 2-core EPYC with 1 MB of L2 per core, 2-4 queries x 45 keys x 4096 floats per chunk ran
# 4-6x faster than 64 queries).
GATHER_CHUNK = 1 << 19


def _others_running() -> bool:
    """Whether other work competes for this machine's cores right now: more threads runnable
    than this process's own (``/proc/loadavg``'s instantaneous count; False where there is none)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            running = int(handle.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return False
    return running > torch.get_num_threads()


@contextlib.contextmanager
def _one_thread(enabled: bool) -> Iterator[None]:
    """torch's intra-op threads set to one inside (restored after) when other work competes for
    the cores.

    For loops of many small operations: each operation is a parallel region whose threads meet
    at a barrier, and when another process keeps a core busy the barrier waits for a thread the
    system has descheduled, once per operation (thousands of times per call). One thread never
    waits for another; on an idle machine all threads are faster, so they are kept.
    ``INFORMER_SPARSITY_THREADS`` = ``one`` or ``all`` forces either (to measure the difference).
    """
    choice = os.environ.get("INFORMER_SPARSITY_THREADS", "auto")
    single = choice == "one" or (choice == "auto" and _others_running())
    if not enabled or not single:
        yield
        return
    global _single_users, _threads_before
    with _single_lock:  # threads of one process may run forwards at once: the last one out restores
        if _single_users == 0:
            _threads_before = torch.get_num_threads()
            torch.set_num_threads(1)
        _single_users += 1
    try:
        yield
    finally:
        with _single_lock:
            _single_users -= 1
            if _single_users == 0:
                torch.set_num_threads(_threads_before)


_single_lock = threading.Lock()
_single_users = 0
_threads_before = 1


def _sparsity_by_gather(q: Tensor, k: Tensor, sampled_keys: Tensor, memory_limit: int) -> Tensor:
    """The "gather" strategy of :func:`query_sparsity`.

    Time goes first: keys become one (L_K, B*H*E) matrix, so the sampled keys of a query are
    whole rows, copied by ``index_select`` as contiguous blocks instead of element by element.
    On a CPU shared with other work the chunks run on one thread (:func:`_one_thread`): there are
    thousands of them.
    """
    batch, heads, length_q, width = q.shape
    length_k, sampled = k.shape[2], sampled_keys.shape[1]
    key_rows = k.permute(2, 0, 1, 3).reshape(length_k, batch * heads * width)  # (L_K, B*H*E)
    queries = q.permute(2, 0, 1, 3).reshape(length_q, 1, batch * heads, width)  # (L_Q, 1, B*H, E)
    rows = max(1, min(memory_limit, GATHER_CHUNK) // (batch * heads * sampled * width))
    sparsity = q.new_empty(length_q, batch * heads)
    with _one_thread(q.device.type == "cpu"):
        for start in range(0, length_q, rows):
            stop = min(start + rows, length_q)
            keys = key_rows.index_select(0, sampled_keys[start:stop].reshape(-1))  # (rows*S, B*H*E)
            keys = keys.view(stop - start, sampled, batch * heads, width)  # (rows, S, B*H, E)
            sampled_scores = (keys * queries[start:stop]).sum(-1)  # (rows, S, B*H)
            sparsity[start:stop] = sampled_scores.amax(1) - sampled_scores.sum(1) / length_k
    return sparsity.T.reshape(batch, heads, length_q)


def lazy_context(v: Tensor, length_q: int, *, causal: bool, lazy_causal: str = "cumsum") -> Tensor:
    """What the lazy queries receive, (B, H, L_Q, E).

    Encoder (not causal): the mean of V over time, for every query. Masked decoder (causal, needs
    ``L_Q == L_V``): the cumulative sum of V along time (published), or the cumulative mean.
    """
    batch, heads, length_v, width = v.shape
    if not causal:
        return v.mean(dim=2, keepdim=True).expand(batch, heads, length_q, width)
    if length_q != length_v:
        raise ValueError(f"causal ProbSparse attention needs L_Q == L_K; got {length_q} and {length_v}")
    if lazy_causal not in LAZY_CAUSAL:
        raise ValueError(f"lazy_causal must be one of {', '.join(LAZY_CAUSAL)}; got {lazy_causal!r}")
    running = v.cumsum(dim=2)  # (B, H, L, E)
    if lazy_causal == "cummean":
        steps = torch.arange(1, length_v + 1, device=v.device, dtype=v.dtype)
        running = running / steps[:, None]
    return running


def prob_sparse_attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    factor: int = 5,
    causal: bool = False,
    scale: float | None = None,
    dropout_p: float = 0.0,
    generator: torch.Generator | None = None,
    lazy_causal: str = "cumsum",
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    observe: Observer | None = None,
) -> tuple[Tensor, Tensor]:
    """ProbSparse self-attention as the published code computes it (see the module docstring).

    Args:
        q: queries (B, H, L_Q, E).
        k: keys (B, H, L_K, E).
        v: values (B, H, L_K, E).
        factor: the sampling factor ``c``: S and U are ``c * ceil(ln L)``, capped at L.
        causal: masked decoder self-attention (needs ``L_Q == L_K``): kept queries do not see
            later keys and lazy queries get the running sum (or mean) of V.
        scale: score multiplier for the kept queries; ``1 / sqrt(E)`` when None.
        dropout_p: dropout on the kept queries' attention weights. The published model never
            applies it (its ProbAttention builds a dropout it does not use), so the model passes 0.
        generator: source of the sampled keys (and of the dropout mask); with a seeded generator
            the result is deterministic. torch's global generator when None.
        lazy_causal: ``"cumsum"`` (published) or ``"cummean"``, for lazy queries when causal.
        memory_limit: element budget of the sampling intermediates (:func:`query_sparsity`).
        observe: called with each intermediate (name, tensor, facts) for ``informer explain``;
            it also gets the sampled score matrix (B, H, L_Q, S), which is computed only then.

    Returns:
        ``(out, kept_queries)``: the attended values (B, H, L_Q, E) and the time indices of the
        kept queries (B, H, U), sparsest first.

    Raises:
        ValueError: if the shapes do not match, or ``causal`` with ``L_Q != L_K``.
    """
    batch, heads, length_q, length_k, width = _check_heads(q, k, v, causal=causal)
    if factor < 1:
        raise ValueError(f"factor must be a positive integer, got {factor}")
    scale = 1.0 / math.sqrt(width) if scale is None else scale

    sampled_keys = draw_sampled_keys(
        length_q,
        length_k,
        sampled_key_count(factor, length_k),
        generator=generator,
        device=q.device,
    )  # (L_Q, S)
    sparsity = query_sparsity(q, k, sampled_keys, memory_limit=memory_limit)  # (B, H, L_Q)
    kept = kept_query_count(factor, length_q)
    kept_queries = sparsity.topk(kept, dim=-1).indices  # (B, H, U)
    if observe is not None:
        sampled = sampled_keys.shape[1]
        observe("sampled_keys", sampled_keys, {"c": factor, "L": length_k, "ceil_ln_L": math.ceil(math.log(length_k)),
                                               "S": sampled})
        # (B, H, L_Q, S), a block of queries at a time: the gathered keys stay within memory_limit
        block = max(1, memory_limit // max(1, batch * heads * sampled * width))
        observe("sampled_scores", torch.cat([
            (q[:, :, i : i + block].unsqueeze(-2) @ k[:, :, sampled_keys[i : i + block]].transpose(-2, -1)).squeeze(-2)
            for i in range(0, length_q, block)], dim=2), {})
        observe("sparsity", sparsity, {})
        observe("kept_queries", kept_queries, {"c": factor, "L": length_q,
                                               "ceil_ln_L": math.ceil(math.log(length_q)) if length_q > 1 else 0,
                                               "U": kept})

    rows = kept_queries.unsqueeze(-1).expand(batch, heads, kept, width)  # (B, H, U, E)
    scores = q.gather(2, rows) @ k.transpose(-2, -1)  # (B, H, U, L_K)
    scores = scores * scale
    if causal:
        steps = torch.arange(length_k, device=q.device)
        future = steps > kept_queries.unsqueeze(-1)  # (B, H, U, L_K)
        scores = scores.masked_fill(future, float("-inf"))
    weights = _dropout(torch.softmax(scores, dim=-1), dropout_p, generator)
    active = weights @ v  # (B, H, U, E)

    context = lazy_context(v, length_q, causal=causal, lazy_causal=lazy_causal)  # (B, H, L_Q, E)
    out = context.scatter(2, rows, active.to(context.dtype))  # (B, H, L_Q, E)
    if observe is not None:
        observe("kept_scores", scores, {})
        observe("kept_weights", weights, {})
        observe("lazy_context", context, {"fill": lazy_causal if causal else "mean"})
    return out, kept_queries


class FullAttention(nn.Module):
    """:func:`full_attention` as a module, so that forward hooks see the (B, H, L, E) tensors.

    ``kept_queries`` is always None (every query attends); it exists so both attention modules
    can be inspected the same way.
    """

    def __init__(self, *, causal: bool = False, dropout: float = 0.0) -> None:
        super().__init__()
        self.causal = causal
        self.dropout = dropout
        self.kept_queries: Tensor | None = None
        self.checkpoint_activations = False  # then large weight matrices go in recomputed groups
        self.observer: Observer | None = None  # informer explain's view of the intermediates

    def forward(
        self, q: Tensor, k: Tensor, v: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """(B, H, L_Q, E), (B, H, L_K, E), (B, H, L_K, E) -> (B, H, L_Q, E)."""
        return full_attention(
            q,
            k,
            v,
            causal=self.causal,
            dropout_p=self.dropout if self.training else 0.0,
            generator=generator,
            chunk=FULL_ATTENTION_CHUNK if self.checkpoint_activations else None,
            observe=self.observer,
        )

    def extra_repr(self) -> str:
        return f"causal={self.causal}, dropout={self.dropout}"


class ProbSparseAttention(nn.Module):
    """:func:`prob_sparse_attention` as a module.

    After each forward call, ``kept_queries`` holds the indices (B, H, U) of the queries that
    attended (sparsest first), e.g. for ``informer explain``; forward hooks see the real
    (B, H, L, E) inputs and output.
    """

    def __init__(
        self,
        *,
        factor: int = 5,
        causal: bool = False,
        dropout: float = 0.0,
        lazy_causal: str = "cumsum",
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
    ) -> None:
        super().__init__()
        if lazy_causal not in LAZY_CAUSAL:
            raise ValueError(f"lazy_causal must be one of {', '.join(LAZY_CAUSAL)}; got {lazy_causal!r}")
        self.factor = factor
        self.causal = causal
        self.dropout = dropout
        self.lazy_causal = lazy_causal
        self.memory_limit = memory_limit
        self.kept_queries: Tensor | None = None
        self.observer: Observer | None = None  # informer explain's view of the intermediates

    def forward(
        self, q: Tensor, k: Tensor, v: Tensor, generator: torch.Generator | None = None
    ) -> Tensor:
        """(B, H, L_Q, E), (B, H, L_K, E), (B, H, L_K, E) -> (B, H, L_Q, E)."""
        out, kept_queries = prob_sparse_attention(
            q,
            k,
            v,
            factor=self.factor,
            causal=self.causal,
            dropout_p=self.dropout if self.training else 0.0,
            generator=generator,
            lazy_causal=self.lazy_causal,
            memory_limit=self.memory_limit,
            observe=self.observer,
        )
        self.kept_queries = kept_queries
        return out

    def extra_repr(self) -> str:
        return f"factor={self.factor}, causal={self.causal}, lazy_causal={self.lazy_causal!r}"


def make_inner_attention(
    attn: str, *, causal: bool, factor: int, dropout: float, lazy_causal: str = "cumsum"
) -> nn.Module:
    """The per-head attention of one layer: ``"prob"`` or ``"full"``.

    As published, ProbSparse attention gets no attention dropout and full attention does.
    """
    if attn == "prob":
        return ProbSparseAttention(factor=factor, causal=causal, lazy_causal=lazy_causal)
    if attn == "full":
        return FullAttention(causal=causal, dropout=dropout)
    raise ValueError(f"attn must be 'prob' or 'full', got {attn!r}")


class AttentionLayer(nn.Module):
    """Multi-head attention: Q/K/V projections, per-head attention, output projection.

    ``mix`` reproduces the published decoder self-attention: the per-head output (B, H, L, E)
    is read back as (B, L, H * E) straight from its memory layout, without moving the head axis
    next to E first. Each output row then holds ``H`` consecutive time steps of one head, which
    mixes heads and time (and lets decoder outputs depend on later steps; see docs/model.md).
    """

    def __init__(self, *, d_model: int, n_heads: int, attention: nn.Module, mix: bool = False) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.mix = mix
        self.query_projection = nn.Linear(d_model, d_model)
        self.key_projection = nn.Linear(d_model, d_model)
        self.value_projection = nn.Linear(d_model, d_model)
        self.inner_attention = attention
        self.out_projection = nn.Linear(d_model, d_model)

    @property
    def kept_queries(self) -> Tensor | None:
        """Indices (B, H, U) of the queries kept in the last call; None for full attention."""
        return self.inner_attention.kept_queries

    def forward(
        self,
        queries: Tensor,
        keys: Tensor,
        values: Tensor,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """(B, L_Q, D), (B, L_K, D), (B, L_K, D) -> (B, L_Q, D)."""
        batch, length_q, _ = queries.shape
        length_k = keys.shape[1]
        heads = self.n_heads
        q = self.query_projection(queries).view(batch, length_q, heads, -1)  # (B, L_Q, H, E)
        k = self.key_projection(keys).view(batch, length_k, heads, -1)  # (B, L_K, H, E)
        v = self.value_projection(values).view(batch, length_k, heads, -1)  # (B, L_K, H, E)
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # (B, H, L, E)
        out = self.inner_attention(q, k, v, generator=generator)  # (B, H, L_Q, E)
        if self.mix:
            out = out.contiguous().view(batch, length_q, -1)  # (B, L_Q, H*E), rows mix heads and time
        else:
            out = out.transpose(1, 2).reshape(batch, length_q, -1)  # (B, L_Q, H*E)
        return self.out_projection(out)

    def extra_repr(self) -> str:
        return f"n_heads={self.n_heads}, mix={self.mix}"
