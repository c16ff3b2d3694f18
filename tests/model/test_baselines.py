"""The repeat and DLinear baselines: forecasts, decomposition, per-channel maps, settings, errors."""

from __future__ import annotations

import json

import pytest
import torch

from informer.batches import Batch
from informer.config import ModelConfig
from informer.errors import ConfigError
from informer.model.baselines import Linear, Repeat, decompose
from informer.model.forecaster import Forecaster, build_forecaster

SIZES = dict(enc_in=3, seq_len=12, pred_len=4, label_len=6, freq="h")


def inputs(model, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """``(x_enc, x_mark_enc, x_dec, x_mark_dec)`` of the model's shapes; ``model(Batch(*x))`` takes them."""
    generator = torch.Generator().manual_seed(seed)
    shapes = model.input_shapes(batch)
    names = ("x_enc", "x_mark_enc", "x_dec", "x_mark_dec")
    return tuple(torch.randn(shapes[name], generator=generator) for name in names)


def linear(seed: int = 0, **overrides) -> Linear:
    torch.manual_seed(seed)
    return Linear(**{**SIZES, "c_out": 3, "moving_avg": 5, **overrides})


@pytest.mark.parametrize("c_out", [3, 1])
def test_repeat_gives_the_last_encoder_row(c_out):
    model = Repeat(**SIZES, c_out=c_out)
    x = inputs(model, 2)
    out = model(Batch(*x))
    assert out.shape == (2, 4, c_out) and out.is_contiguous()
    assert torch.equal(out, x[0][:, -1:, -c_out:].expand(-1, 4, -1))
    assert list(model.parameters()) == [] and model.state_dict() == {}


def test_repeat_under_autocast_and_eval():
    model = Repeat(**SIZES, c_out=3).to("cpu").eval()
    x = inputs(model, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(Batch(*x))
    assert torch.equal(out, x[0][:, -1:].expand(-1, 4, -1))


@pytest.mark.parametrize("individual", [False, True])
@pytest.mark.parametrize("moving_avg", [1, 4, 5, 12])
def test_linear_output_shape(individual, moving_avg):
    model = linear(individual=individual, moving_avg=moving_avg, c_out=2)
    assert model(Batch(*inputs(model, 2))).shape == (2, 4, 2)


@pytest.mark.parametrize("moving_avg", [1, 2, 3, 4, 5, 12, 13, 30])
def test_decomposition_keeps_the_length_and_adds_up(moving_avg):
    x = torch.randn(2, 12, 3, generator=torch.Generator().manual_seed(0))
    seasonal, trend = decompose(x, moving_avg)
    assert trend.shape == seasonal.shape == x.shape
    torch.testing.assert_close(seasonal + trend, x)


def test_trend_of_a_constant_is_the_constant_and_of_a_line_the_line():
    constant = torch.full((1, 12, 2), 3.5)
    seasonal, trend = decompose(constant, 5)
    torch.testing.assert_close(trend, constant)
    torch.testing.assert_close(seasonal, torch.zeros_like(constant))
    # Away from the padded ends, a centred average of a straight line is the line itself.
    line = torch.arange(12.0).reshape(1, 12, 1)
    torch.testing.assert_close(decompose(line, 5)[1][:, 2:-2], line[:, 2:-2])


def test_moving_avg_one_makes_the_trend_the_input():
    x = torch.randn(2, 12, 3, generator=torch.Generator().manual_seed(1))
    seasonal, trend = decompose(x, 1)
    torch.testing.assert_close(trend, x)
    torch.testing.assert_close(seasonal, torch.zeros_like(x))


def test_individual_maps_are_per_channel():
    model = linear(individual=True).eval()
    assert model.seasonal.weight.shape == (3, 4, 12) and model.trend.bias.shape == (3, 4)
    x = inputs(model, 2)
    changed = x[0].clone()
    changed[:, :, 1] += torch.randn(2, 12, generator=torch.Generator().manual_seed(5))
    before, after = model(Batch(*x)), model(Batch(changed, *x[1:]))
    assert torch.equal(before[..., [0, 2]], after[..., [0, 2]])
    assert not torch.allclose(before[..., 1], after[..., 1])
    # Same input in every channel: per-channel maps still give different forecasts per channel.
    same = x[0][..., :1].expand(-1, -1, 3).contiguous()
    out = model(Batch(same, *x[1:]))
    assert not torch.allclose(out[..., 0], out[..., 1])


def test_individual_maps_start_like_nn_linear():
    model = linear(individual=True, seq_len=16, enc_in=64, c_out=64)
    bound = 1 / 16**0.5
    for parameter in (model.seasonal.weight, model.trend.bias):
        assert parameter.abs().max() <= bound and parameter.abs().max() > 0.9 * bound


@pytest.mark.parametrize("cls, extra", [(Repeat, {}), (Linear, {"moving_avg": 4, "individual": True})])
def test_settings_rebuild_the_same_model(cls, extra):
    torch.manual_seed(0)
    model = cls(**SIZES, c_out=2, **extra).eval()
    settings = json.loads(json.dumps(model.settings))
    torch.manual_seed(1)
    same = cls(**settings).eval()
    same.load_state_dict(model.state_dict())
    x = inputs(model, 2)
    assert same.settings == model.settings
    assert torch.equal(same(Batch(*x)), model(Batch(*x)))


def test_build_forecaster_reads_the_linear_fields():
    config = ModelConfig(kind="linear", moving_avg=7, individual=True)
    model = build_forecaster(config, enc_in=3, c_out=1, seq_len=12, label_len=6, pred_len=4, freq="t")
    assert type(model) is Linear  # no option: DLinear itself, nothing around it
    assert model.settings == dict(enc_in=3, c_out=1, seq_len=12, pred_len=4, moving_avg=7, individual=True,
                                  label_len=6, freq="t")
    assert model.input_shapes(2) == {"x_enc": (2, 12, 3), "x_mark_enc": (2, 12, 5), "x_dec": (2, 10, 3),
                                     "x_mark_dec": (2, 10, 5)}
    repeat = build_forecaster(ModelConfig(kind="repeat"), enc_in=3, c_out=1, seq_len=12, label_len=6,
                              pred_len=4, freq="h")
    assert type(repeat) is Repeat
    assert repeat.pred_len == 4 and repeat.input_shapes(1)["x_dec"] == (1, 10, 3)


@pytest.mark.parametrize("individual", [False, True])
def test_a_tiny_linear_fits_a_trending_series(individual):
    generator = torch.Generator().manual_seed(0)
    t = torch.arange(16.0)
    slopes = torch.randn(32, 1, 2, generator=generator) * 0.2
    offsets = torch.randn(32, 1, 2, generator=generator)
    series = offsets + slopes * t[None, :, None]  # (32, 16, 2)
    model = linear(enc_in=2, c_out=2, individual=individual)
    x = Batch(series[:, :12], torch.zeros(32, 12, 4), torch.zeros(32, 10, 2), torch.zeros(32, 10, 4))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(200):
        optimiser.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), series[:, 12:])
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.01 * losses[0]


