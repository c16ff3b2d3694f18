"""The composed model computes what the single model class of 0.7 computed.

For every combination of the modern options the configuration accepts, the model of 0.7
(a frozen copy in tests/model/legacy_0_7.py) and today's composed model are built from the same
settings, with the same weights, and must give the same forecast and the same gradients (fp32,
a fixed generator for ProbSparse's sampled keys). Today's model is built from the settings as
0.7 saved them (the old spellings), the way a run directory of 0.7 is loaded.
"""

from __future__ import annotations

import itertools

import pytest
import torch
from model.legacy_0_7 import LegacyInformer, LegacyLinear

from informer.batches import Batch
from informer.config import ModelConfig
from informer.errors import ConfigError
from informer.model.compose import rebuild_forecaster

SEQ_LEN, LABEL_LEN, PRED_LEN, ENC_IN, MARKS, PERIOD = 12, 6, 5, 3, 4, 5
NORMS = [("none", False), ("revin", False), ("revin", True), ("last", False), ("last", True)]
SKIPS = ["none", "linear", "gated", "linear-raw", "gated-raw"]


def _inputs(size: int, *, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x_enc = torch.randn(size, SEQ_LEN, ENC_IN, generator=g) * 2 + 3
    x_dec = torch.cat([x_enc[:, -LABEL_LEN:], torch.zeros(size, PRED_LEN, ENC_IN)], dim=1)
    marks_enc = torch.rand(size, SEQ_LEN, MARKS, generator=g) - 0.5
    marks_dec = torch.rand(size, LABEL_LEN + PRED_LEN, MARKS, generator=g) - 0.5
    start = torch.randint(0, PERIOD, (size, 1), generator=g)
    phase_enc = (start + torch.arange(SEQ_LEN)) % PERIOD
    phase_dec = (start + torch.arange(SEQ_LEN - LABEL_LEN, SEQ_LEN + PRED_LEN)) % PERIOD
    return x_enc, x_dec, marks_enc, marks_dec, phase_enc, phase_dec


def _legacy_marks(marks, phase, cycle):
    return torch.cat([marks, phase[..., None].float()], dim=2) if cycle else marks


def _compare(legacy, settings, kind, *, size=2, cycle=0, generator_seed=3):
    new = rebuild_forecaster(kind, settings)
    assert sorted(new.state_dict()) == sorted(legacy.state_dict())
    # The parameters in 0.7's order (an optimizer state saved by 0.7 lines up), but for the gate,
    # a parameter of 0.7's model itself, which came first.
    assert [n for n, _ in new.named_parameters() if n != "linear_skip.gate"] == [
        n for n, _ in legacy.named_parameters() if n != "skip_gate"]
    new.load_state_dict(legacy.state_dict(), strict=True)
    # Trained-looking values where the options start at zero or one (cycle, gate, affine).
    with torch.no_grad():
        for name, value in legacy.named_parameters():
            if name in ("cycle.pattern", "skip_gate", "revin.weight", "revin.bias"):
                value.copy_(torch.randn(value.shape, generator=torch.Generator().manual_seed(9)) * 0.5
                            + (1.0 if name == "revin.weight" else 0.0))
    new.load_state_dict(legacy.state_dict(), strict=True)
    x_enc, x_dec, marks_enc, marks_dec, phase_enc, phase_dec = _inputs(size)
    legacy_out = legacy(x_enc, _legacy_marks(marks_enc, phase_enc, cycle), x_dec,
                        _legacy_marks(marks_dec, phase_dec, cycle),
                        **({"generator": torch.Generator().manual_seed(generator_seed)} if kind == "informer" else {}))
    batch = Batch(x_enc, marks_enc, x_dec, marks_dec, phase_enc=phase_enc if cycle else None,
                  phase_dec=phase_dec if cycle else None)
    new_out = new(batch, generator=torch.Generator().manual_seed(generator_seed))
    torch.testing.assert_close(new_out, legacy_out, rtol=1e-5, atol=1e-5)
    legacy_out.square().mean().backward()
    new_out.square().mean().backward()
    new_grads = {("skip_gate" if name == "linear_skip.gate" else name): p.grad for name, p in new.named_parameters()}
    for name, p in legacy.named_parameters():
        if p.grad is None:
            assert new_grads[name] is None or not new_grads[name].any(), name
            continue
        torch.testing.assert_close(new_grads[name], p.grad, rtol=1e-4, atol=1e-5, msg=name)


def _accepted(**options) -> bool:
    try:
        ModelConfig(**options)
    except ConfigError:
        return False
    return True


OPTION_GRID = [
    dict(norm=norm, norm_affine=affine, cycle=cycle, cycle_norm=cycle_norm, skip=skip, channel_independent=ci,
         patch_len=patch, c_out=c_out)
    for (norm, affine), (cycle, cycle_norm), skip, ci, patch, c_out in itertools.product(
        NORMS, [(0, False), (PERIOD, False), (PERIOD, True)], SKIPS, [False, True], [1, 4], [ENC_IN, 1])
    if _accepted(norm=norm, norm_affine=affine, cycle=cycle, cycle_norm=cycle_norm, skip=skip, patch_len=patch)
]


def _id(options: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in options.items())


@pytest.mark.parametrize("options", OPTION_GRID, ids=_id)
def test_every_option_combination_computes_as_in_0_7(options):
    options = dict(options)
    c_out = options.pop("c_out")
    torch.manual_seed(0)
    legacy = LegacyInformer(enc_in=ENC_IN, dec_in=ENC_IN, c_out=c_out, seq_len=SEQ_LEN, label_len=LABEL_LEN,
                            pred_len=PRED_LEN, d_model=8, n_heads=2, d_ff=8, dropout=0.0, moving_avg=3,
                            **options).train()
    _compare(legacy, legacy.settings, "informer", cycle=options["cycle"])


ARCHITECTURES = [dict(attn=attn, distil=distil, stack=stack, mix=mix)
                 for attn, distil, stack, mix in itertools.product(["prob", "full"], [True, False], [False, True],
                                                                  [True, False])]
MODERN = dict(norm="revin", channel_independent=True, patch_len=4, skip="linear-raw", cycle=PERIOD)


@pytest.mark.parametrize("options", [{}, MODERN, dict(MODERN, cycle_norm=True, norm_affine=True)],
                         ids=["published", "modern", "cycle-norm"])
@pytest.mark.parametrize("architecture", ARCHITECTURES, ids=_id)
def test_every_architecture_computes_as_in_0_7(architecture, options):
    torch.manual_seed(1)
    heads, size = (1, 1) if architecture["mix"] else (2, 2)  # n_heads 1 and batch 1 too
    legacy = LegacyInformer(enc_in=ENC_IN, dec_in=ENC_IN, c_out=ENC_IN, seq_len=SEQ_LEN, label_len=LABEL_LEN,
                            pred_len=PRED_LEN, d_model=8, n_heads=heads, d_ff=8, dropout=0.0, s_layers=[2, 1],
                            moving_avg=3, **architecture, **options).train()
    _compare(legacy, legacy.settings, "informer", size=size, cycle=options.get("cycle", 0))


def test_the_same_seed_draws_the_same_initial_weights_as_0_7():
    torch.manual_seed(5)
    legacy = LegacyInformer(enc_in=ENC_IN, dec_in=ENC_IN, c_out=ENC_IN, seq_len=SEQ_LEN, label_len=LABEL_LEN,
                            pred_len=PRED_LEN, d_model=8, n_heads=2, d_ff=8, moving_avg=3, **MODERN,
                            norm_affine=True)
    torch.manual_seed(5)
    new = rebuild_forecaster("informer", legacy.settings)
    saved = new.state_dict()
    for name, value in legacy.state_dict().items():
        assert torch.equal(saved[name], value), name


@pytest.mark.parametrize("individual", [False, True])
@pytest.mark.parametrize("c_out", [ENC_IN, 1])
@pytest.mark.parametrize("cycle", [0, PERIOD])
def test_dlinear_with_and_without_a_cycle_computes_as_in_0_7(individual, c_out, cycle):
    torch.manual_seed(2)
    legacy = LegacyLinear(enc_in=ENC_IN, c_out=c_out, seq_len=SEQ_LEN, pred_len=PRED_LEN, moving_avg=3,
                          individual=individual, label_len=LABEL_LEN, freq="h", cycle=cycle)
    settings = dict(enc_in=ENC_IN, c_out=c_out, seq_len=SEQ_LEN, pred_len=PRED_LEN, moving_avg=3,
                    individual=individual, label_len=LABEL_LEN, freq="h", **({"cycle": cycle} if cycle else {}))
    _compare(legacy, settings, "linear", cycle=cycle)


@pytest.mark.parametrize("skip", ["gated-raw", "linear"])
def test_linear_lr_trains_the_parameters_0_7_trained_with_it(skip):
    from informer.training.loop import make_optimizer

    legacy = LegacyInformer(enc_in=ENC_IN, dec_in=ENC_IN, c_out=ENC_IN, seq_len=SEQ_LEN, label_len=LABEL_LEN,
                            pred_len=PRED_LEN, d_model=8, n_heads=2, d_ff=8, moving_avg=3,
                            **dict(MODERN, skip=skip))
    new = rebuild_forecaster("informer", legacy.settings)
    # 0.7 gave train.linear_lr to the modules named linear_skip and cycle, not to the gate
    legacy_linear = {f"{part}.{name}" for part in ("linear_skip", "cycle")
                     for name, _ in getattr(legacy, part).named_parameters()}
    names = {id(p): ("skip_gate" if n == "linear_skip.gate" else n) for n, p in new.named_parameters()}
    groups = make_optimizer(new, lr=1e-3, linear_lr=5e-3).param_groups
    assert {names[id(p)] for p in groups[1]["params"]} == legacy_linear
    assert groups[1]["lr"] == pytest.approx(5e-3) and groups[0]["lr"] == pytest.approx(1e-3)
