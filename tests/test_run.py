"""End to end: train -> run directory -> evaluate -> forecast, on tiny synthetic data."""

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

import informer
from helpers import synthetic_frame
from informer.cli import main
from informer.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from informer.errors import ConfigError, DataError
from informer.run import RunDirectoryError, load_run

TINY_MODEL = ModelConfig(d_model=16, n_heads=2, e_layers=2, d_layers=1, d_ff=32, dropout=0.0)


def tiny_config(path, *, freq="h", features="M", epochs=2, **data):
    data = {"seq_len": 24, "label_len": 12, "pred_len": 6, **data}
    return RunConfig(
        data=DataConfig(data=path, features=features, **data),
        model=TINY_MODEL,
        train=TrainConfig(epochs=epochs, batch_size=16, lr=1e-3, device="cpu"),
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    csv = folder / "meters.csv"
    synthetic_frame(400, 3, freq="h").to_csv(csv, index=False)
    run = informer.train(tiny_config(str(csv)), out=folder / "run")
    return run, folder


def test_run_directory_has_every_file(trained):
    run, folder = trained
    names = {p.name for p in (folder / "run").iterdir()}
    assert {"config.json", "model.safetensors", "scaler.json", "history.csv", "metrics.json", "train.log"} <= names
    metrics = json.loads((folder / "run" / "metrics.json").read_text())
    for key in ("mse", "mae", "rmse", "mape", "mspe"):
        assert math.isfinite(metrics[key]) and math.isfinite(metrics["original_units"][key])
    assert set(metrics["windows"]) == {"train", "val", "test"} and metrics["epochs"] == 2
    history = pd.read_csv(folder / "run" / "history.csv")
    assert list(history.columns) == ["epoch", "train_loss", "val_loss", "test_loss", "lr", "seconds"]
    assert len(history) == 2
    assert "epoch 2/2" in (folder / "run" / "train.log").read_text()
    assert not list((folder / "run").glob(".*tmp"))


def test_evaluate_reproduces_training_metrics(trained):
    run, folder = trained
    loaded = load_run(folder / "run")
    again = loaded.evaluate("test")
    for key in ("mse", "mae", "rmse", "mape", "mspe"):
        assert again[key] == pytest.approx(run.metrics[key], rel=1e-6)
    assert again["windows"] == run.metrics["windows"]["test"]


def test_saved_run_predicts_exactly_what_the_live_model_did(trained):
    run, folder = trained
    loaded = load_run(folder / "run")
    live = run.forecast()
    again = loaded.forecast()
    pd.testing.assert_frame_equal(live, again)
    for (name, a), b in zip(run.model.state_dict().items(), loaded.model.state_dict().values()):
        assert torch.equal(a.cpu(), b), name


def test_forecast_continues_the_timestamps_in_original_units(trained):
    run, folder = trained
    frame = run.forecast()
    data = pd.read_csv(folder / "meters.csv", parse_dates=["date"])
    expected = pd.date_range(data["date"].iloc[-1], periods=7, freq="h")[1:]
    assert list(frame["date"]) == list(expected)
    assert list(frame.columns) == ["date", "a", "b", "c"]
    # original units: column c lives around 20, a around 0 (scaled values would all be near 0)
    assert abs(frame["c"].mean() - data["c"].mean()) < 5 * data["c"].std()
    assert frame["c"].mean() > 10


def test_forecast_at_an_earlier_point(trained):
    run, folder = trained
    data = pd.read_csv(folder / "meters.csv", parse_dates=["date"])
    at = data["date"].iloc[300]
    frame = run.forecast(at=str(at))
    assert frame["date"].iloc[0] == data["date"].iloc[301] and len(frame) == 6
    with pytest.raises(DataError, match="no row at"):
        run.forecast(at="1999-01-01 00:30")
    with pytest.raises(DataError, match="needs 24 rows"):
        run.forecast(at=str(data["date"].iloc[5]))


def test_forecast_is_repeatable(trained):
    run, _ = trained
    pd.testing.assert_frame_equal(run.forecast(), run.forecast())


def test_same_seed_gives_identical_metrics(tmp_path):
    csv = tmp_path / "s.csv"
    synthetic_frame(300, 2).to_csv(csv, index=False)
    config = tiny_config(str(csv), epochs=1)
    first = informer.train(config).metrics
    second = informer.train(config).metrics
    assert first["mse"] == second["mse"] and first["mae"] == second["mae"]


def test_activation_checkpointing_trains_to_the_same_metrics(tmp_path):
    csv = tmp_path / "s.csv"
    synthetic_frame(300, 2).to_csv(csv, index=False)
    config = tiny_config(str(csv), epochs=2)
    plain = informer.train(config).metrics
    run = informer.train(replace(config, train=replace(config.train, checkpoint_activations=True)))
    assert any(getattr(module, "checkpoint_activations", False) for module in run.model.modules())
    recomputing = run.metrics
    for key in ("mse", "mae"):
        assert recomputing[key] == pytest.approx(plain[key], rel=1e-5)


@pytest.mark.parametrize("freq,features", [("15min", "MS"), ("D", "S")])
def test_other_frequencies_and_feature_modes(tmp_path, freq, features):
    csv = tmp_path / "other.csv"
    frame = synthetic_frame(260, 4, freq=freq)
    frame.to_csv(csv, index=False)
    run = informer.train(tiny_config(str(csv), features=features, epochs=1, target="b"), out=tmp_path / "run")
    forecast = load_run(tmp_path / "run").forecast()
    assert list(forecast.columns) == ["date", "b"]
    step = pd.tseries.frequencies.to_offset(freq)
    assert forecast["date"].iloc[0] == frame["date"].iloc[-1] + step
    assert run.metrics["windows"]["test"] == len(frame) - int(0.7 * 260) - (260 - int(0.7 * 260) - int(0.2 * 260)) - 6 + 1


def test_itr_reports_mean_and_std(tmp_path):
    csv = tmp_path / "s.csv"
    synthetic_frame(300, 2).to_csv(csv, index=False)
    config = tiny_config(str(csv), epochs=1)
    config = RunConfig(data=config.data, model=config.model, train=TrainConfig(epochs=1, batch_size=16, itr=2))
    metrics = informer.train(config).metrics
    assert [r["seed"] for r in metrics["runs"]] == [2021, 2022]
    assert metrics["mean"]["mse"] == pytest.approx(np.mean([r["mse"] for r in metrics["runs"]]))
    assert metrics["mse"] == metrics["runs"][0]["mse"]


def test_cli_train_evaluate_forecast(tmp_path, capsys):
    csv = tmp_path / "m.csv"
    synthetic_frame(300, 2, freq="h").to_csv(csv, index=False)
    run_dir = tmp_path / "cli-run"
    common = ["--data", str(csv), "--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--d-model", "16",
              "--n-heads", "2", "--d-ff", "32", "--epochs", "1", "--batch-size", "16", "--no-progress"]
    assert main(["train", *common, "--out", str(run_dir), "--set", "model.dropout=0.0"]) == 0
    assert json.loads((run_dir / "config.json").read_text())["config"]["model"]["dropout"] == 0.0
    trained = json.loads((run_dir / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["mse"] == pytest.approx(trained["mse"], rel=1e-6)
    out = tmp_path / "f.csv"
    assert main(["forecast", str(run_dir), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 6
    # an existing run directory is refused before any work
    assert main(["train", *common, "--out", str(run_dir)]) == 2


def test_bad_settings_leave_no_run_directory(tmp_path):
    csv = tmp_path / "m.csv"
    synthetic_frame(60, 2).to_csv(csv, index=False)
    with pytest.raises(DataError):
        informer.train(tiny_config(str(csv), seq_len=48, label_len=12), out=tmp_path / "never")
    assert not (tmp_path / "never").exists()
    with pytest.raises(ConfigError):
        RunConfig.from_dict({"model": {"d_model": 15, "n_heads": 2}})


def test_damaged_run_directories_are_named(trained, tmp_path):
    _, folder = trained
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(folder / "run", broken)
    (broken / "model.safetensors").write_bytes((broken / "model.safetensors").read_bytes()[:100])
    with pytest.raises(RunDirectoryError, match="model.safetensors"):
        load_run(broken)
    (broken / "config.json").write_text("{not json")
    with pytest.raises(RunDirectoryError, match="config.json"):
        load_run(broken)
    with pytest.raises(RunDirectoryError, match="not a run directory"):
        load_run(tmp_path / "absent")


def test_training_leaves_the_logger_as_it_found_it(tmp_path):
    """train.log gets the epochs, but the caller's logging settings are theirs."""
    import logging

    csv = tmp_path / "m.csv"
    synthetic_frame(200, 2).to_csv(csv, index=False)
    logger = logging.getLogger("informer")
    before_level, before_handlers = logger.level, list(logger.handlers)
    logger.setLevel(logging.ERROR)
    try:
        config = RunConfig.for_model("linear", data=DataConfig(data=str(csv), seq_len=24, label_len=12, pred_len=6),
                                     moving_avg=5)
        informer.train(replace(config, train=replace(config.train, epochs=1, device="cpu")), out=tmp_path / "run")
        assert logger.level == logging.ERROR and logger.handlers == before_handlers
        assert "epoch 1/1" in (tmp_path / "run" / "train.log").read_text()
    finally:
        logger.setLevel(before_level)


def test_devices_are_named_as_settings():
    from informer.run import resolve_device

    assert resolve_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="`device=cuda`.*`device=cpu`"):
            resolve_device("cuda")


def test_a_busy_machine_is_reported_when_training_starts(monkeypatch, caplog):
    import informer.run as run_module

    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    monkeypatch.setattr(run_module.os, "getloadavg", lambda: (8.0, 8.0, 8.0))
    monkeypatch.setattr(run_module, "_runnable_elsewhere", lambda: 3)
    with caplog.at_level("WARNING", logger="informer"):
        run_module._warn_if_busy(torch.device("cpu"))
    assert "the machine is busy" in caplog.text and "`threads=1`" in caplog.text
    caplog.clear()
    monkeypatch.setattr(run_module, "_runnable_elsewhere", lambda: 0)  # the load average lags behind
    with caplog.at_level("WARNING", logger="informer"):
        run_module._warn_if_busy(torch.device("cpu"))
    assert not caplog.text


def test_runs_that_recorded_a_frequency_the_timestamps_lack_still_forecast(tmp_path):
    """Runs made before a declared freq had to agree (--freq h on 15-minute data) keep working:
    their frequency picks the time features, the timestamps' own step the future dates."""
    import dataclasses

    csv = tmp_path / "m.csv"
    synthetic_frame(400, 2, freq="15min").to_csv(csv, index=False)
    config = RunConfig.for_model("linear", data=DataConfig(data=str(csv), seq_len=24, label_len=12, pred_len=6,
                                                           time_freq="h"), moving_avg=5)
    run = informer.train(replace(config, train=replace(config.train, epochs=1, device="cpu")))
    as_recorded_before = dataclasses.replace(run, freq="h",
                                             config=replace(run.config, data=replace(run.config.data, time_freq=None)))
    frame = as_recorded_before.forecast()
    assert (frame["date"].diff().dropna() == pd.Timedelta(minutes=15)).all()
    pd.testing.assert_frame_equal(frame, run.forecast())
    assert as_recorded_before.evaluate()["mse"] == pytest.approx(run.metrics["mse"], rel=1e-6)


def test_configure_applies_the_commands_process_settings():
    import torch

    import informer

    before = torch.get_num_threads()
    try:
        applied = informer.configure(threads=1)
        assert applied["threads"] == 1 == torch.get_num_threads()
        assert applied["allocator"] in ("reuse", "lean", "heap", "system")
    finally:
        torch.set_num_threads(before)
