"""Activation checkpointing recomputes the same numbers: outputs, gradients and generator state."""

from __future__ import annotations

import pytest
import torch
from torch.utils.checkpoint import checkpoint

from informer.batches import Batch
from informer.config import ModelConfig
from informer.model import Composed, build_forecaster, set_activation_checkpointing
from informer.model.checkpointing import checkpointed


def _step(model, inputs, *, seed: int, with_generator: bool):
    """One forward + backward with seeded randomness; returns output, gradients, generator state."""
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)  # dropout draws from the global generator
    generator = torch.Generator().manual_seed(seed + 1) if with_generator else None
    out = model(Batch(*inputs), generator=generator)
    out.square().mean().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters()}
    after = generator.get_state() if generator is not None else torch.get_rng_state()
    return out.detach(), grads, after


CASES = [
    {"attn": "prob"},
    {"attn": "full"},
    {"attn": "prob", "distil": False, "d_layers": 2},
    {"attn": "prob", "stack": True, "s_layers": (2, 1)},
    {"attn": "prob", "mix": False, "lazy_decoder": "cummean"},
]


@pytest.mark.parametrize("with_generator", [True, False])
@pytest.mark.parametrize("overrides", CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_checkpointing_gives_the_same_outputs_and_gradients(overrides, with_generator, make_model, make_inputs):
    model = make_model(dropout=0.2, **overrides).train()
    inputs = make_inputs(model, 4)
    plain = _step(model, inputs, seed=7, with_generator=with_generator)
    set_activation_checkpointing(model, True)
    recomputed = _step(model, inputs, seed=7, with_generator=with_generator)

    torch.testing.assert_close(recomputed[0], plain[0], rtol=0, atol=0)
    for name, grad in plain[1].items():
        torch.testing.assert_close(recomputed[1][name], grad, rtol=1e-6, atol=1e-7, msg=name)
    assert torch.equal(recomputed[2], plain[2])  # the generator moved exactly as without checkpointing


def test_checkpointing_reaches_the_informer_inside_a_composed_model(make_inputs):
    """Its modules are the composed model's own: switching it on there recomputes the same numbers."""
    torch.manual_seed(0)
    config = ModelConfig(d_model=16, n_heads=2, d_ff=32, factor=2, dropout=0.2, norm="revin", skip="raw",
                         channel_independent=True, patch_len=4, moving_avg=5)
    model = build_forecaster(config, enc_in=3, c_out=3, seq_len=24, label_len=12, pred_len=6, freq="h").train()
    assert isinstance(model, Composed)
    inputs = make_inputs(model, 4)
    plain = _step(model, inputs, seed=7, with_generator=True)
    set_activation_checkpointing(model, True)
    assert all(module.checkpoint_activations for module in model.modules()
               if hasattr(module, "checkpoint_activations"))
    recomputed = _step(model, inputs, seed=7, with_generator=True)
    torch.testing.assert_close(recomputed[0], plain[0], rtol=0, atol=0)
    for name, grad in plain[1].items():
        torch.testing.assert_close(recomputed[1][name], grad, rtol=1e-6, atol=1e-7, msg=name)
    assert torch.equal(recomputed[2], plain[2])


def test_checkpointing_stores_fewer_activations(make_model, make_inputs):
    def saved_bytes(model):
        total = 0

        def pack(tensor):
            nonlocal total
            total += tensor.numel() * tensor.element_size()
            return tensor

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
            model(Batch(*make_inputs(model, 8)), generator=torch.Generator().manual_seed(0))
        return total

    model = make_model(dropout=0.1, d_ff=64).train()
    plain = saved_bytes(model)
    set_activation_checkpointing(model, True)
    assert saved_bytes(model) < plain / 2


def test_checkpointing_is_off_in_evaluation(make_model, make_inputs):
    def saved_count(model):
        saved = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
            out = model(Batch(*inputs), generator=torch.Generator().manual_seed(0))
        return out, len(saved)

    model = make_model().eval()
    inputs = make_inputs(model, 2)
    plain = saved_count(model)
    set_activation_checkpointing(model, True)
    checkpointing = saved_count(model)
    assert torch.equal(checkpointing[0], plain[0])
    assert checkpointing[1] == plain[1]  # every activation saved as usual: no checkpoint ran


def test_checkpointed_replays_the_generator_and_leaves_it_as_one_pass_would():
    def block(x, generator=None):
        return x * torch.rand(x.shape, generator=generator)

    x = torch.ones(5, requires_grad=True)
    plain_generator = torch.Generator().manual_seed(3)
    plain = block(x, generator=plain_generator)
    plain.sum().backward()
    plain_grad = x.grad.clone()

    x.grad = None
    generator = torch.Generator().manual_seed(3)
    out = checkpointed(block, x, generator=generator)
    assert torch.equal(generator.get_state(), plain_generator.get_state())
    out.sum().backward()  # recomputes with a copy: the generator must not move again
    assert torch.equal(generator.get_state(), plain_generator.get_state())
    assert torch.equal(out, plain)
    assert torch.equal(x.grad, plain_grad)


def test_without_a_generator_it_is_torch_checkpoint():
    torch.manual_seed(0)
    x = torch.randn(4, requires_grad=True)
    torch.manual_seed(1)
    ours = checkpointed(lambda t: torch.nn.functional.dropout(t, 0.5), x)
    torch.manual_seed(1)
    theirs = checkpoint(lambda t: torch.nn.functional.dropout(t, 0.5), x, use_reentrant=False)
    assert torch.equal(ours, theirs)


@pytest.mark.parametrize("attn", ["full", "prob"])
def test_checkpointing_with_full_attention_in_groups(attn, make_model, make_inputs, monkeypatch):
    # Tiny weight matrices go in groups too: the cross-attention (and, for "full", every attention).
    monkeypatch.setattr("informer.model.attention.FULL_ATTENTION_CHUNK", 50)
    model = make_model(dropout=0.2, attn=attn).train()
    inputs = make_inputs(model, 4)
    plain = _step(model, inputs, seed=3, with_generator=True)
    set_activation_checkpointing(model, True)
    recomputed = _step(model, inputs, seed=3, with_generator=True)
    torch.testing.assert_close(recomputed[0], plain[0], rtol=1e-6, atol=1e-6)
    for name, grad in plain[1].items():
        torch.testing.assert_close(recomputed[1][name], grad, rtol=1e-5, atol=1e-6, msg=name)
    assert torch.equal(recomputed[2], plain[2])
