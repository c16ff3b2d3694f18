"""The learned cycle (``--cycle P``, CycleNet's residual cycle forecasting): positions, model, run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from informer.config import ModelConfig, RunConfig
from informer.data.timefeatures import cycle_phase, natural_cycle, time_marks
from informer.errors import ConfigError
from informer.model.baselines import Linear
from informer.model.informer import Informer, build_model
from informer.run import load_run, train

SHAPES = dict(enc_in=3, dec_in=3, seq_len=24, label_len=12, pred_len=6, freq="h")


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
    with pytest.raises(ConfigError, match="--cycle"):
        cycle_phase(dates, "SMS", 2)


def test_the_cycle_is_one_more_time_feature_column():
    dates = pd.date_range("2021-01-01", periods=30, freq="h")
    plain = time_marks(dates, "h", "timeF")
    with_cycle = time_marks(dates, "h", "timeF", cycle=24, freq="h")
    np.testing.assert_array_equal(with_cycle[:, :-1], plain)
    np.testing.assert_array_equal(with_cycle[:, -1], dates.hour)
    assert time_marks(dates, "h", "fixed", cycle=24, freq="h").shape == (30, 6)


@pytest.mark.parametrize(("freq", "cycle"), [("h", 24), ("15min", 96), ("10min", 144), ("2h", 12), ("min", 1440),
                                              ("s", 0), ("7h", 0), ("D", 7), ("B", 5), ("W-SUN", 0), ("MS", 12),
                                              ("ME", 12), ("QS-JAN", 4), ("YS-JAN", 0)])
def test_auto_picks_the_natural_cycle_of_the_frequency(freq, cycle):
    assert natural_cycle(freq) == cycle


# --- the model -----------------------------------------------------------------------------------

def _inputs(batch: int = 4, start: int = 5):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(batch, 24, 3, generator=g)
    x_dec = torch.cat([x[:, -12:], torch.zeros(batch, 6, 3)], dim=1)
    marks_enc, marks_dec = torch.randn(batch, 24, 4, generator=g), torch.randn(batch, 18, 4, generator=g)
    steps = start + torch.arange(batch)[:, None] * 7 + torch.arange(30)  # each window at another position
    return x, marks_enc, x_dec, marks_dec, steps[:, :24], steps[:, 12:]


def _with_phase(marks: torch.Tensor, steps: torch.Tensor, period: int) -> torch.Tensor:
    return torch.cat([marks, (steps % period).float()[..., None]], dim=-1)


def _forecast(model, *inputs):
    with torch.no_grad():
        return model(*inputs, generator=torch.Generator().manual_seed(3))


def _informer(**options) -> Informer:
    torch.manual_seed(0)
    options = {"d_model": 16, "n_heads": 2, "d_ff": 32, "norm": "revin", "channel_independent": True,
               "patch_len": 4, "skip": "linear-raw", **options}
    return build_model(ModelConfig(**options), c_out=3, **SHAPES).eval()


def test_an_untrained_cycle_changes_nothing():
    x, marks_enc, x_dec, marks_dec, steps_enc, steps_dec = _inputs()
    plain, cyclic = _informer(), _informer(cycle=24)
    torch.testing.assert_close(_forecast(cyclic, x, _with_phase(marks_enc, steps_enc, 24), x_dec,
                                         _with_phase(marks_dec, steps_dec, 24)),
                               _forecast(plain, x, marks_enc, x_dec, marks_dec))


@pytest.mark.parametrize("c_out", [3, 1])
def test_the_cycle_comes_out_of_the_input_and_back_into_the_forecast(c_out):
    """A window that is another's plus the learned pattern at its steps gets that window's
    forecast plus the pattern at the forecast's steps (for S/MS, of the target)."""
    x, marks_enc, x_dec, marks_dec, steps_enc, steps_dec = _inputs()
    torch.manual_seed(0)
    config = dict(d_model=16, n_heads=2, d_ff=32, norm="revin", skip="linear-raw")
    plain = build_model(ModelConfig(**config), c_out=c_out, **SHAPES).eval()
    torch.manual_seed(0)
    cyclic = build_model(ModelConfig(**config, cycle=10), c_out=c_out, **SHAPES).eval()
    pattern = torch.randn(10, 3, generator=torch.Generator().manual_seed(7)) * 3
    with torch.no_grad():
        cyclic.cycle.pattern.copy_(pattern)
    label = 12
    moved = x + pattern[steps_enc % 10]
    moved_dec = torch.cat([x_dec[:, :label] + pattern[steps_dec[:, :label] % 10], x_dec[:, label:]], dim=1)
    got = _forecast(cyclic, moved, _with_phase(marks_enc, steps_enc, 10), moved_dec,
                    _with_phase(marks_dec, steps_dec, 10))
    want = _forecast(plain, x, marks_enc, x_dec, marks_dec) + pattern[steps_dec[:, label:] % 10][..., -c_out:]
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)


