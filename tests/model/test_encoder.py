"""Encoder: distilling lengths, the distilling block, the stack's input slices."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from informer.model.encoder import DistillingLayer, Encoder, EncoderStack, encoder_output_length

LAYER = dict(d_model=16, n_heads=2, d_ff=32, factor=2, dropout=0.0, attn="prob", activation="gelu")


def encoder(depth, distil=True, **overrides):
    torch.manual_seed(0)
    return Encoder(depth=depth, distil=distil, **{**LAYER, **overrides}).eval()


def run(module, batch, length, seed=0):
    x = torch.randn(batch, length, 16, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return module(x, generator=torch.Generator().manual_seed(1))


@pytest.mark.parametrize("depth, expected", [(1, 96), (2, 48), (3, 24), (4, 12)])
def test_distilling_halves_the_length_between_layers(depth, expected):
    assert run(encoder(depth), 2, 96).shape == (2, expected, 16)


def test_without_distilling_the_length_is_kept():
    assert run(encoder(3, distil=False), 2, 96).shape == (2, 96, 16)


@pytest.mark.parametrize("length", range(1, 12))
def test_distilling_block_rounds_odd_lengths_up(length):
    block = DistillingLayer(d_model=4).eval()
    assert block(torch.randn(2, length, 4)).shape == (2, math.ceil(length / 2), 4)


def test_distilling_block_is_circular_conv_batchnorm_elu_maxpool():
    torch.manual_seed(0)
    block = DistillingLayer(d_model=3)
    with torch.no_grad():
        block.norm.running_mean.normal_()
        block.norm.running_var.uniform_(0.5, 2.0)
        block.norm.weight.normal_()
        block.norm.bias.normal_()
    block.eval()
    x = torch.randn(2, 9, 3)
    padded = torch.cat([x[:, -1:], x, x[:, :1]], dim=1)  # circular padding of one step
    conv = F.conv1d(padded.transpose(1, 2), block.conv.weight, block.conv.bias).transpose(1, 2)  # (B, 9, D)
    normed = (conv - block.norm.running_mean) / torch.sqrt(block.norm.running_var + block.norm.eps)
    activated = F.elu(normed * block.norm.weight + block.norm.bias)
    expected = torch.stack(
        [activated[:, max(0, 2 * j - 1) : 2 * j + 2].amax(dim=1) for j in range(5)], dim=1
    )  # windows of 3 centred on even steps, padding ignored
    torch.testing.assert_close(block(x), expected)


def test_encoder_stack_concatenates_to_72_steps_for_96():
    torch.manual_seed(0)
    stack = EncoderStack(depths=(3, 2, 1), distil=True, **LAYER).eval()
    assert run(stack, 2, 96).shape == (2, 72, 16)


def test_encoder_stack_feeds_encoder_k_the_last_steps_over_two_to_the_k():
    torch.manual_seed(0)
    stack = EncoderStack(depths=(3, 2, 1), distil=True, **{**LAYER, "attn": "full"}).eval()
    x = torch.randn(1, 96, 16)
    with torch.no_grad():
        base = stack(x)
        early = x.clone()
        early[:, :48] += 1.0  # seen by encoder 0 only, whose output is steps 0-23
        middle = x.clone()
        middle[:, 48:72] += 1.0  # seen by encoders 0 and 1 (steps 0-47), not by encoder 2
        out_early, out_middle = stack(early), stack(middle)
    torch.testing.assert_close(out_early[:, 24:], base[:, 24:], atol=0, rtol=0)
    assert not torch.allclose(out_early[:, :24], base[:, :24])
    torch.testing.assert_close(out_middle[:, 48:], base[:, 48:], atol=0, rtol=0)
    assert not torch.allclose(out_middle[:, 24:48], base[:, 24:48])


def test_encoder_stack_rejects_inputs_too_short_for_its_depths():
    torch.manual_seed(0)
    stack = EncoderStack(depths=(1, 1, 1), distil=True, **LAYER).eval()
    with pytest.raises(ValueError, match="0 steps"):
        run(stack, 1, 3)


@pytest.mark.parametrize(
    "length, depths, distil",
    [(96, 2, True), (96, 3, True), (25, 3, True), (50, 2, False), (96, (3, 2, 1), True), (37, (2, 2), True), (40, (2, 1), False)],
)
def test_encoder_output_length_predicts_the_modules(length, depths, distil):
    torch.manual_seed(0)
    if isinstance(depths, int):
        module = Encoder(depth=depths, distil=distil, **LAYER).eval()
    else:
        module = EncoderStack(depths=depths, distil=distil, **LAYER).eval()
    assert run(module, 1, length).shape[1] == encoder_output_length(length, depths, distil=distil)

