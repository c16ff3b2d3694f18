"""The whole model: shapes, gradients, learning, batch independence, rebuilding from settings, the batch it reads."""

from __future__ import annotations

import json

import pytest
import torch

import informer.model.attention as attention_module
import informer.model.dropout as dropout_module
from informer.batches import Batch
from informer.config import ModelConfig
from informer.errors import ConfigError
from informer.model import Informer, build_forecaster


def test_default_configuration_has_the_paper_shapes():
    # ETTh1, features M (7 channels), batch 32, seq 96 / label 48 / pred 24, d_model 512, 8 heads.
    torch.manual_seed(0)
    model = build_forecaster(ModelConfig(), enc_in=7, c_out=7, seq_len=96, label_len=48, pred_len=24, freq="h")
    assert type(model) is Informer  # no option: the paper's model itself, nothing around it
    model.eval()
    seen = {}

    def record(name):
        def hook(module, args, output):
            seen[name] = (tuple(args[0].shape), tuple(output.shape))

        return hook

    model.enc_embedding.register_forward_hook(record("enc_embedding"))
    model.encoder.layers[0].attention.inner_attention.register_forward_hook(record("first_attention"))
    model.encoder.register_forward_hook(record("encoder"))
    model.dec_embedding.register_forward_hook(record("dec_embedding"))
    x = torch.randn(32, 96, 7), torch.rand(32, 96, 4) - 0.5, torch.randn(32, 72, 7), torch.rand(32, 72, 4) - 0.5
    with torch.no_grad():
        out = model(Batch(*x), generator=torch.Generator().manual_seed(0))

    assert seen["enc_embedding"][1] == (32, 96, 512)
    assert seen["first_attention"] == ((32, 8, 96, 64), (32, 8, 96, 64))
    assert model.encoder.layers[0].attention.kept_queries.shape == (32, 8, 25)
    assert seen["encoder"][1] == (32, 48, 512)
    assert seen["dec_embedding"][1] == (32, 72, 512)
    assert out.shape == (32, 24, 7)


CONFIGS = [
    dict(attn="prob"),
    dict(attn="full"),
    dict(embed="fixed"),
    dict(embed="learned", freq="t"),
    dict(mix=False, activation="relu"),
    dict(distil=False),
    dict(stack=True, s_layers=(2, 1), seq_len=24),
    dict(lazy_decoder="cummean", d_layers=2),
    dict(n_heads=1),
]