def test_linear_with_a_cycle_forecasts_the_pattern_where_its_maps_give_nothing():
    x, marks_enc, x_dec, marks_dec, steps_enc, steps_dec = _inputs()
    model = Linear(enc_in=3, c_out=1, seq_len=24, pred_len=6, label_len=12, moving_avg=5, cycle=10)
    pattern = torch.arange(10.0)[:, None]
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.cycle.pattern.copy_(pattern)
    out = _forecast(model, x, _with_phase(marks_enc, steps_enc, 10), x_dec, _with_phase(marks_dec, steps_dec, 10))
    torch.testing.assert_close(out, pattern[steps_dec[:, 12:] % 10])


def test_the_cycle_is_a_saved_setting_and_the_published_settings_stay_as_they_were():
    model = _informer(cycle=24)
    assert model.settings["cycle"] == 24
    assert Informer(**model.settings).cycle.pattern.shape == (24, 3)
    assert "cycle" not in _informer().settings
    assert "cycle" not in Linear(enc_in=3, c_out=3, seq_len=24, pred_len=6, moving_avg=5).settings
    assert Linear(enc_in=3, c_out=3, seq_len=24, pred_len=6, moving_avg=5, cycle=12).settings["cycle"] == 12
    assert model.input_shapes(2)["x_mark_enc"] == (2, 24, 5)  # four hourly features and the position


@pytest.mark.parametrize("cycle", [-1, "weekly", 2.5, True])
def test_a_cycle_that_is_no_length_is_a_config_error(cycle):
    with pytest.raises(ConfigError, match="model.cycle"):
        ModelConfig(cycle=cycle)


def _with_pattern(model: Informer, period: int) -> Informer:
    with torch.no_grad():
        model.cycle.pattern.copy_(torch.randn(period, 3, generator=torch.Generator().manual_seed(7)) * 3)
    return model


@pytest.mark.parametrize("skip", ["none", "linear"])
def test_with_cycle_norm_the_forecast_follows_the_window_s_level_and_scale(skip):
    """Inside RevIN (CycleNet's order) the pattern is in units of each window's spread: a window
    scaled and shifted gets the forecast scaled and shifted, whatever the pattern. In the data's
    units (the default) a pattern's amplitude is the same for every window, so it does not."""
    x, marks_enc, x_dec, marks_dec, steps_enc, steps_dec = _inputs()
    marks = (_with_phase(marks_enc, steps_enc, 10), _with_phase(marks_dec, steps_dec, 10))
    scale, shift = 4.0, -2.5

    def moved(model):
        return _forecast(model, x * scale + shift, marks[0], torch.cat([x_dec[:, :12] * scale + shift,
                                                                        x_dec[:, 12:]], 1), marks[1])

    inside = _with_pattern(_informer(cycle=10, cycle_norm=True, skip=skip), 10)
    torch.testing.assert_close(moved(inside), _forecast(inside, x, marks[0], x_dec, marks[1]) * scale + shift,
                               rtol=1e-3, atol=1e-3)
    outside = _with_pattern(_informer(cycle=10, skip=skip), 10)
    assert not torch.allclose(moved(outside), _forecast(outside, x, marks[0], x_dec, marks[1]) * scale + shift,
                              rtol=1e-2, atol=1e-2)


def test_an_untrained_cycle_inside_revin_changes_nothing_and_is_a_saved_setting():
    x, marks_enc, x_dec, marks_dec, steps_enc, steps_dec = _inputs()
    plain, inside = _informer(), _informer(cycle=24, cycle_norm=True)
    torch.testing.assert_close(_forecast(inside, x, _with_phase(marks_enc, steps_enc, 24), x_dec,
                                         _with_phase(marks_dec, steps_dec, 24)),
                               _forecast(plain, x, marks_enc, x_dec, marks_dec))
    assert inside.settings["cycle_norm"] is True
    assert Informer(**inside.settings).settings == inside.settings
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
    assert {id(p) for p in linear["params"]} == linear_ids
    assert len(network["params"]) + len(linear["params"]) == len(list(model.parameters()))
    assert len(make_optimizer(model, lr=1e-3).param_groups) == 1


def _skip_run(tmp_path, name, **train_options):
    path = _square_wave_csv(tmp_path / "meters.csv")
    config = RunConfig.from_dict({
        # the published preset (no linear_lr of its own) with the modern preset's skip and norm
        "data": {"data": path, "features": "S", "seq_len": 12, "label_len": 6, "pred_len": 6},
        "model": {"d_model": 16, "n_heads": 2, "d_ff": 32, "e_layers": 1, "d_layers": 1, "cycle": 24,
                  "norm": "revin", "skip": "linear-raw"},
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
