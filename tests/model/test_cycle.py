"""The learned cycle (``model.cycle = P``, CycleNet's residual cycle forecasting): positions, model, run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from informer.batches import Batch, model_batch
from informer.config import ModelConfig, RunConfig
from informer.data.timefeatures import cycle_phase, natural_cycle, time_marks, timef_width
from informer.data.windows import WindowDataset
from informer.errors import ConfigError
from informer.model.baselines import Linear
from informer.model.compose import Composed, build_forecaster, rebuild_forecaster
from informer.model.parts.cycle import Cycle
from informer.run import load_run, train

SHAPES = dict(enc_in=3, seq_len=24, label_len=12, pred_len=6, freq="h")


# --- positions -----------------------------------------------------------------------------------

def test_hourly_data_with_period_24_gives_the_hour_of_the_day():
    dates = pd.date_range("1969-12-30 05:00", periods=100, freq="h")  # before and after the epoch
    np.testing.assert_array_equal(cycle_phase(dates, "h", 24), dates.hour)


@pytest.mark.parametrize(("freq", "period", "step"), [("15min", 96, 15), ("10min", 144, 10)])
def test_minute_data_gives_the_step_of_the_day(freq, period, step):
    dates = pd.date_range("2016-07-01 23:00", periods=300, freq=freq)
    np.testing.assert_array_equal(cycle_phase(dates, freq, period), (dates.hour * 60 + dates.minute) // step)


def test_a_weekly_cycle_of_hourly_data_counts_the_hours_of_the_week():
    dates = pd.date_range("2021-03-01", periods=400, freq="h")  # a Monday
    phase = cycle_phase(dates, "h", 168)
    expected = (dates.day_of_week * 24 + dates.hour - 3 * 24) % 168  # counted from 1970-01-01, a Thursday
    np.testing.assert_array_equal(phase, expected)


@pytest.mark.parametrize("freq", ["MS", "ME"])
def test_monthly_data_with_period_12_gives_the_month(freq):
    dates = pd.date_range("1965-01-01", periods=30, freq=freq)
    np.testing.assert_array_equal(cycle_phase(dates, freq, 12), dates.month - 1)


def test_business_days_with_period_5_give_the_weekday():
    dates = pd.date_range("2020-01-01", periods=40, freq="B")
    phase = cycle_phase(dates, "B", 5)
    assert len(set(zip(phase, dates.day_of_week))) == 5  # one position for each weekday
    np.testing.assert_array_equal(np.diff(phase) % 5, np.ones(39))


def test_daily_and_quarterly_steps_count_days_and_quarters():
    days = pd.date_range("2020-01-01", periods=20, freq="D")
    np.testing.assert_array_equal(cycle_phase(days, "D", 7), (days.day_of_week - 3) % 7)
    quarters = pd.date_range("2000-01-01", periods=12, freq="QS")
    np.testing.assert_array_equal(cycle_phase(quarters, "QS-JAN", 4), (quarters.month - 1) // 3)


def test_a_frequency_without_a_fixed_step_is_refused():
    dates = pd.date_range("2020-01-01", periods=10, freq="SMS")
    with pytest.raises(ConfigError, match="cycle needs a frequency with a fixed step"):
        cycle_phase(dates, "SMS", 2)


def test_the_positions_travel_beside_the_time_features_into_the_batch():
    """Not a time-feature column: the windows carry them as int64 tensors of their own, and the
    batch a model gets names them (``phase_enc``, ``phase_dec``)."""
    dates = pd.date_range("2021-01-01", periods=60, freq="h")
    marks = time_marks(dates, "h", "timeF")
    assert marks.shape == (60, timef_width("h"))
    phase = cycle_phase(dates, "h", 24)
    values = np.random.default_rng(0).normal(size=(60, 2)).astype(np.float32)
    windows = WindowDataset(values, marks, seq_len=24, label_len=12, pred_len=6, phase=phase)
    x, y, x_mark, y_mark, x_phase, y_phase = windows[5]
    assert x_mark.shape == (24, marks.shape[1]) and x_phase.dtype == y_phase.dtype == torch.int64
    np.testing.assert_array_equal(x_phase, dates.hour[5:29])
    np.testing.assert_array_equal(y_phase, dates.hour[17:35])
    stacked = [torch.stack(column) for column in zip(windows[5], windows[6])]
    batch, _ = model_batch(stacked, pred_len=6, device=torch.device("cpu"))
    assert torch.equal(batch.phase_enc, stacked[4]) and torch.equal(batch.phase_dec, stacked[5])
    assert batch.x_mark_enc.shape == (2, 24, marks.shape[1])
    plain, _ = model_batch(stacked[:4], pred_len=6, device=torch.device("cpu"))
    assert plain.phase_enc is None and plain.phase_dec is None


@pytest.mark.parametrize(("freq", "cycle"), [("h", 24), ("15min", 96), ("10min", 144), ("2h", 12), ("min", 1440),
                                              ("s", 0), ("7h", 0), ("D", 7), ("B", 5), ("W-SUN", 0), ("MS", 12),
                                              ("ME", 12), ("QS-JAN", 4), ("YS-JAN", 0)])
def test_auto_picks_the_natural_cycle_of_the_frequency(freq, cycle):
    assert natural_cycle(freq) == cycle


# --- the model -----------------------------------------------------------------------------------

def _inputs(batch: int = 4, start: int = 5, period: int = 24) -> Batch:
    """A batch whose windows start at other positions of a cycle of ``period`` steps."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 24, 3, generator=g)
    x_dec = torch.cat([x[:, -12:], torch.zeros(batch, 6, 3)], dim=1)
    marks_enc, marks_dec = torch.randn(batch, 24, 4, generator=g), torch.randn(batch, 18, 4, generator=g)
    steps = start + torch.arange(batch)[:, None] * 7 + torch.arange(30)  # each window at another position
    return Batch(x, marks_enc, x_dec, marks_dec, phase_enc=steps[:, :24] % period, phase_dec=steps[:, 12:] % period)


