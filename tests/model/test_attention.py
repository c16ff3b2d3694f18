"""Attention functions: ProbSparse against full attention and against a naive oracle."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode

from informer.model import AttentionLayer, full_attention, prob_sparse_attention, query_sparsity
from informer.model.attention import FullAttention, draw_sampled_keys, kept_query_count, sampled_key_count


def heads(batch, n_heads, length, width, seed, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(batch, n_heads, length, width, generator=generator, dtype=dtype)


def qkv(batch, n_heads, length_q, length_k, width, seed=0, dtype=torch.float32):
    return (
        heads(batch, n_heads, length_q, width, seed, dtype),
        heads(batch, n_heads, length_k, width, seed + 1, dtype),
        heads(batch, n_heads, length_k, width, seed + 2, dtype),
    )


SELF_SHAPES = [(1, 1, 7, 4), (3, 2, 9, 8), (3, 1, 16, 4), (1, 3, 13, 2), (3, 4, 2, 4)]
CROSS_SHAPES = [(3, 2, 5, 11, 4), (1, 1, 12, 7, 4), (3, 1, 6, 1, 4), (1, 2, 9, 30, 8)]


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("batch, n_heads, length, width", SELF_SHAPES)
def test_prob_sparse_equals_full_attention_when_every_query_is_kept(causal, batch, n_heads, length, width):
    q, k, v = qkv(batch, n_heads, length, length, width)
    expected = full_attention(q, k, v, causal=causal)
    out, kept_queries = prob_sparse_attention(
        q, k, v, factor=100, causal=causal, generator=torch.Generator().manual_seed(0)
    )
    assert out.shape == (batch, n_heads, length, width)
    assert kept_queries.shape == (batch, n_heads, length)
    assert torch.equal(kept_queries.sort(dim=-1).values, torch.arange(length).expand(batch, n_heads, length))
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("batch, n_heads, length_q, length_k, width", CROSS_SHAPES)
def test_prob_sparse_equals_full_attention_for_cross_shapes(batch, n_heads, length_q, length_k, width):
    q, k, v = qkv(batch, n_heads, length_q, length_k, width, seed=5)
    out, _ = prob_sparse_attention(q, k, v, factor=100, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(out, full_attention(q, k, v), atol=1e-5, rtol=0)


@settings(max_examples=30, deadline=None)
@given(
    batch=st.integers(1, 3),
    n_heads=st.integers(1, 3),
    length_q=st.integers(2, 20),
    length_k=st.integers(1, 20),
    width=st.integers(1, 6),
    causal=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_prob_sparse_equals_full_attention_for_any_shape_when_every_query_is_kept(
    batch, n_heads, length_q, length_k, width, causal, seed
):
    if causal:
        length_k = length_q
    q, k, v = qkv(batch, n_heads, length_q, length_k, width, seed=seed)
    out, _ = prob_sparse_attention(q, k, v, factor=100, causal=causal, generator=torch.Generator().manual_seed(seed))
    torch.testing.assert_close(out, full_attention(q, k, v, causal=causal), atol=1e-5, rtol=0)


def test_counts_follow_factor_times_ceil_log_capped_at_length():
    # ln 96 = 4.56, ln 72 = 4.28, ln 48 = 3.87, ln 24 = 3.18, ln 10 = 2.30
    assert kept_query_count(5, 96) == 25
    assert kept_query_count(5, 72) == 25
    assert kept_query_count(5, 48) == 20
    assert kept_query_count(5, 24) == 20
    assert kept_query_count(5, 10) == 10  # 15, capped
    assert kept_query_count(5, 1) == 0  # ln 1 = 0: a single query is never kept (published)
    assert sampled_key_count(5, 96) == 25
    assert sampled_key_count(3, 7) == 6  # 3 * ceil(1.95)
    assert sampled_key_count(5, 1) == 1  # published would take the max of zero samples


def naive_prob_sparse(q, k, v, sampled_keys, kept, causal, lazy_causal="cumsum"):
    """A loop-by-loop reading of the published algorithm (float64), for small inputs."""
    batch, n_heads, length_q, width = q.shape
    length_k = k.shape[2]
    out = torch.empty(batch, n_heads, length_q, width, dtype=torch.float64)
    kept_order = torch.empty(batch, n_heads, kept, dtype=torch.long)
    for b in range(batch):
        for h in range(n_heads):
            sparsity = []
            for i in range(length_q):
                sampled = [float(q[b, h, i] @ k[b, h, j]) for j in sampled_keys[i].tolist()]
                sparsity.append(max(sampled) - sum(sampled) / length_k)
            order = sorted(range(length_q), key=lambda i: -sparsity[i])[:kept]
            kept_order[b, h] = torch.tensor(order, dtype=torch.long)
            for i in range(length_q):
                if i in order:
                    visible = i + 1 if causal else length_k
                    scores = torch.stack([q[b, h, i] @ k[b, h, j] for j in range(visible)]) / math.sqrt(width)
                    weights = torch.softmax(scores, dim=0)
                    out[b, h, i] = sum(weights[j] * v[b, h, j] for j in range(visible))
                elif not causal:
                    out[b, h, i] = v[b, h].mean(dim=0)
                elif lazy_causal == "cumsum":
                    out[b, h, i] = v[b, h, : i + 1].sum(dim=0)
                else:
                    out[b, h, i] = v[b, h, : i + 1].mean(dim=0)
    return out, kept_order


@pytest.mark.parametrize(
    "causal, lazy_causal, shape",
    [
        (False, "cumsum", (2, 2, 20, 20, 4)),
        (False, "cumsum", (1, 1, 15, 26, 3)),
        (True, "cumsum", (2, 1, 24, 24, 4)),
        (True, "cummean", (1, 2, 21, 21, 4)),
    ],
)
def test_prob_sparse_matches_a_naive_reading_of_the_published_algorithm(causal, lazy_causal, shape):
    batch, n_heads, length_q, length_k, width = shape
    q, k, v = qkv(batch, n_heads, length_q, length_k, width, seed=11, dtype=torch.float64)
    factor = 2
    sampled, kept = sampled_key_count(factor, length_k), kept_query_count(factor, length_q)
    assert kept < length_q  # some queries are lazy
    sampled_keys = torch.randint(length_k, (length_q, sampled), generator=torch.Generator().manual_seed(3))
    expected, expected_kept = naive_prob_sparse(q, k, v, sampled_keys, kept, causal, lazy_causal)

    options = {} if lazy_causal == "cumsum" else {"lazy_causal": lazy_causal}  # cumsum is the default
    out, kept_queries = prob_sparse_attention(
        q, k, v, factor=factor, causal=causal, generator=torch.Generator().manual_seed(3), **options
    )
    assert torch.equal(kept_queries, expected_kept)
    torch.testing.assert_close(out, expected, atol=1e-10, rtol=0)


def test_one_draw_of_sampled_keys_is_shared_by_batch_items_and_heads():
    # Every batch item and head holds the same queries and keys, so with one shared draw they
    # must keep the same queries; separate draws per item or head would disagree.
    q, k, v = qkv(1, 1, 40, 40, 4, seed=2)
    q, k, v = (t.expand(3, 4, 40, 4) for t in (q, k, v))
    _, kept_queries = prob_sparse_attention(q, k, v, factor=1, generator=torch.Generator().manual_seed(0))
    assert (kept_queries == kept_queries[:1, :1]).all()


def test_sampled_keys_differ_between_query_rows():
    keys = draw_sampled_keys(30, 50, 8, generator=torch.Generator().manual_seed(0))
    assert keys.shape == (30, 8)
    assert len({tuple(row) for row in keys.tolist()}) == 30
    assert keys.min() >= 0 and keys.max() < 50


def test_a_seeded_generator_makes_prob_sparse_deterministic():
    q, k, v = qkv(2, 2, 50, 50, 4, seed=4)
    first = prob_sparse_attention(q, k, v, factor=1, generator=torch.Generator().manual_seed(7))
    second = prob_sparse_attention(q, k, v, factor=1, generator=torch.Generator().manual_seed(7))
    other = prob_sparse_attention(q, k, v, factor=1, generator=torch.Generator().manual_seed(8))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert not torch.equal(first[1].sort(-1).values, other[1].sort(-1).values)


@pytest.mark.parametrize("n_heads", [1, 3])
@pytest.mark.parametrize("causal", [False, True])
def test_batch_items_do_not_influence_each_other(n_heads, causal):
    q, k, v = qkv(3, n_heads, 30, 30, 4, seed=9)
    together, kept_together = prob_sparse_attention(
        q, k, v, factor=2, causal=causal, generator=torch.Generator().manual_seed(5)
    )
    for item in range(3):
        alone, kept_alone = prob_sparse_attention(
            q[item : item + 1], k[item : item + 1], v[item : item + 1],
            factor=2, causal=causal, generator=torch.Generator().manual_seed(5),
        )
        torch.testing.assert_close(alone, together[item : item + 1], atol=1e-6, rtol=0)
        assert torch.equal(kept_alone, kept_together[item : item + 1])


def test_lazy_queries_get_the_mean_of_values_in_the_encoder():
    q, k, v = qkv(2, 2, 30, 30, 4, seed=12)
    out, kept_queries = prob_sparse_attention(q, k, v, factor=1, generator=torch.Generator().manual_seed(0))
    for b in range(2):
        for h in range(2):
            lazy = sorted(set(range(30)) - set(kept_queries[b, h].tolist()))
            assert len(lazy) == 30 - 4  # 1 * ceil(ln 30) = 4 kept
            torch.testing.assert_close(out[b, h, lazy], v[b, h].mean(0).expand(len(lazy), 4))


@pytest.mark.parametrize("lazy_causal", ["cumsum", "cummean"])
def test_lazy_queries_get_the_running_sum_or_mean_of_values_in_the_masked_decoder(lazy_causal):
    q, k, v = qkv(1, 2, 30, 30, 4, seed=13)
    out, kept_queries = prob_sparse_attention(
        q, k, v, factor=1, causal=True, lazy_causal=lazy_causal, generator=torch.Generator().manual_seed(0)
    )
    steps = torch.arange(1, 31, dtype=torch.float32)[:, None]
    running = v.cumsum(2) if lazy_causal == "cumsum" else v.cumsum(2) / steps
    for h in range(2):
        lazy = sorted(set(range(30)) - set(kept_queries[0, h].tolist()))
        torch.testing.assert_close(out[0, h, lazy], running[0, h, lazy])


def test_causal_full_attention_ignores_later_steps():
    q, k, v = qkv(2, 2, 12, 12, 4, seed=14)
    out = full_attention(q, k, v, causal=True)
    t = 7
    changed = [x.clone() for x in (q, k, v)]
    for x in changed:
        x[:, :, t] += 3.0
    out_changed = full_attention(*changed, causal=True)
    torch.testing.assert_close(out_changed[:, :, :t], out[:, :, :t], atol=0, rtol=0)
    assert not torch.allclose(out_changed[:, :, t:], out[:, :, t:])


def test_causal_prob_sparse_outputs_never_read_later_values():
    # The kept set depends on the keys (see docs/model.md), so only the values are changed here:
    # kept queries are masked and lazy queries get a running sum, so earlier outputs must not move.
    q, k, v = qkv(2, 2, 32, 32, 4, seed=15)
    out, kept = prob_sparse_attention(q, k, v, factor=2, causal=True, generator=torch.Generator().manual_seed(1))
    t = 20
    v_changed = v.clone()
    v_changed[:, :, t] += 5.0
    out_changed, kept_changed = prob_sparse_attention(
        q, k, v_changed, factor=2, causal=True, generator=torch.Generator().manual_seed(1)
    )
    assert torch.equal(kept, kept_changed)
    torch.testing.assert_close(out_changed[:, :, :t], out[:, :, :t], atol=0, rtol=0)
    assert not torch.allclose(out_changed[:, :, t:], out[:, :, t:])


def test_causal_attention_needs_equal_lengths():
    q, k, v = qkv(1, 1, 5, 6, 4)
    with pytest.raises(ValueError, match="L_Q == L_K"):
        prob_sparse_attention(q, k, v, causal=True)
    with pytest.raises(ValueError, match="L_Q == L_K"):
        full_attention(q, k, v, causal=True)


def test_wrong_shapes_are_rejected_with_the_expected_layout():
    q, k, v = qkv(1, 1, 5, 5, 4)
    with pytest.raises(ValueError, match=r"\(B, H, L_Q, E\)"):
        prob_sparse_attention(q[0], k, v)
    with pytest.raises(ValueError, match="head width"):
        full_attention(q, k[..., :3], v)


@pytest.mark.parametrize("strategy", [None, "score_chunks", "gather"])
@pytest.mark.parametrize("memory_limit", [1, 3 * 2 * 2 * 6 * 4, 3 * 2 * 29 * 5])
def test_chunked_sparsity_equals_the_dense_one(memory_limit, strategy):
    q, k, _ = qkv(3, 2, 37, 29, 4, seed=16)
    sampled_keys = draw_sampled_keys(37, 29, 6, generator=torch.Generator().manual_seed(2))
    dense = query_sparsity(q, k, sampled_keys, strategy="scores")
    chunked = query_sparsity(q, k, sampled_keys, memory_limit=memory_limit, strategy=strategy)
    torch.testing.assert_close(chunked, dense, atol=1e-5, rtol=1e-5)


def test_unknown_sparsity_strategy():
    q, k, _ = qkv(1, 1, 5, 5, 4, seed=1)
    with pytest.raises(ValueError, match="strategy"):
        query_sparsity(q, k, torch.zeros(5, 2, dtype=torch.long), strategy="magic")


@pytest.mark.parametrize("causal", [False, True])
def test_chunked_prob_sparse_equals_the_dense_path(causal):
    q, k, v = qkv(2, 2, 41, 41, 4, seed=17, dtype=torch.float64)
    dense = prob_sparse_attention(q, k, v, factor=2, causal=causal, generator=torch.Generator().manual_seed(4))
    chunked = prob_sparse_attention(
        q, k, v, factor=2, causal=causal, generator=torch.Generator().manual_seed(4), memory_limit=200
    )
    assert torch.equal(dense[1], chunked[1])
    torch.testing.assert_close(chunked[0], dense[0], atol=1e-12, rtol=0)


class LargestTensor(TorchDispatchMode):
    """Records the element count of the largest tensor any operation produces."""

    def __init__(self):
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        for tensor in result if isinstance(result, (tuple, list)) else [result]:
            if isinstance(tensor, torch.Tensor):
                self.largest = max(self.largest, tensor.numel())
        return result


@pytest.mark.parametrize("strategy", ["score_chunks", "gather"])
def test_long_inputs_never_hold_all_sampled_keys_at_once(strategy):
    batch, n_heads, length, width = 2, 2, 200, 8
    q, k, _ = qkv(batch, n_heads, length, length, width, seed=18)
    sampled = sampled_key_count(5, length)
    sampled_keys = draw_sampled_keys(length, length, sampled, generator=torch.Generator().manual_seed(0))
    memory_limit = batch * n_heads * sampled * width * 7  # 7 queries per chunk
    all_sampled_keys = batch * n_heads * length * sampled * width
    assert batch * n_heads * length * length > memory_limit  # so the chunked path runs

    with LargestTensor() as chunked:
        query_sparsity(q, k, sampled_keys, memory_limit=memory_limit, strategy=strategy)
    with LargestTensor() as dense:
        query_sparsity(q, k, sampled_keys, memory_limit=batch * n_heads * length * length)
    # the gather strategy also makes one time-major copy of the keys, the size of k itself
    assert chunked.largest <= max(memory_limit, k.numel())
    assert max(memory_limit, k.numel()) < all_sampled_keys
    assert dense.largest == batch * n_heads * length * length  # the recorder sees the big product


class Echo(torch.nn.Module):
    """Per-head attention stand-in that returns the queries, to expose the head/time layout."""

    kept_queries = None

    def forward(self, q, k, v, generator=None):
        return q


def identity_layer(d_model, n_heads, mix):
    layer = AttentionLayer(d_model=d_model, n_heads=n_heads, attention=Echo(), mix=mix)
    with torch.no_grad():
        for projection in (layer.query_projection, layer.key_projection, layer.value_projection, layer.out_projection):
            projection.weight.copy_(torch.eye(d_model))
            projection.bias.zero_()
    return layer


def test_attention_layer_without_mix_keeps_heads_in_their_time_step():
    x = torch.randn(2, 5, 6)
    torch.testing.assert_close(identity_layer(6, 3, mix=False)(x, x, x), x)


def test_mix_reads_the_head_major_output_as_time_major():
    batch, length, n_heads, width = 2, 5, 3, 2
    x = torch.randn(batch, length, n_heads * width)
    out = identity_layer(n_heads * width, n_heads, mix=True)(x, x, x)
    expected = torch.empty_like(x)
    for row in range(length):
        for slot in range(n_heads):
            flat = row * n_heads + slot  # position in the (H, L) grid of the head-major memory
            head, step = divmod(flat, length)
            expected[:, row, slot * width : (slot + 1) * width] = x[:, step, head * width : (head + 1) * width]
    torch.testing.assert_close(out, expected)


def test_modules_record_kept_queries_and_hooks_see_per_head_shapes():
    from informer.model import ProbSparseAttention

    layer = AttentionLayer(d_model=8, n_heads=2, attention=ProbSparseAttention(factor=1), mix=False)
    seen = {}
    layer.inner_attention.register_forward_hook(
        lambda module, args, output: seen.update(q=tuple(args[0].shape), out=tuple(output.shape))
    )
    x = torch.randn(3, 20, 8)
    layer(x, x, x, generator=torch.Generator().manual_seed(0))
    assert seen == {"q": (3, 2, 20, 4), "out": (3, 2, 20, 4)}
    assert layer.kept_queries.shape == (3, 2, 3)  # 1 * ceil(ln 20)
    full = AttentionLayer(d_model=8, n_heads=2, attention=FullAttention(), mix=False)
    full(x, x, x)
    assert full.kept_queries is None


def _attention_and_grads(q, k, v, **settings):
    q, k, v = (t.detach().clone().requires_grad_() for t in (q, k, v))
    out = full_attention(q, k, v, **settings)
    (out * torch.linspace(-1, 1, out.shape[-1])).sum().backward()
    return out.detach(), q.grad, k.grad, v.grad


@pytest.mark.parametrize("with_generator", [True, False])
@pytest.mark.parametrize("causal,length_q,length_k", [(False, 7, 5), (True, 9, 9), (False, 3, 11)])
@pytest.mark.parametrize("chunk", [1, 30, 100])
def test_chunked_full_attention_is_the_same_computation(chunk, causal, length_q, length_k, with_generator):
    q, k, _ = qkv(3, 2, length_q, length_k, 4, seed=21)
    v = torch.randn(3, 2, length_k, 4, generator=torch.Generator().manual_seed(22))
    results = []
    for size in (None, chunk):
        torch.manual_seed(5)
        generator = torch.Generator().manual_seed(6) if with_generator else None
        results.append(_attention_and_grads(q, k, v, causal=causal, dropout_p=0.3, generator=generator, chunk=size))
        results[-1] += ((generator.get_state() if generator else torch.get_rng_state()),)
    whole, chunked = results
    for name, expected, got in zip(("out", "dq", "dk", "dv"), whole, chunked):
        torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6, msg=name)
    assert torch.equal(whole[-1], chunked[-1])  # the same random numbers were drawn


def test_chunked_full_attention_under_bf16_autocast():
    q, k, v = qkv(2, 4, 33, 17, 8, seed=23)
    results = []
    for size in (None, 64):
        torch.manual_seed(5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            results.append(_attention_and_grads(q, k, v, dropout_p=0.1, chunk=size))
    for expected, got in zip(*results):
        assert got.dtype == expected.dtype
        torch.testing.assert_close(got, expected, rtol=1e-2, atol=1e-2)


def test_chunked_full_attention_keeps_no_whole_weight_matrix():
    batch, heads, length = 4, 2, 64
    q, k, v = (t.requires_grad_() for t in qkv(batch, heads, length, length, 8, seed=24))
    whole = batch * heads * length * length
    for size, expect_whole in ((None, True), (length * length, False)):
        sizes: list[int] = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t, sizes=sizes: sizes.append(t.numel()) or t,
                                                      lambda t: t):
            full_attention(q, k, v, dropout_p=0.1, chunk=size)
        assert (max(sizes) >= whole) is expect_whole


def test_sampling_on_a_shared_machine_runs_on_one_thread_and_computes_the_same(monkeypatch):
    from informer.model import attention

    torch.manual_seed(0)
    q, k = torch.randn(2, 2, 64, 8), torch.randn(2, 2, 512, 8)
    keys = attention.draw_sampled_keys(64, 512, 10, generator=torch.Generator().manual_seed(0))
    seen = []
    outside = torch.get_num_threads()
    torch.set_num_threads(2)  # one thread or two must be told apart
    threads = torch.get_num_threads()
    results = {}
    for choice in ("all", "one"):
        monkeypatch.setenv("INFORMER_SPARSITY_THREADS", choice)
        with attention._one_thread(True):
            seen.append(torch.get_num_threads())
        results[choice] = attention.query_sparsity(q, k, keys, strategy="gather")
        assert torch.get_num_threads() == threads  # restored
    assert seen == [threads, 1]
    torch.testing.assert_close(results["one"], results["all"])
    monkeypatch.setattr(attention, "_others_running", lambda: True)
    monkeypatch.setenv("INFORMER_SPARSITY_THREADS", "auto")
    with attention._one_thread(True):
        assert torch.get_num_threads() == 1
    with attention._one_thread(False):  # not on the CPU
        assert torch.get_num_threads() == threads
    torch.set_num_threads(outside)