@pytest.mark.parametrize("overrides", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_every_parameter_receives_a_gradient(overrides, make_model, make_inputs):
    model = make_model(dropout=0.1, **overrides).train()
    out = model(Batch(*make_inputs(model, 4)), generator=torch.Generator().manual_seed(0))
    out.square().mean().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing


def test_a_tiny_model_overfits_one_batch(make_model, make_inputs):
    model = make_model(seed=1).train()
    batch = Batch(*make_inputs(model, 8, seed=1))
    target = torch.randn(8, 6, 2, generator=torch.Generator().manual_seed(2))
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(150):
        optimiser.zero_grad()
        loss = torch.nn.functional.mse_loss(model(batch, generator=generator), target)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10


@pytest.mark.parametrize("n_heads", [1, 2])
@pytest.mark.parametrize("attn", ["prob", "full"])
def test_batch_items_do_not_influence_each_other(n_heads, attn, make_model, make_inputs):
    # In eval mode: in training, the distilling BatchNorm uses batch statistics (as published).
    model = make_model(n_heads=n_heads, attn=attn).eval()
    inputs = make_inputs(model, 3)
    with torch.no_grad():
        together = model(Batch(*inputs), generator=torch.Generator().manual_seed(4))
        for item in range(3):
            alone = model(Batch(*(x[item : item + 1] for x in inputs)), generator=torch.Generator().manual_seed(4))
            torch.testing.assert_close(alone, together[item : item + 1], atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "attn, expected",
    [
        # embeddings 2; each encoder layer 3 (residual, two in the feed-forward); the decoder
        # layer 4 (two residuals, two in the feed-forward) + 1 in its full cross-attention.
        # ProbSparse attention applies none of its own; full attention adds 1 per use.
        ("prob", 2 + 2 * 3 + 4 + 1),
        ("full", 2 + 2 * (3 + 1) + 4 + 1 + 1),
    ],
)
def test_dropout_is_applied_where_the_published_code_applies_it(attn, expected, make_model, make_inputs, monkeypatch):
    calls = []
    original = dropout_module.dropout

    def counting(input, p, *, training=True, generator=None):
        if training and p > 0:
            calls.append(tuple(input.shape))
        return original(input, p, training=training, generator=generator)

    # every dropout in the model goes through informer.model.dropout.dropout
    monkeypatch.setattr(dropout_module, "dropout", counting)
    monkeypatch.setattr(attention_module, "dropout", counting)
    model = make_model(attn=attn, dropout=0.1).train()
    model(Batch(*make_inputs(model, 2)), generator=None)
    assert len(calls) == expected
    model.eval()
    calls.clear()
    model(Batch(*make_inputs(model, 2)))
    assert calls == []


def test_a_seeded_generator_makes_the_forward_pass_deterministic(make_model, make_inputs):
    model = make_model().eval()
    inputs = Batch(*make_inputs(model, 2))
    with torch.no_grad():
        first = model(inputs, generator=torch.Generator().manual_seed(9))
        kept_first = model.kept_queries()
        second = model(inputs, generator=torch.Generator().manual_seed(9))
        kept_second = model.kept_queries()
        model(inputs, generator=torch.Generator().manual_seed(10))
        kept_other = model.kept_queries()
    assert torch.equal(first, second)
    assert all(torch.equal(kept_first[name], kept_second[name]) for name in kept_first)
    assert any(not torch.equal(kept_first[name], kept_other[name]) for name in kept_first)


def test_kept_queries_are_reported_per_probsparse_attention(make_model, make_inputs):
    model = make_model().eval()
    with torch.no_grad():
        model(Batch(*make_inputs(model, 3)), generator=torch.Generator().manual_seed(0))
    shapes = {name: tuple(kept.shape) for name, kept in model.kept_queries().items()}
    # factor 2: encoder 24 and 12 steps, decoder 12 + 6 = 18 steps -> 2 * ceil(ln L) kept
    assert shapes == {
        "encoder.layers.0.attention.inner_attention": (3, 2, 8),
        "encoder.layers.1.attention.inner_attention": (3, 2, 6),
        "decoder.layers.0.self_attention.inner_attention": (3, 2, 6),
    }
    assert make_model(attn="full").kept_queries() == {}


def test_the_model_rebuilds_from_its_json_settings(make_model, make_inputs):
    model = make_model(embed="fixed", stack=True, s_layers=(2, 1), mix=False).eval()
    settings = json.loads(json.dumps(model.settings))
    rebuilt = Informer(**settings).eval()
    rebuilt.load_state_dict(model.state_dict())
    inputs = Batch(*make_inputs(model, 2))
    with torch.no_grad():
        expected = model(inputs, generator=torch.Generator().manual_seed(0))
        actual = rebuilt(inputs, generator=torch.Generator().manual_seed(0))
    assert rebuilt.settings == model.settings
    torch.testing.assert_close(actual, expected, atol=0, rtol=0)


def test_build_forecaster_takes_the_architecture_from_the_config():
    config = ModelConfig(d_model=24, n_heads=3, e_layers=3, d_ff=40, factor=3, attn="full", mix=False)
    model = build_forecaster(config, enc_in=5, c_out=2, seq_len=32, label_len=16, pred_len=8, freq="t")
    assert type(model) is Informer
    settings = model.settings
    for field in ("d_model", "n_heads", "e_layers", "d_layers", "d_ff", "factor", "attn", "mix", "embed"):
        assert settings[field] == getattr(config, field)
    assert (settings["enc_in"], settings["dec_in"], settings["c_out"], settings["freq"]) == (5, 5, 2, "t")
    assert model.input_shapes(2) == {
        "x_enc": (2, 32, 5),
        "x_mark_enc": (2, 32, 5),  # timeF, minute data: 5 features
        "x_dec": (2, 24, 5),  # the builder's decoder reads the encoder's channels
        "x_mark_dec": (2, 24, 5),
    }
    assert len(model.encoder.layers) == 3


def test_the_paper_s_model_takes_a_decoder_of_other_channels():
    """The published code allows dec_in != enc_in; the builder does not ask for it, Informer does."""
    model = Informer(enc_in=5, dec_in=4, c_out=2, seq_len=32, label_len=16, pred_len=8, freq="t", d_model=16,
                     n_heads=2, d_ff=32, factor=3)
    assert model.input_shapes(2)["x_dec"] == (2, 24, 4)
    inputs = Batch(*(torch.randn(shape) for shape in model.input_shapes(2).values()))
    assert model(inputs, generator=torch.Generator().manual_seed(0)).shape == (2, 8, 2)


def test_inputs_of_the_wrong_shape_name_the_expected_one(make_model, make_inputs):
    model = make_model()
    x_enc, x_mark_enc, x_dec, x_mark_dec = make_inputs(model, 2)
    with pytest.raises(ValueError, match=r"x_enc must have shape .*\(2, 24, 3\)"):
        model(Batch(x_enc[:, :20], x_mark_enc, x_dec, x_mark_dec))
    with pytest.raises(ValueError, match=r"x_mark_dec must have shape .*\(2, 18, 4\)"):
        model(Batch(x_enc, x_mark_enc, x_dec, x_mark_dec[..., :3]))


@pytest.mark.parametrize(
    "field, value, meaning",
    [
        ("phase_enc", torch.zeros(2, 24, dtype=torch.int64), "cycle positions"),
        ("phase_dec", torch.zeros(2, 18, dtype=torch.int64), "cycle positions"),
        ("future_covariates", torch.zeros(2, 18, 1), "future-known covariates"),
        ("static_covariates", torch.zeros(2, 1), "static covariates"),
        ("series_id", torch.zeros(2, dtype=torch.int64), "series ids"),
    ],
)
def test_an_input_the_paper_s_model_does_not_read_is_refused(field, value, meaning, make_model, make_inputs):
    """Cycle positions without a cycle (or covariates) would be silently ignored: refused instead."""
    model = make_model().eval()
    batch = Batch(*make_inputs(model, 2))
    with pytest.raises(ValueError, match=rf"does not read {meaning} \(batch\.{field}\)"):
        model(batch.replace(**{field: value}))


def test_loc_and_scale_describe_the_window_and_change_nothing(make_model, make_inputs):
    model = make_model().eval()
    batch = Batch(*make_inputs(model, 2))
    with torch.no_grad():
        described = model(batch.replace(loc=torch.ones(2, 1, 3), scale=torch.ones(2, 1, 3)),
                          generator=torch.Generator().manual_seed(0))
        plain = model(batch, generator=torch.Generator().manual_seed(0))
    assert torch.equal(described, plain)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(d_model=15), "divisible"),
        (dict(attn="sparse"), "model.attn"),
        (dict(freq="H"), "paper letter"),
        (dict(enc_in=0), "enc_in"),
        (dict(stack=True, s_layers=(1, 1, 1, 1, 1, 1)), "too short"),
    ],
)
def test_invalid_settings_fail_early(overrides, message, make_model):
    with pytest.raises(ConfigError, match=message):
        make_model(**overrides)