def _without_phase(batch: Batch) -> Batch:
    return batch.replace(phase_enc=None, phase_dec=None)


def _forecast(model, batch: Batch):
    with torch.no_grad():
        return model(batch, generator=torch.Generator().manual_seed(3))


def _build(kind: str = "informer", c_out: int = 3, **options):
    torch.manual_seed(0)
    return build_forecaster(ModelConfig(kind=kind, **options), c_out=c_out, **SHAPES).eval()


def _informer(**options) -> Composed:
    options = {"d_model": 16, "n_heads": 2, "d_ff": 32, "norm": "revin", "channel_independent": True,
               "patch_len": 4, "skip": "raw", **options}
    return _build(**options)


def test_an_untrained_cycle_changes_nothing():
    batch = _inputs()
    plain, cyclic = _informer(), _informer(cycle=24)
    torch.testing.assert_close(_forecast(cyclic, batch), _forecast(plain, _without_phase(batch)))


@pytest.mark.parametrize("c_out", [3, 1])
def test_the_cycle_comes_out_of_the_input_and_back_into_the_forecast(c_out):
    """A window that is another's plus the learned pattern at its steps gets that window's
    forecast plus the pattern at the forecast's steps (for S/MS, of the target)."""
    batch = _inputs(period=10)
    config = dict(d_model=16, n_heads=2, d_ff=32, norm="revin", skip="raw")
    plain = _build(c_out=c_out, **config)
    cyclic = _build(c_out=c_out, cycle=10, **config)
    pattern = torch.randn(10, 3, generator=torch.Generator().manual_seed(7)) * 3
    with torch.no_grad():
        cyclic.cycle.pattern.copy_(pattern)
    label = 12
    moved = batch.replace(
        x_enc=batch.x_enc + pattern[batch.phase_enc],
        x_dec=torch.cat([batch.x_dec[:, :label] + pattern[batch.phase_dec[:, :label]], batch.x_dec[:, label:]], 1),
    )
    want = _forecast(plain, _without_phase(batch)) + pattern[batch.phase_dec[:, label:]][..., -c_out:]
    torch.testing.assert_close(_forecast(cyclic, moved), want, rtol=1e-4, atol=1e-4)


