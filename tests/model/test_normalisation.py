"""RevIN, channel independence, the linear skip and patches (issue 15): what they guarantee, checked
on the composed model and on the parts themselves."""

from __future__ import annotations

import pytest
import torch

from informer.batches import Batch
from informer.config import ModelConfig
from informer.errors import ConfigError
from informer.model.compose import Composed, build_forecaster, rebuild_forecaster
from informer.model.informer import Informer
from informer.model.parts.channels import ChannelIndependence, one_channel_each
from informer.model.parts.normalisation import Affine, InstanceNorm
from informer.model.parts.patches import Patches, pad_back, pad_front, tokens
from informer.model.parts.skip import LinearSkip

SHAPES = dict(enc_in=3, seq_len=24, label_len=12, pred_len=6, freq="h")


def _model(c_out: int = 3, **options):
    torch.manual_seed(0)
    model = build_forecaster(ModelConfig(d_model=16, n_heads=2, d_ff=32, **options), c_out=c_out, **SHAPES)
    return model.eval()


def _inputs(scale: torch.Tensor | float = 1.0, shift: torch.Tensor | float = 0.0, batch: int = 4) -> Batch:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 24, 3, generator=g) * scale + shift
    x_dec = torch.cat([x[:, -12:], torch.zeros(batch, 6, 3)], dim=1)
    marks = torch.randn(batch, 24, 4, generator=g), torch.randn(batch, 18, 4, generator=g)
    return Batch(x, marks[0], x_dec, marks[1])


def _forecast(model, inputs: Batch):
    with torch.no_grad():
        return model(inputs, generator=torch.Generator().manual_seed(3))


def _learned_affine(affine: Affine) -> Affine:
    """Learned values, not the identity they start from."""
    with torch.no_grad():
        affine.weight.copy_(torch.tensor([0.5, 2.0, -1.5]))
        affine.bias.copy_(torch.tensor([1.0, -2.0, 0.3]))
    return affine


