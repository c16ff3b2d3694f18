"""RevIN, channel independence, the linear skip and patches (issue 15): what they guarantee, checked on the model itself."""

from __future__ import annotations

import pytest
import torch

from informer.config import ModelConfig
from informer.errors import ConfigError
from informer.model.informer import Informer, build_model
from informer.model.normalisation import RevIN

SHAPES = dict(enc_in=3, dec_in=3, seq_len=24, label_len=12, pred_len=6, freq="h")


def _model(c_out: int = 3, **options) -> Informer:
    torch.manual_seed(0)
    model = build_model(ModelConfig(d_model=16, n_heads=2, d_ff=32, **options), c_out=c_out, **SHAPES)
    return model.eval()


def _inputs(scale: torch.Tensor | float = 1.0, shift: torch.Tensor | float = 0.0, batch: int = 4):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 24, 3, generator=g) * scale + shift
    x_dec = torch.cat([x[:, -12:], torch.zeros(batch, 6, 3)], dim=1)
    marks = torch.randn(batch, 24, 4, generator=g), torch.randn(batch, 18, 4, generator=g)
    return x, marks[0], x_dec, marks[1]


def _forecast(model, inputs):
    with torch.no_grad():
        return model(*inputs, generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("affine", [False, True])
def test_revin_round_trip(affine):
    revin = RevIN(3, affine=affine)
    if affine:
        with torch.no_grad():
            revin.weight.copy_(torch.tensor([0.5, 2.0, -1.5]))
            revin.bias.copy_(torch.tensor([1.0, -2.0, 0.3]))
    x = torch.randn(5, 20, 3) * torch.tensor([1.0, 50.0, 0.01]) + torch.tensor([0.0, 1e4, -3.0])
    mean, std = revin.statistics(x)
    y = revin.normalise(x, mean, std)
    if not affine:  # (the third channel's variance is near eps, which keeps a flat window finite)
        torch.testing.assert_close(y[..., :2].mean(1), torch.zeros(5, 2), atol=1e-4, rtol=0)
        torch.testing.assert_close(y[..., :2].std(1, unbiased=False), torch.ones(5, 2), atol=1e-3, rtol=0)
    torch.testing.assert_close(revin.denormalise(y, mean, std), x, rtol=1e-5, atol=1e-3)
    # the last channels alone, as for a target-only output
    torch.testing.assert_close(revin.denormalise(y[..., -1:], mean, std), x[..., -1:], rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("affine", [False, True])
def test_with_revin_a_window_moved_and_stretched_gives_the_forecast_moved_and_stretched(affine):
    model = _model(norm="revin", norm_affine=affine)
    if affine:  # learned values, not the identity they start from
        with torch.no_grad():
            model.revin.weight.copy_(torch.tensor([0.5, 2.0, -1.5]))
            model.revin.bias.copy_(torch.tensor([1.0, -2.0, 0.3]))
    scale, shift = torch.tensor([3.0, 0.5, 10.0]), torch.tensor([100.0, -20.0, 5000.0])
    base = _forecast(model, _inputs())
    moved = _forecast(model, _inputs(scale, shift))
    torch.testing.assert_close(moved, base * scale + shift, rtol=1e-4, atol=1e-2)


def test_with_norm_last_a_moved_window_gives_the_forecast_moved_and_it_starts_from_the_last_value():
    model = _model(norm="last", skip="linear", moving_avg=5)
    shift = torch.tensor([100.0, -20.0, 5000.0])
    base = _forecast(model, _inputs())
    torch.testing.assert_close(_forecast(model, _inputs(1.0, shift)), base + shift, rtol=1e-4, atol=1e-2)
    stretched = _forecast(model, _inputs(3.0))  # no scaling: a stretched window is not a stretched forecast
    assert (stretched - 3.0 * base).abs().max() > 1e-2
    x = _inputs()[0]
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    torch.testing.assert_close(_forecast(model, _inputs()), x[:, -1:].expand(-1, 6, -1))  # zero model: last value


def test_without_revin_the_published_model_is_not_level_free():
    model = _model()
    base = _forecast(model, _inputs())
    moved = _forecast(model, _inputs(1.0, 100.0))
    assert (moved - (base + 100.0)).abs().max() > 1.0


def test_channel_independent_channels_do_not_mix():
    model = _model(channel_independent=True)
    inputs = _inputs()
    changed = list(inputs)
    changed[0] = inputs[0].clone()
    changed[0][..., 0] += 5.0
    changed[2] = torch.cat([changed[0][:, -12:], torch.zeros(4, 6, 3)], dim=1)
    base, other = _forecast(model, inputs), _forecast(model, changed)
    torch.testing.assert_close(other[..., 1:], base[..., 1:])
    assert (other[..., 0] - base[..., 0]).abs().max() > 1e-3


def test_channel_independent_shares_weights_across_channels():
    model = _model(channel_independent=True)
    x, x_mark, x_dec, y_mark = _inputs()
    order = [2, 0, 1]
    base = _forecast(model, (x, x_mark, x_dec, y_mark))
    permuted = _forecast(model, (x[..., order], x_mark, x_dec[..., order], y_mark))
    torch.testing.assert_close(permuted, base[..., order])


def test_channel_independent_target_only_output_is_the_last_channel():
    full = _forecast(_model(channel_independent=True), _inputs())
    target = _forecast(_model(c_out=1, channel_independent=True), _inputs())
    torch.testing.assert_close(target, full[..., -1:])


@pytest.mark.parametrize("channel_independent", [False, True])
def test_linear_skip_adds_a_dlinear_forecast_of_the_normalised_window(channel_independent):
    plain = _model(norm="revin", channel_independent=channel_independent)
    skipped = _model(norm="revin", channel_independent=channel_independent, skip="linear", moving_avg=5)
    # built after everything else: the attention layers start from the same weights as without it
    for name, weight in plain.state_dict().items():
        torch.testing.assert_close(skipped.state_dict()[name], weight)
    inputs = _inputs(3.0, 10.0)
    x = inputs[0]
    mean, std = plain.revin.statistics(x)
    normalised = (x - mean) / std
    linear = skipped.linear_skip
    trend = torch.nn.functional.avg_pool1d(
        torch.cat([normalised[:, :1].expand(-1, 2, -1), normalised, normalised[:, -1:].expand(-1, 2, -1)], 1)
        .transpose(1, 2), 5, stride=1)  # (B, C, L)
    seasonal = normalised.transpose(1, 2) - trend
    by_hand = (seasonal @ linear.seasonal.weight.T + linear.seasonal.bias
               + trend @ linear.trend.weight.T + linear.trend.bias).transpose(1, 2)  # (B, P, C)
    expected = _forecast(plain, inputs) + by_hand * std  # added before the forecast is de-normalised
    torch.testing.assert_close(_forecast(skipped, inputs), expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("norm", ["revin", "last", "none"])
def test_raw_linear_skip_adds_a_dlinear_forecast_of_the_window_as_given(norm):
    plain = _model(norm=norm, channel_independent=True)
    skipped = _model(norm=norm, channel_independent=True, skip="linear-raw", moving_avg=5)
    for name, weight in plain.state_dict().items():  # the same attention layers as without the skip
        torch.testing.assert_close(skipped.state_dict()[name], weight)
    inputs = _inputs(3.0, 10.0)
    with torch.no_grad():
        dlinear = skipped.linear_skip(*inputs)  # on the window before --norm: it carries the level
    level = 0.0
    if norm != "none":
        level = plain.revin.statistics(inputs[0])[0]  # the mean (revin) or the last value (last)
    # Informer's part keeps the window's scale but not its level; the linear forecast brings that
    expected = _forecast(plain, inputs) - level + dlinear
    torch.testing.assert_close(_forecast(skipped, inputs), expected, rtol=1e-4, atol=1e-3)
    assert (dlinear - _forecast(skipped, inputs)).abs().max() > 1e-3  # Informer's part is not nothing


def test_raw_linear_skip_with_informer_silenced_is_dlinear_and_its_level_is_learned():
    model = _model(norm="revin", skip="linear-raw", moving_avg=5)
    with torch.no_grad():
        model.projection.weight.zero_()
        model.projection.bias.zero_()
    inputs = _inputs(3.0, 10.0)
    with torch.no_grad():
        torch.testing.assert_close(_forecast(model, inputs), model.linear_skip(*inputs))
    shifted = _forecast(model, _inputs(3.0, 110.0))  # not level-free: a linear map moves as its weights sum
    assert (shifted - (_forecast(model, inputs) + 100.0)).abs().max() > 1e-2


def test_gated_raw_skip_starts_as_dlinear_of_the_window_as_given_and_learns_the_gate():
    model = _model(norm="revin", skip="gated-raw", moving_avg=5)
    inputs = _inputs(3.0, 10.0)
    with torch.no_grad():
        torch.testing.assert_close(_forecast(model, inputs), model.linear_skip(*inputs))
    out = model.train()(*inputs, generator=torch.Generator().manual_seed(3))
    out.square().mean().backward()
    assert model.skip_gate.grad is not None and model.skip_gate.grad.abs() > 0


def test_gated_skip_starts_as_the_linear_forecast_and_learns_the_gate():
    model = _model(norm="revin", skip="gated", moving_avg=5).train()
    linear_only = _model(norm="revin", skip="linear", moving_avg=5).eval()
    with torch.no_grad():  # the same linear maps, Informer's part removed
        for p in linear_only.parameters():
            p.zero_()
        linear_only.linear_skip.load_state_dict(model.linear_skip.state_dict())
    inputs = _inputs(3.0, 10.0)
    torch.testing.assert_close(_forecast(model.eval(), inputs), _forecast(linear_only, inputs), rtol=1e-5, atol=1e-4)
    out = model.train()(*inputs, generator=torch.Generator().manual_seed(3))
    out.square().mean().backward()
    assert model.skip_gate.grad is not None and model.skip_gate.grad.abs() > 0
    assert all(p.grad is None or p.grad.abs().max() == 0 for n, p in model.named_parameters()
               if n.startswith("encoder."))  # nothing reaches the attention layers while the gate is 0


def test_linear_skip_keeps_revin_level_free():
    model = _model(norm="revin", skip="linear", moving_avg=9)
    scale, shift = torch.tensor([3.0, 0.5, 10.0]), torch.tensor([100.0, -20.0, 5000.0])
    moved = _forecast(model, _inputs(scale, shift))
    torch.testing.assert_close(moved, _forecast(model, _inputs()) * scale + shift, rtol=1e-4, atol=1e-2)


def test_the_skip_moving_average_is_capped_at_the_input_length():
    capped = _model(skip="linear", moving_avg=30)  # seq_len 24: the preset's 25 must not fail here
    assert capped.linear_skip.settings["moving_avg"] == 24 and capped.settings["moving_avg"] == 30
    assert torch.isfinite(_forecast(capped, _inputs())).all()


def test_options_beyond_the_published_model_stay_out_of_published_settings():
    assert not {"norm", "norm_affine", "channel_independent", "skip", "moving_avg", "patch_len"} & set(
        _model().settings)
    assert _model().linear_skip is None
    assert "moving_avg" not in _model(moving_avg=7).settings  # nothing reads it without the skip
    settings = _model(skip="linear", moving_avg=7).settings
    assert settings["skip"] == "linear" and settings["moving_avg"] == 7
    assert Informer(**settings).linear_skip is not None
    settings = _model(norm="revin", channel_independent=True).settings
    assert settings["norm"] == "revin" and settings["channel_independent"] is True
    rebuilt = Informer(**settings)
    assert rebuilt.revin is not None and rebuilt.channel_independent


def test_patches_hold_whole_steps_in_order():
    from informer.model.informer import _patches

    x = torch.arange(2 * 12 * 3).reshape(2, 12, 3)
    tokens = _patches(x, 4)  # (2, 3, 12)
    assert tokens.shape == (2, 3, 12)
    torch.testing.assert_close(tokens[1, 2], x[1, 8:12].reshape(-1))  # steps 8-11, all channels


@pytest.mark.parametrize("channel_independent", [False, True])
def test_patched_forecast_steps_come_from_their_own_token_slots(channel_independent):
    model = _model(patch_len=3, channel_independent=channel_independent)
    inputs = _inputs()
    base = _forecast(model, inputs)
    assert base.shape == (4, 6, 3)
    width = 1 if channel_independent else 3  # values per step in a token
    with torch.no_grad():  # move the output slots of the second step within each token only
        model.projection.bias[1 * width:2 * width] += 1.0
    moved = _forecast(model, inputs)
    changed = (moved - base).abs().amax(dim=(0, 2)) > 0.5  # per forecast step
    assert changed.tolist() == [False, True, False, False, True, False]


def test_patched_model_trains_and_its_run_reloads(tmp_path):
    import numpy as np
    import pandas as pd

    from informer.config import RunConfig
    from informer.run import load_run, train

    n = 400
    t = np.arange(n)
    frame = pd.DataFrame({"date": pd.date_range("2021-01-01", periods=n, freq="h"),
                          "a": np.sin(t / 5), "b": np.cos(t / 7) + 0.01 * t})
    frame.to_csv(tmp_path / "d.csv", index=False)
    config = RunConfig.from_dict({
        "preset": "modern",
        "data": {"data": str(tmp_path / "d.csv"), "seq_len": 24, "label_len": 12, "pred_len": 8},
        "model": {"d_model": 16, "n_heads": 2, "d_ff": 16, "patch_len": 4, "skip": "gated", "moving_avg": 5},
        "train": {"epochs": 1, "batch_size": 16},
    })
    run = train(config, out=tmp_path / "run")
    again = load_run(tmp_path / "run")
    assert again.evaluate()["mse"] == pytest.approx(run.evaluate()["mse"], rel=1e-6)
    assert len(again.forecast()) == 8


@pytest.mark.parametrize("channel_independent", [False, True])
def test_lengths_that_are_not_whole_patches_are_padded(channel_independent):
    # seq 24, label 12, pred 6 with patches of 5: 24 -> 25 (1 in front), 12 -> 15, 6 -> 10 (4 behind)
    model = _model(patch_len=5, channel_independent=channel_independent)
    inputs = _inputs()
    out = _forecast(model, inputs)
    assert out.shape == (4, 6, 3) and torch.isfinite(out).all()
    x, x_mark, x_dec, y_mark = inputs  # by hand: the same padding, then a model whose lengths are whole patches
    padded = _model(patch_len=5, channel_independent=channel_independent)
    padded._settings.update(seq_len=25, label_len=15, pred_len=10)
    front = lambda t, n: torch.cat([t[:, :1].expand(-1, n, -1), t], 1)  # noqa: E731
    back = lambda t, n: torch.cat([t, t[:, -1:].expand(-1, n, -1)], 1)  # noqa: E731
    by_hand = _forecast(padded, (front(x, 1), front(x_mark, 1),
                                 torch.cat([front(x_dec[:, :12], 3), back(x_dec[:, 12:], 4)], 1),
                                 torch.cat([front(y_mark[:, :12], 3), back(y_mark[:, 12:], 4)], 1)))
    torch.testing.assert_close(out, by_hand[:, :6])


def test_bad_options_are_refused():
    with pytest.raises(ConfigError, match="norm must be one of none, revin, last"):
        ModelConfig(norm="batch")
    with pytest.raises(ConfigError, match="skip must be one of none, linear, gated, linear-raw, gated-raw"):
        ModelConfig(skip="dlinear")
    with pytest.raises(ConfigError, match="needs model.norm"):
        ModelConfig(norm_affine=True)
    with pytest.raises(ConfigError, match="c_out"):
        build_model(ModelConfig(channel_independent=True), c_out=4, **SHAPES)


def test_moving_avg_is_reported_ignored_without_the_skip():
    from informer.model.forecaster import ignored_settings

    assert ignored_settings(ModelConfig(moving_avg=7)) == ["moving_avg"]
    assert ignored_settings(ModelConfig(moving_avg=7, skip="linear")) == []