@pytest.mark.parametrize("cls", [Repeat, Linear])
def test_wrong_x_enc_shape_raises(cls):
    model = cls(**SIZES, c_out=1, **({"moving_avg": 5} if cls is Linear else {}))
    x = inputs(model, 2)
    with pytest.raises(ValueError, match=r"\(B, seq_len, enc_in\) = \(B, 12, 3\)"):
        model(Batch(x[0][:, 1:], *x[1:]))
    with pytest.raises(ValueError, match="x_enc"):
        model(Batch(x[0][..., :2], *x[1:]))


@pytest.mark.parametrize(
    "change, name",
    [
        (dict(enc_in=0), "enc_in"),
        (dict(seq_len=-1), "seq_len"),
        (dict(pred_len=2.0), "pred_len"),
        (dict(c_out=4), "c_out"),
        (dict(moving_avg=0), "moving_avg"),
        (dict(moving_avg=13), "moving_avg.*longer than `seq_len` \\(12\\)"),
        (dict(individual=1), "individual"),
        (dict(label_len=-1), "label_len"),
        (dict(freq="x"), "freq"),
    ],
)
def test_bad_settings_raise_config_error(change, name):
    with pytest.raises(ConfigError, match=name):
        Linear(**{**SIZES, "c_out": 1, **change})
    if not name.startswith(("moving_avg", "individual")):
        with pytest.raises(ConfigError, match=name):
            Repeat(**{**SIZES, "c_out": 1, **change})


@pytest.mark.parametrize("individual", [False, True])
def test_batch_one_matches_the_batch(individual):
    model = linear(individual=individual).eval()
    x = inputs(model, 3)
    whole = model(Batch(*x))
    for i in range(3):
        torch.testing.assert_close(model(Batch(*(t[i : i + 1] for t in x))), whole[i : i + 1])
    assert Repeat(**SIZES, c_out=3)(Batch(*(t[:1] for t in x))).shape == (1, 4, 3)


def test_both_meet_the_forecaster_contract():
    for model in (Repeat(**SIZES, c_out=1), linear()):
        assert isinstance(model, Forecaster)
    assert (Repeat.kind, Repeat.trainable, Linear.kind, Linear.trainable) == ("repeat", False, "linear", True)


@pytest.mark.parametrize("individual", [False, True])
def test_a_target_forecast_reads_only_the_target(individual):
    """MS (c_out 1): the forecast depends on the target's past alone, and only its maps exist."""
    model = linear(individual=individual, c_out=1).eval()
    x = inputs(model, 2)
    others = x[0].clone()
    others[..., :2] += 5.0
    assert torch.equal(model(Batch(*x)), model(Batch(others, *x[1:])))
    assert model.seasonal.weight.shape == ((1, 4, 12) if individual else (4, 12))