def test_the_positions_are_taken_modulo_the_period():
    """Positions count steps of the cycle; a position past its end is read as its remainder."""
    model = _informer(cycle=10)
    with torch.no_grad():
        model.cycle.pattern.copy_(torch.randn(10, 3, generator=torch.Generator().manual_seed(7)))
    batch = _inputs(period=10)
    later = batch.replace(phase_enc=batch.phase_enc + 30, phase_dec=batch.phase_dec + 30)
    torch.testing.assert_close(_forecast(model, later), _forecast(model, batch))


@pytest.mark.parametrize("cycle_norm", [False, True])
def test_a_model_with_a_cycle_refuses_a_batch_without_positions(cycle_norm):
    model = _informer(cycle=24, cycle_norm=cycle_norm)
    batch = _inputs()
    for missing in (_without_phase(batch), batch.replace(phase_dec=None), batch.replace(phase_enc=None)):
        with pytest.raises(ValueError, match="phase"):
            _forecast(model, missing)


def test_a_model_without_a_cycle_refuses_positions_it_would_ignore():
    """The parts around Informer hand the positions on untouched: Informer refuses them."""
    model = _informer()
    assert isinstance(model, Composed) and "cycle" not in dict(model.parts())
    with pytest.raises(ValueError, match="cycle positions"):
        _forecast(model, _inputs())


def test_the_cycle_part_takes_the_positions_out_of_the_batch_and_keeps_the_forecast_s():
    cycle = Cycle(10, 3, label_len=12)
    with torch.no_grad():
        cycle.pattern.copy_(torch.randn(10, 3, generator=torch.Generator().manual_seed(7)))
    batch = _inputs(period=10)
    inner, future = cycle.encode(batch)
    assert inner.phase_enc is None and inner.phase_dec is None  # read here, not passed on
    assert torch.equal(future, batch.phase_dec[:, 12:])
    torch.testing.assert_close(inner.x_enc, batch.x_enc - cycle.pattern[batch.phase_enc])
    torch.testing.assert_close(inner.x_dec[:, :12], batch.x_dec[:, :12] - cycle.pattern[batch.phase_dec[:, :12]])
    assert torch.equal(inner.x_dec[:, 12:], batch.x_dec[:, 12:])  # the placeholders stay zeros
    out = torch.zeros(4, 6, 1)
    torch.testing.assert_close(cycle.decode(out, future), cycle.pattern[future][..., -1:])  # the target's pattern
    assert cycle.linear_parameters() == [cycle.pattern]  # train.linear_lr trains it


@pytest.mark.parametrize("period", [0, -1, 2.5, True])
def test_a_cycle_part_of_no_length_is_a_config_error(period):
    with pytest.raises(ConfigError, match="cycle"):
        Cycle(period, 3, label_len=12)


def test_linear_with_a_cycle_forecasts_the_pattern_where_its_maps_give_nothing():
    batch = _inputs(period=10)
    model = _build("linear", c_out=1, cycle=10, moving_avg=5)
    pattern = torch.arange(10.0)[:, None]
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.cycle.pattern.copy_(pattern)
    torch.testing.assert_close(_forecast(model, batch), pattern[batch.phase_dec[:, 12:]])


def test_the_cycle_is_a_saved_setting_and_the_published_settings_stay_as_they_were():
    model = _informer(cycle=24)
    assert model.settings["cycle"] == 24
    assert rebuild_forecaster("informer", model.settings).cycle.pattern.shape == (24, 3)
    assert "cycle" not in _informer().settings
    plain_linear = _build("linear", moving_avg=5)
    assert type(plain_linear) is Linear and "cycle" not in plain_linear.settings
    cyclic_linear = _build("linear", moving_avg=5, cycle=12)
    assert isinstance(cyclic_linear, Composed) and cyclic_linear.settings["cycle"] == 12
    assert rebuild_forecaster("linear", cyclic_linear.settings).cycle.pattern.shape == (12, 3)
    assert model.input_shapes(2)["x_mark_enc"] == (2, 24, 4)  # four hourly features: no position among them


@pytest.mark.parametrize("cycle", [-1, "weekly", 2.5, True])
def test_a_cycle_that_is_no_length_is_a_config_error(cycle):
    with pytest.raises(ConfigError, match="model.cycle"):
        ModelConfig(cycle=cycle)


