"""Decoder: causality of the masked self-attention, and the published ``mix`` exception."""

from __future__ import annotations

import pytest
import torch

from informer.model.decoder import Decoder

LAYER = dict(d_model=16, n_heads=2, d_ff=32, dropout=0.0, activation="gelu")


def decoder(attn, mix, factor=2, depth=2):
    torch.manual_seed(0)
    return Decoder(depth=depth, attn=attn, mix=mix, factor=factor, **LAYER).eval()


def outputs_with_step_changed(module, step, length=18):
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(2, length, 16, generator=generator)
    memory = torch.randn(2, 10, 16, generator=generator)
    changed = x.clone()
    changed[:, step] += 2.0
    with torch.no_grad():
        base = module(x, memory, generator=torch.Generator().manual_seed(0))
        moved = module(changed, memory, generator=torch.Generator().manual_seed(0))
    return base, moved


@pytest.mark.parametrize("attn, factor", [("full", 2), ("prob", 100)])
@pytest.mark.parametrize("step", [1, 9, 17])
def test_decoder_outputs_never_depend_on_later_inputs(attn, factor, step):
    # ProbSparse keeps every query here (factor 100); with fewer kept queries the choice of
    # queries itself looks at later keys (docs/model.md), as in the published code.
    base, moved = outputs_with_step_changed(decoder(attn, mix=False, factor=factor), step)
    torch.testing.assert_close(moved[:, :step], base[:, :step], atol=0, rtol=0)
    assert not torch.allclose(moved[:, step:], base[:, step:])


def test_decoder_output_has_the_input_shape():
    base, _ = outputs_with_step_changed(decoder("prob", mix=True), 0, length=30)
    assert base.shape == (2, 30, 16)


def test_published_mix_lets_earlier_outputs_see_later_inputs():
    # With mix, output row 0 is built from steps 0 .. H-1 of head 0 (H = 2), so step 1 leaks
    # into step 0: the documented price of reproducing the published decoder.
    base, moved = outputs_with_step_changed(decoder("full", mix=True, depth=1), 1)
    assert not torch.allclose(moved[:, 0], base[:, 0])


@pytest.mark.parametrize("attn, mix", [("prob", True), ("full", False)])
@pytest.mark.parametrize("depth", [1, 2])
@pytest.mark.parametrize("checkpoint", [False, True])
def test_keeping_the_last_steps_gives_those_steps_of_the_whole_decoder(attn, mix, depth, checkpoint):
    # the last layer computes cross-attention and feed-forward for the forecast steps only
    module = decoder(attn, mix=mix, depth=depth)
    for layer in module.layers:
        layer.checkpoint_activations = checkpoint
    module.train(checkpoint)  # checkpointing acts in training (dropout is 0 here)
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(2, 18, 16, generator=generator, requires_grad=True)
    memory = torch.randn(2, 10, 16, generator=generator, requires_grad=True)
    whole = module(x, memory, generator=torch.Generator().manual_seed(0))
    kept = module(x, memory, generator=torch.Generator().manual_seed(0), keep_last=6)
    assert kept.shape == (2, 6, 16)
    torch.testing.assert_close(kept, whole[:, -6:], rtol=1e-5, atol=1e-6)
    # and the gradients of a loss on those steps are the same
    grads_whole = torch.autograd.grad(whole[:, -6:].square().sum(), (x, memory))
    grads_kept = torch.autograd.grad(kept.square().sum(), (x, memory))
    for a, b in zip(grads_kept, grads_whole):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