@pytest.mark.parametrize("affine", [False, True])
def test_revin_round_trip(affine):
    """InstanceNorm (and Affine) on the way in, then back on the way out: a forecast that is the
    window's own values comes out as the window (for all channels, or the last ones alone)."""
    norm = InstanceNorm(label_len=4)
    parts = [norm, *([_learned_affine(Affine(3, label_len=4))] if affine else [])]
    x = torch.randn(5, 20, 3) * torch.tensor([1.0, 50.0, 0.01]) + torch.tensor([0.0, 1e4, -3.0])
    batch = Batch(x, torch.zeros(5, 20, 4), torch.cat([x[:, -4:], torch.zeros(5, 6, 3)], 1), torch.zeros(5, 10, 4))
    inner, states = batch, []
    for part in parts:
        inner, state = part.encode(inner)
        states.append(state)
    y = inner.x_enc
    if not affine:  # (the third channel's variance is near eps, which keeps a flat window finite)
        torch.testing.assert_close(y[..., :2].mean(1), torch.zeros(5, 2), atol=1e-4, rtol=0)
        torch.testing.assert_close(y[..., :2].std(1, unbiased=False), torch.ones(5, 2), atol=1e-3, rtol=0)
    # the known decoder steps are normalised with the window; the placeholders stay zeros
    torch.testing.assert_close(inner.x_dec[:, :4], y[:, -4:])
    assert torch.equal(inner.x_dec[:, 4:], torch.zeros(5, 6, 3))

    def decoded(out):
        for part, state in zip(reversed(parts), reversed(states)):
            out = part.decode(out, state)
        return out

    torch.testing.assert_close(decoded(y), x, rtol=1e-5, atol=1e-3)
    # the last channels alone, as for a target-only output
    torch.testing.assert_close(decoded(y[..., -1:]), x[..., -1:], rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("last", [False, True])
def test_the_normalising_parts_say_how_the_window_relates_to_the_data(affine, last):
    """What a part inside them (the raw linear skip) relies on: ``data = x_enc * scale + loc``."""
    x = torch.randn(2, 24, 3) * 5 + 40
    batch = Batch(x, torch.zeros(2, 24, 4), torch.cat([x[:, -12:], torch.zeros(2, 6, 3)], 1), torch.zeros(2, 18, 4))
    assert batch.loc is None and batch.scale is None  # in the data's units
    inner, _ = InstanceNorm(label_len=12, last=last).encode(batch)
    if affine:
        inner, _ = _learned_affine(Affine(3, label_len=12)).encode(inner)
    assert inner.loc.shape == inner.scale.shape == (2, 1, 3)
    torch.testing.assert_close(inner.x_enc * inner.scale + inner.loc, x, rtol=1e-5, atol=1e-3)
    # alone, Affine does not invent a relation to the data's units
    alone, _ = Affine(3, label_len=12).encode(batch)
    assert alone.loc is None and alone.scale is None


def test_norm_last_takes_the_last_value_as_the_level_and_does_not_scale():
    x = torch.randn(2, 24, 3) * 5 + 40
    mean, std = InstanceNorm(label_len=12, last=True).statistics(x)
    assert torch.equal(mean, x[:, -1:]) and torch.equal(std, torch.ones(2, 1, 3))
    assert not mean.requires_grad  # statistics are data, not something to learn through


@pytest.mark.parametrize("affine", [False, True])
def test_with_revin_a_window_moved_and_stretched_gives_the_forecast_moved_and_stretched(affine):
    model = _model(norm="revin", norm_affine=affine)
    assert isinstance(model.norm, InstanceNorm) and isinstance(getattr(model, "revin", None), Affine) == affine
    if affine:
        _learned_affine(model.revin)
    scale, shift = torch.tensor([3.0, 0.5, 10.0]), torch.tensor([100.0, -20.0, 5000.0])
    base = _forecast(model, _inputs())
    moved = _forecast(model, _inputs(scale, shift))
    torch.testing.assert_close(moved, base * scale + shift, rtol=1e-4, atol=1e-2)


def test_with_norm_last_a_moved_window_gives_the_forecast_moved_and_it_starts_from_the_last_value():
    model = _model(norm="last", skip="normalised", moving_avg=5)
    shift = torch.tensor([100.0, -20.0, 5000.0])
    base = _forecast(model, _inputs())
    torch.testing.assert_close(_forecast(model, _inputs(1.0, shift)), base + shift, rtol=1e-4, atol=1e-2)
    stretched = _forecast(model, _inputs(3.0))  # no scaling: a stretched window is not a stretched forecast
    assert (stretched - 3.0 * base).abs().max() > 1e-2
    x = _inputs().x_enc
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    torch.testing.assert_close(_forecast(model, _inputs()), x[:, -1:].expand(-1, 6, -1))  # zero model: last value


def test_without_revin_the_published_model_is_not_level_free():
    model = _model()
    assert type(model) is Informer
    base = _forecast(model, _inputs())
    moved = _forecast(model, _inputs(1.0, 100.0))
    assert (moved - (base + 100.0)).abs().max() > 1.0


def test_channel_independent_channels_do_not_mix():
    model = _model(channel_independent=True)
    inputs = _inputs()
    x = inputs.x_enc.clone()
    x[..., 0] += 5.0
    changed = inputs.replace(x_enc=x, x_dec=torch.cat([x[:, -12:], torch.zeros(4, 6, 3)], dim=1))
    base, other = _forecast(model, inputs), _forecast(model, changed)
    torch.testing.assert_close(other[..., 1:], base[..., 1:])
    assert (other[..., 0] - base[..., 0]).abs().max() > 1e-3


def test_channel_independent_shares_weights_across_channels():
    model = _model(channel_independent=True)
    inputs = _inputs()
    order = [2, 0, 1]
    base = _forecast(model, inputs)
    permuted = _forecast(model, inputs.replace(x_enc=inputs.x_enc[..., order], x_dec=inputs.x_dec[..., order]))
    torch.testing.assert_close(permuted, base[..., order])


def test_channel_independent_target_only_output_is_the_last_channel():
    full = _forecast(_model(channel_independent=True), _inputs())
    target = _forecast(_model(c_out=1, channel_independent=True), _inputs())
    torch.testing.assert_close(target, full[..., -1:])


@pytest.mark.parametrize("channel_independent", [False, True])
def test_linear_skip_adds_a_dlinear_forecast_of_the_normalised_window(channel_independent):
    plain = _model(norm="revin", channel_independent=channel_independent)
    skipped = _model(norm="revin", channel_independent=channel_independent, skip="normalised", moving_avg=5)
    # built after everything else: the attention layers start from the same weights as without it
    for name, weight in plain.state_dict().items():
        torch.testing.assert_close(skipped.state_dict()[name], weight)
    inputs = _inputs(3.0, 10.0)
    x = inputs.x_enc
    mean, std = plain.norm.statistics(x)
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
    skipped = _model(norm=norm, channel_independent=True, skip="raw", moving_avg=5)
    for name, weight in plain.state_dict().items():  # the same attention layers as without the skip
        torch.testing.assert_close(skipped.state_dict()[name], weight)
    inputs = _inputs(3.0, 10.0)
    with torch.no_grad():
        dlinear = skipped.linear_skip.encode(inputs)[1]  # on the window before norm: it carries the level
    level = 0.0
    if norm != "none":
        level = plain.norm.statistics(inputs.x_enc)[0]  # the mean (revin) or the last value (last)
    # Informer's part keeps the window's scale but not its level; the linear forecast brings that
    expected = _forecast(plain, inputs) - level + dlinear
    torch.testing.assert_close(_forecast(skipped, inputs), expected, rtol=1e-4, atol=1e-3)
    assert (dlinear - _forecast(skipped, inputs)).abs().max() > 1e-3  # Informer's part is not nothing


def test_raw_linear_skip_with_informer_silenced_is_dlinear_and_its_level_is_learned():
    model = _model(norm="revin", skip="raw", moving_avg=5)
    with torch.no_grad():
        model.projection.weight.zero_()
        model.projection.bias.zero_()
    inputs = _inputs(3.0, 10.0)
    with torch.no_grad():
        torch.testing.assert_close(_forecast(model, inputs), model.linear_skip.encode(inputs)[1])
    shifted = _forecast(model, _inputs(3.0, 110.0))  # not level-free: a linear map moves as its weights sum
    assert (shifted - (_forecast(model, inputs) + 100.0)).abs().max() > 1e-2


def test_gated_raw_skip_starts_as_dlinear_of_the_window_as_given_and_learns_the_gate():
    model = _model(norm="revin", skip="raw", skip_gated=True, moving_avg=5)
    inputs = _inputs(3.0, 10.0)
    assert model.linear_skip.gate.item() == 0
    with torch.no_grad():
        torch.testing.assert_close(_forecast(model, inputs), model.linear_skip.encode(inputs)[1])
    out = model.train()(inputs, generator=torch.Generator().manual_seed(3))
    out.square().mean().backward()
    assert model.linear_skip.gate.grad is not None and model.linear_skip.gate.grad.abs() > 0


def test_gated_skip_starts_as_the_linear_forecast_and_learns_the_gate():
    model = _model(norm="revin", skip="normalised", skip_gated=True, moving_avg=5).train()
    linear_only = _model(norm="revin", skip="normalised", moving_avg=5).eval()
    with torch.no_grad():  # the same linear maps, Informer's part removed
        for p in linear_only.parameters():
            p.zero_()
        linear_only.linear_skip.seasonal.load_state_dict(model.linear_skip.seasonal.state_dict())
        linear_only.linear_skip.trend.load_state_dict(model.linear_skip.trend.state_dict())
    inputs = _inputs(3.0, 10.0)
    torch.testing.assert_close(_forecast(model.eval(), inputs), _forecast(linear_only, inputs), rtol=1e-5, atol=1e-4)
    out = model.train()(inputs, generator=torch.Generator().manual_seed(3))
    out.square().mean().backward()
    assert model.linear_skip.gate.grad is not None and model.linear_skip.gate.grad.abs() > 0
    assert all(p.grad is None or p.grad.abs().max() == 0 for n, p in model.named_parameters()
               if n.startswith("encoder."))  # nothing reaches the attention layers while the gate is 0


def test_linear_skip_keeps_revin_level_free():
    model = _model(norm="revin", skip="normalised", moving_avg=9)
    scale, shift = torch.tensor([3.0, 0.5, 10.0]), torch.tensor([100.0, -20.0, 5000.0])
    moved = _forecast(model, _inputs(scale, shift))
    torch.testing.assert_close(moved, _forecast(model, _inputs()) * scale + shift, rtol=1e-4, atol=1e-2)


def test_the_skip_moving_average_is_capped_at_the_input_length():
    capped = _model(skip="normalised", moving_avg=30)  # seq_len 24: the preset's 25 must not fail here
    assert capped.linear_skip.moving_avg == 24 and capped.settings["moving_avg"] == 30
    assert torch.isfinite(_forecast(capped, _inputs())).all()


def test_options_beyond_the_published_model_stay_out_of_published_settings():
    assert not {"norm", "norm_affine", "channel_independent", "skip", "skip_gated", "moving_avg", "patch_len"} & set(
        _model().settings)
    assert type(_model()) is Informer  # no option: nothing around the paper's model
    assert "moving_avg" not in _model(moving_avg=7).settings  # nothing reads it without the skip
    assert type(_model(moving_avg=7)) is Informer
    settings = _model(skip="normalised", moving_avg=7).settings
    assert settings["skip"] == "normalised" and settings["moving_avg"] == 7 and "skip_gated" not in settings
    assert isinstance(rebuild_forecaster("informer", settings).linear_skip, LinearSkip)
    settings = _model(norm="revin", channel_independent=True).settings
    assert settings["norm"] == "revin" and settings["channel_independent"] is True
    rebuilt = rebuild_forecaster("informer", settings)
    assert isinstance(rebuilt, Composed) and [name for name, _ in rebuilt.parts()] == ["norm", "channels"]
    assert isinstance(rebuilt.norm, InstanceNorm) and isinstance(rebuilt.channels, ChannelIndependence)


@pytest.mark.parametrize(
    "old, new",
    [("linear", dict(skip="normalised")), ("gated", dict(skip="normalised", skip_gated=True)),
     ("linear-raw", dict(skip="raw")), ("gated-raw", dict(skip="raw", skip_gated=True))],
)
def test_the_skip_spellings_of_0_7_build_the_same_model(old, new):
    config = ModelConfig(skip=old)
    assert (config.skip, config.skip_gated) == (new["skip"], new.get("skip_gated", False))
    spelled_old, spelled_new = _model(skip=old, moving_avg=5), _model(**new, moving_avg=5)
    assert spelled_old.settings == spelled_new.settings
    assert spelled_old.linear_skip.raw == (new["skip"] == "raw")
    assert (spelled_old.linear_skip.gate is not None) == new.get("skip_gated", False)
    # a run directory of 0.7 saved the old spelling: it rebuilds the same model (its settings kept as saved)
    saved = {**spelled_new.settings, "skip": old}
    saved.pop("skip_gated", None)
    rebuilt = rebuild_forecaster("informer", saved).eval()
    assert rebuilt.settings == saved
    rebuilt.load_state_dict(spelled_new.state_dict(), strict=True)
    if rebuilt.linear_skip.gate is not None:  # a gate that has learned something, so that it counts
        with torch.no_grad():
            rebuilt.linear_skip.gate.fill_(0.5)
            spelled_new.linear_skip.gate.fill_(0.5)
    torch.testing.assert_close(_forecast(rebuilt, _inputs(3.0, 10.0)), _forecast(spelled_new, _inputs(3.0, 10.0)),
                               rtol=0, atol=0)


def test_the_gate_keeps_its_saved_name():
    """Weights saved by 0.5-0.7 hold the gate as ``skip_gate``: saved and loaded under that name."""
    model = _model(norm="revin", norm_affine=True, skip="raw", skip_gated=True, cycle=24, moving_avg=5)
    state = model.state_dict()
    assert "skip_gate" in state and "linear_skip.gate" not in state
    assert {"revin.weight", "revin.bias", "cycle.pattern", "linear_skip.seasonal.weight"} <= set(state)
    state["skip_gate"] = torch.tensor(0.75)
    again = _model(norm="revin", norm_affine=True, skip="raw", skip_gated=True, cycle=24, moving_avg=5)
    again.load_state_dict(state, strict=True)
    assert again.linear_skip.gate.item() == 0.75


def test_patches_hold_whole_steps_in_order():
    x = torch.arange(2 * 12 * 3).reshape(2, 12, 3)
    patched = tokens(x, 4)  # (2, 3, 12)
    assert patched.shape == (2, 3, 12)
    torch.testing.assert_close(patched[1, 2], x[1, 8:12].reshape(-1))  # steps 8-11, all channels


def test_pads_repeat_the_first_step_in_front_and_the_last_behind():
    x = torch.arange(2 * 6 * 1.0).reshape(2, 6, 1)
    assert pad_front(x, 3) is x and pad_back(x, 2) is x  # whole patches: nothing to pad
    torch.testing.assert_close(pad_front(x, 4), torch.cat([x[:, :1], x[:, :1], x], 1))
    torch.testing.assert_close(pad_back(x, 4), torch.cat([x, x[:, -1:], x[:, -1:]], 1))


def test_one_channel_each_puts_a_window_s_channels_side_by_side():
    x = torch.arange(2 * 5 * 3.0).reshape(2, 5, 3)
    each = one_channel_each(x)
    assert each.shape == (6, 5, 1)
    torch.testing.assert_close(each[1 * 3 + 2, :, 0], x[1, :, 2])  # sample b's channel c is sample b * C + c


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
        "model": {"d_model": 16, "n_heads": 2, "d_ff": 16, "patch_len": 4, "skip": "normalised", "skip_gated": True,
                  "moving_avg": 5},
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
    # by hand: the same padding, then a model whose lengths are whole patches (the same Informer inside)
    torch.manual_seed(0)
    padded = build_forecaster(ModelConfig(d_model=16, n_heads=2, d_ff=32, patch_len=5,
                                          channel_independent=channel_independent),
                              enc_in=3, c_out=3, seq_len=25, label_len=15, pred_len=10, freq="h").eval()
    assert padded.core.settings == model.core.settings
    padded.load_state_dict(model.state_dict())
    front = lambda t, n: torch.cat([t[:, :1].expand(-1, n, -1), t], 1)  # noqa: E731
    back = lambda t, n: torch.cat([t, t[:, -1:].expand(-1, n, -1)], 1)  # noqa: E731
    x, x_mark, x_dec, y_mark = inputs.x_enc, inputs.x_mark_enc, inputs.x_dec, inputs.x_mark_dec
    by_hand = _forecast(padded, Batch(front(x, 1), front(x_mark, 1),
                                      torch.cat([front(x_dec[:, :12], 3), back(x_dec[:, 12:], 4)], 1),
                                      torch.cat([front(y_mark[:, :12], 3), back(y_mark[:, 12:], 4)], 1)))
    torch.testing.assert_close(out, by_hand[:, :6])


def test_patches_tell_the_model_inside_its_sizes():
    patches = Patches(5, label_len=12, pred_len=6)
    model = _model(patch_len=5, channel_independent=True)
    assert model.core.settings["seq_len"] == 5 and model.core.settings["label_len"] == 3
    assert model.core.settings["pred_len"] == 2 and model.core.settings["enc_in"] == 5  # one channel, 5 steps
    batch = _inputs()
    inner, _ = patches.encode(batch)
    assert inner.x_enc.shape == (4, 5, 15) and inner.x_dec.shape == (4, 5, 15)  # (B, tokens, P * C)
    assert inner.x_mark_enc.shape == (4, 5, 4)  # each token's time features: its first step's
    assert patches.decode(torch.zeros(4, 2, 15), None).shape == (4, 6, 3)


def test_bad_options_are_refused():
    with pytest.raises(ConfigError, match="norm must be one of none, revin, last"):
        ModelConfig(norm="batch")
    with pytest.raises(ConfigError, match="skip must be one of none, raw, normalised"):
        ModelConfig(skip="dlinear")
    with pytest.raises(ConfigError, match="skip_gated .* needs model.skip"):
        ModelConfig(skip_gated=True)
    with pytest.raises(ConfigError, match="needs model.norm"):
        ModelConfig(norm_affine=True)
    with pytest.raises(ConfigError, match="c_out"):
        build_forecaster(ModelConfig(channel_independent=True), c_out=4, **SHAPES)


@pytest.mark.parametrize("option", [dict(norm="revin"), dict(channel_independent=True)])
def test_options_that_treat_the_decoder_s_channels_as_the_encoder_s_refuse_other_ones(option):
    """Only settings can ask for dec_in != enc_in (the builder never does): refused, not mis-computed."""
    settings = {**_model(**option).settings, "dec_in": 2}
    with pytest.raises(ConfigError, match=r"dec_in \(2\) must equal enc_in \(3\)"):
        rebuild_forecaster("informer", settings)


def test_moving_avg_is_reported_ignored_without_the_skip():
    from informer.model.forecaster import ignored_settings

    assert ignored_settings(ModelConfig(moving_avg=7)) == ["moving_avg"]
    assert ignored_settings(ModelConfig(moving_avg=7, skip="normalised")) == []