def test_an_unresolved_auto_cycle_cannot_be_built():
    with pytest.raises(ConfigError, match="auto"):
        build_forecaster(ModelConfig(cycle="auto"), c_out=3, **SHAPES)


def _with_pattern(model: Composed, period: int) -> Composed:
    with torch.no_grad():
        model.cycle.pattern.copy_(torch.randn(period, 3, generator=torch.Generator().manual_seed(7)) * 3)
    return model


@pytest.mark.parametrize("skip", ["none", "normalised"])
def test_with_cycle_norm_the_forecast_follows_the_window_s_level_and_scale(skip):
    """Inside RevIN (CycleNet's order) the pattern is in units of each window's spread: a window
    scaled and shifted gets the forecast scaled and shifted, whatever the pattern. In the data's
    units (the default) a pattern's amplitude is the same for every window, so it does not."""
    batch = _inputs(period=10)
    scale, shift = 4.0, -2.5

    def moved(model):
        return _forecast(model, batch.replace(
            x_enc=batch.x_enc * scale + shift,
            x_dec=torch.cat([batch.x_dec[:, :12] * scale + shift, batch.x_dec[:, 12:]], 1)))

    inside = _with_pattern(_informer(cycle=10, cycle_norm=True, skip=skip), 10)
    assert [name for name, _ in inside.parts()][:2] == ["norm", "cycle"]
    torch.testing.assert_close(moved(inside), _forecast(inside, batch) * scale + shift, rtol=1e-3, atol=1e-3)
    outside = _with_pattern(_informer(cycle=10, skip=skip), 10)
    assert [name for name, _ in outside.parts()][:2] == ["cycle", "norm"]
    assert not torch.allclose(moved(outside), _forecast(outside, batch) * scale + shift, rtol=1e-2, atol=1e-2)


def test_an_untrained_cycle_inside_revin_changes_nothing_and_is_a_saved_setting():
    batch = _inputs()
    plain, inside = _informer(), _informer(cycle=24, cycle_norm=True)
    torch.testing.assert_close(_forecast(inside, batch), _forecast(plain, _without_phase(batch)))
    assert inside.settings["cycle_norm"] is True
    assert rebuild_forecaster("informer", inside.settings).settings == inside.settings
    assert "cycle_norm" not in _informer(cycle=24).settings


@pytest.mark.parametrize("options", [{"cycle": 24, "norm": "none"}, {"cycle": 24, "norm": "last"}, {"norm": "revin"}])
def test_cycle_norm_without_revin_or_a_cycle_is_a_config_error(options):
    with pytest.raises(ConfigError, match="cycle_norm"):
        ModelConfig(cycle_norm=True, **options)


# --- a run ---------------------------------------------------------------------------------------

def _square_wave_csv(path) -> str:
    n = 600
    t = np.arange(n)
    daily = np.where((t % 24 >= 8) & (t % 24 < 18), 10.0, 0.0)  # working hours
    noise = np.random.default_rng(0).normal(0, 0.3, n)
    pd.DataFrame({"date": pd.date_range("2022-03-01", periods=n, freq="h"), "load": daily + noise}).to_csv(path,
                                                                                                       index=False)
    return str(path)


def _train(path: str, out, kind: str, cycle: int):
    model = {"kind": kind, "cycle": cycle, "moving_avg": 5}
    if kind == "informer":
        model |= {"d_model": 16, "n_heads": 2, "d_ff": 32, "e_layers": 1, "d_layers": 1}
    config = RunConfig.from_dict({
        "preset": "modern" if kind == "informer" else "published",
        "data": {"data": path, "features": "S", "seq_len": 12, "label_len": 6, "pred_len": 24},
        "model": model, "train": {"epochs": 8, "batch_size": 16, "lr": 0.01, "linear_lr": 0.01},
    })
    return train(config, out=out)


@pytest.mark.parametrize("kind", ["linear", "informer"])
def test_a_run_with_a_cycle_learns_it_and_forecasts_from_its_directory(tmp_path, kind):
    """Twelve steps of input show little of a 24-step square wave; the learned cycle holds it."""
    path = _square_wave_csv(tmp_path / "meters.csv")
    plain = _train(path, tmp_path / "plain", kind, 0)
    run = _train(path, tmp_path / "run", kind, 24)
    assert run.model.cycle.pattern.abs().max() > 0.3  # it learned a pattern (scaled units), not its zeros
    assert run.metrics["mse"] < 0.5 * plain.metrics["mse"]  # measured: 0.019 vs 0.133 (linear), 0.015 vs 0.063
    reloaded = load_run(tmp_path / "run")
    forecast = reloaded.forecast()
    pd.testing.assert_frame_equal(forecast, run.forecast())
    hours = pd.DatetimeIndex(forecast["date"]).hour
    working = forecast["load"].to_numpy()[(hours >= 9) & (hours < 17)]
    resting = forecast["load"].to_numpy()[(hours < 7) | (hours >= 19)]
    assert working.mean() - resting.mean() > 6  # the future's working hours are where the data has them
    assert reloaded.evaluate()["mse"] == pytest.approx(run.metrics["mse"], rel=1e-5)


def test_auto_resolves_to_the_data_s_cycle_and_the_run_records_it(tmp_path):
    path = _square_wave_csv(tmp_path / "meters.csv")
    config = RunConfig.from_dict({
        "data": {"data": path, "features": "S", "seq_len": 12, "label_len": 6, "pred_len": 6},
        "model": {"kind": "linear", "cycle": "auto", "moving_avg": 5}, "train": {"epochs": 1},
    })
    run = train(config, out=tmp_path / "run")
    assert run.config.model.cycle == 24
    assert load_run(tmp_path / "run").config.model.cycle == 24
    assert run.model.cycle.pattern.shape == (24, 1)


# --- the linear parts' learning rate -----------------------------------------------------------

def test_linear_lr_gives_the_skip_and_the_cycle_their_own_learning_rate():
    from informer.training.loop import make_optimizer

    model = _informer(cycle=24)
    optimizer = make_optimizer(model, lr=1e-3, linear_lr=5e-3)
    network, linear = optimizer.param_groups
    assert network["lr"] == pytest.approx(1e-3) and linear["lr"] == pytest.approx(5e-3)
    linear_ids = {id(p) for p in [*model.linear_skip.parameters(), *model.cycle.parameters()]}
    assert {id(p) for p in model.linear_parameters()} == linear_ids
    assert {id(p) for p in linear["params"]} == linear_ids
    assert len(network["params"]) + len(linear["params"]) == len(list(model.parameters()))
    assert len(make_optimizer(model, lr=1e-3).param_groups) == 1


def _skip_run(tmp_path, name, **train_options):
    path = _square_wave_csv(tmp_path / "meters.csv")
    config = RunConfig.from_dict({
        # the published preset (no linear_lr of its own) with the modern preset's skip and norm
        "data": {"data": path, "features": "S", "seq_len": 12, "label_len": 6, "pred_len": 6},
        "model": {"d_model": 16, "n_heads": 2, "d_ff": 32, "e_layers": 1, "d_layers": 1, "cycle": 24,
                  "norm": "revin", "skip": "raw"},
        "train": {"epochs": 3, "batch_size": 16, "lr": 1e-3, **train_options},
    })
    return train(config, out=tmp_path / name)


def test_a_linear_lr_equal_to_lr_changes_nothing_and_another_changes_only_through_training(tmp_path):
    plain = _skip_run(tmp_path, "plain")
    same = _skip_run(tmp_path, "same", linear_lr=1e-3)  # the run's lr
    faster = _skip_run(tmp_path, "faster", linear_lr=1e-2)
    assert same.metrics["mse"] == pytest.approx(plain.metrics["mse"], rel=1e-6)
    assert faster.metrics["mse"] != pytest.approx(plain.metrics["mse"], rel=1e-3)
    assert load_run(tmp_path / "faster").config.train.linear_lr == pytest.approx(1e-2)
    # the cycle moved further with the larger rate
    moved = {name: run.model.cycle.pattern.abs().mean().item() for name, run in (("plain", plain), ("faster", faster))}
    assert moved["faster"] > moved["plain"]
