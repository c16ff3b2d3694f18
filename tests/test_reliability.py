"""Reliability: resume after SIGKILL, NaN guard, a catalogue of malformed inputs, loader fuzzing."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import informer
import informer.training.loop as loop
from helpers import interrupted_run, synthetic_frame
from informer.cli import main
from informer.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from informer.data.loading import load_series
from informer.errors import InformerError, NonFiniteLossError
from informer.run import load_run

TINY = ["--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--d-model", "16", "--n-heads", "2",
        "--d-ff", "32", "--batch-size", "16", "--no-progress"]


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "informer.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=600)


def test_a_run_killed_after_an_epoch_resumes_to_the_same_metrics(tmp_path):
    synthetic_frame(3000, 3).to_csv(tmp_path / "d.csv", index=False)
    args = ["train", "--data", "d.csv", *TINY, "--epochs", "3", "--patience", "5"]
    whole = cli(*args, "--out", "whole", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "informer.cli", *args, "--out", "killed"], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    state = tmp_path / "killed" / "resume.safetensors"
    deadline = time.monotonic() + 300
    while not state.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (tmp_path / "killed" / "metrics.json").exists()

    resumed = cli("train", "--resume", "killed", "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    expected = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    got = json.loads((tmp_path / "killed" / "metrics.json").read_text())
    for key in ("mse", "mae", "rmse", "mape", "mspe", "epochs", "best_epoch"):
        assert got[key] == expected[key], key
    assert not state.exists()  # removed once the run is complete
    history = pd.read_csv(tmp_path / "killed" / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3]


def test_resume_refuses_new_settings_and_finished_runs(tmp_path):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    assert cli("train", "--data", "d.csv", *TINY, "--epochs", "1", "--out", "run", cwd=tmp_path).returncode == 0
    again = cli("train", "--resume", "run", cwd=tmp_path)
    assert again.returncode == 2 and "no resume state" in again.stderr and "Traceback" not in again.stderr
    mixed = cli("train", "--resume", "run", "--epochs", "4", cwd=tmp_path)
    assert mixed.returncode == 2 and "--epochs" in mixed.stderr


def test_nan_loss_keeps_the_best_epoch_and_a_consistent_run_directory(tmp_path, monkeypatch):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    config = RunConfig(
        data=DataConfig(data=str(tmp_path / "d.csv"), seq_len=24, label_len=12, pred_len=6),
        model=ModelConfig(d_model=16, n_heads=2, d_ff=32),
        train=TrainConfig(epochs=3, batch_size=16),
    )
    real_step, calls = loop.train_step, {"n": 0}

    def step_that_diverges_in_epoch_two(*args, **kwargs):
        calls["n"] += 1
        value = real_step(*args, **kwargs)
        return math.nan if calls["n"] > steps_per_epoch else value

    steps_per_epoch = (int(300 * 0.7) - 24 - 6 + 1) // 16
    monkeypatch.setattr(loop, "train_step", step_that_diverges_in_epoch_two)
    with pytest.raises(NonFiniteLossError, match="epoch 2, step 1"):
        informer.train(config, out=tmp_path / "run")
    run = load_run(tmp_path / "run")  # loads: the directory is whole
    assert run.metrics["best_epoch"] == 1 and "epoch 2" in run.metrics["stopped"]
    assert not (tmp_path / "run" / "resume.safetensors").exists()
    assert run.evaluate()["mse"] == pytest.approx(run.metrics["mse"], rel=1e-9)


def test_nan_in_the_first_epoch_exits_3_and_leaves_nothing(tmp_path):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    result = cli("train", "--data", "d.csv", *TINY, "--epochs", "2", "--lr", "1e30", "--out", "run", cwd=tmp_path)
    assert result.returncode == 3
    assert "epoch 1" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


# --- the catalogue: every malformed input gives exit code 2, one line, no traceback, no files ----

HEAD = "date,a,b\n"
LINES = [f"2021-01-{1 + h // 24:02d} {h % 24:02d}:00,{h % 7},{h % 5}\n" for h in range(200)]
ROWS = "".join(LINES)


def csv_case(text: str | bytes):
    return {"file": text}


CATALOGUE = {
    # CSV content
    "empty file": (csv_case(""), "empty"),
    "header only": (csv_case(HEAD), "no data rows"),
    "whitespace-separated": (csv_case(ROWS.replace(",", " ").replace("date a b", "")), "date column"),
    "no date column": (csv_case("time,a\n" + "1,2\n" * 50), "no date column"),
    "mixed date formats": (csv_case(HEAD + "".join(LINES[:30]) + "01/03/2021 09:00,1,2\n" + "".join(LINES[30:])),
                           "cannot parse"),
    "time-zone-aware dates": (csv_case(HEAD + ROWS.replace(":00,", ":00+02:00,")), "time zone"),
    "duplicate timestamps": (csv_case(HEAD + ROWS + ROWS.splitlines(True)[-1]), "duplicate timestamp"),
    "decreasing timestamps": (csv_case(HEAD + "".join(reversed(ROWS.splitlines(True)))), "earlier"),
    "duplicate column names": (csv_case("date,a,a\n" + ROWS), "more than once"),
    "all-NaN column": (csv_case(HEAD + ROWS.replace(",0\n", ",\n").replace(",1\n", ",\n").replace(",2\n", ",\n")
                                .replace(",3\n", ",\n").replace(",4\n", ",\n")), "missing"),
    "strings in a numeric column": (csv_case(HEAD + ROWS.replace(",3,", ",three,", 1)), "'three'"),
    "NaN cells": (csv_case(HEAD + ROWS.replace(",3,", ",,", 1)), "--fill"),
    "infinite values": (csv_case(HEAD + ROWS.replace(",3,", ",inf,", 1)), "infinite"),
    "huge values": (csv_case(HEAD + ROWS.replace(",3,", ",1e308,").replace(",4,", ",-1e308,")), "too large"),
    "too few rows": (csv_case(HEAD + "".join(LINES[:20])), "too"),
    "binary, not a CSV": (csv_case(b"\x00\x01\x02\xff\xfe" * 20), "binary"),
    # flags
    "seq_len 0": ({"args": ["--seq-len", "0"]}, "positive integer"),
    "negative horizon": ({"args": ["--pred-len", "-5"]}, "positive integer"),
    "label_len longer than seq_len": ({"args": ["--label-len", "200"]}, "must not exceed"),
    "unknown feature mode": ({"args": ["--features", "X"]}, "invalid choice"),
    "unknown attention": ({"args": ["--attn", "sparse"]}, "invalid choice"),
    "unknown target": ({"args": ["--target", "zzz"]}, "unknown target"),
    "unknown column": ({"args": ["--cols", "a,zzz"]}, "unknown column"),
    "unknown frequency": ({"args": ["--freq", "fortnight"]}, "unknown frequency"),
    "d_model not divisible by heads": ({"args": ["--d-model", "15"]}, "divisible"),
    "missing data file": ({"args": ["--data", "absent.csv"]}, "no such file"),
    "unknown split": ({"args": ["--split", "thirds"]}, "unknown split"),
    # config files
    "config key that does not exist": ({"toml": "[train]\nlrr = 0.1\n"}, "unknown key 'lrr'"),
    "config section that does not exist": ({"toml": "[optimizer]\nlr = 0.1\n"}, "unknown section"),
    "config value of the wrong type": ({"toml": "[model]\nfactor = 'big'\n"}, "must be int"),
    "invalid TOML": ({"toml": "[train\nepochs = 3\n"}, "invalid TOML"),
    "bad --set": ({"args": ["--set", "train.epochs"]}, "section.key=value"),
}


def _prepare(tmp_path: Path, case: dict) -> list[str]:
    args = ["train", "--data", "d.csv", *TINY, "--epochs", "1", "--out", "run"]
    if "file" in case:
        content = case["file"]
        path = tmp_path / "d.csv"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    else:
        synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    if "toml" in case:
        (tmp_path / "settings.toml").write_text(case["toml"])
        args += ["--config", "settings.toml"]
    return args + case.get("args", [])


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_malformed_input_catalogue(name, tmp_path, capsys, monkeypatch):
    case, words = CATALOGUE[name]
    args = _prepare(tmp_path, case)
    monkeypatch.chdir(tmp_path)
    before = {p.name for p in tmp_path.iterdir()}
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse
        code = exit_.code
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert words in err, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert {p.name for p in tmp_path.iterdir()} == before  # nothing half-written


RUN_DIRECTORY_DAMAGE = {
    "missing model file": lambda run: (run / "model.safetensors").unlink(),
    "missing config": lambda run: (run / "config.json").unlink(),
    "truncated weights": lambda run: (run / "model.safetensors").write_bytes((run / "model.safetensors").read_bytes()[:64]),
    "edited config": lambda run: (run / "config.json").write_text(
        (run / "config.json").read_text().replace('"d_model": 16', '"d_model": 32')),
    "edited attention in config": lambda run: (run / "config.json").write_text(
        (run / "config.json").read_text().replace('"attn": "prob"', '"attn": "full"')),
    "config not JSON": lambda run: (run / "config.json").write_text("{"),
    "scaler with wrong columns": lambda run: (run / "scaler.json").write_text(
        json.dumps({"columns": ["x"], "mean": [0.0], "std": [1.0]})),
}


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("catalogue")
    synthetic_frame(300, 2).to_csv(folder / "d.csv", index=False)
    config = RunConfig(data=DataConfig(data=str(folder / "d.csv"), seq_len=24, label_len=12, pred_len=6),
                       model=ModelConfig(d_model=16, n_heads=2, d_ff=32), train=TrainConfig(epochs=1, batch_size=16))
    informer.train(config, out=folder / "run")
    return folder


@pytest.mark.parametrize("damage", sorted(RUN_DIRECTORY_DAMAGE))
@pytest.mark.parametrize("command", ["evaluate", "forecast"])
def test_damaged_run_directories(damage, command, trained_run, tmp_path, capsys, monkeypatch):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(trained_run / "run", run)
    RUN_DIRECTORY_DAMAGE[damage](run)
    monkeypatch.chdir(tmp_path)
    code = main([command, str(run), *(["--out", "f.csv"] if command == "forecast" else [])])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "run" in err, err
    assert not (tmp_path / "f.csv").exists()


def test_a_subprocess_never_prints_a_traceback(tmp_path):
    (tmp_path / "d.csv").write_text("date,a\n2021-01-01,1\n2021-01-01,2\n")
    result = cli("train", "--data", "d.csv", "--out", "run", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and not (tmp_path / "run").exists()


# --- fuzzing the loader --------------------------------------------------------------------

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**6, 10**6).map(str),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "abc", "1e400", " 3 ", "TRUE", "1,5", '"q"']),
)
dates = st.one_of(
    st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
                 max_value=pd.Timestamp("2030-01-01").to_pydatetime()).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.sampled_from(["", "yesterday", "2021-13-01", "01/02/2021", "2021-01-01T00:00:00+01:00", "0"]),
)


@st.composite
def csv_texts(draw):
    columns = draw(st.integers(0, 4))
    header = ["date"] + [draw(st.sampled_from(["a", "b", "c", "OT", "date", ""])) for _ in range(columns)]
    rows = draw(st.integers(0, 12))
    regular = draw(st.booleans())
    start = pd.Timestamp("2021-01-01")
    lines = [",".join(header)]
    for i in range(rows):
        stamp = str(start + pd.Timedelta(hours=i)) if regular else draw(dates)
        lines.append(",".join([stamp] + [draw(cells) for _ in range(columns)]))
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=csv_texts(), fill=st.sampled_from([None, "ffill", "interpolate"]), features=st.sampled_from(["M", "S"]))
def test_loader_fuzz(tmp_path_factory, text, fill, features):
    path = tmp_path_factory.getbasetemp() / "fuzz.csv"
    path.write_text(text)
    try:
        series = load_series(DataConfig(data=str(path), fill=fill, features=features))
    except InformerError as error:
        assert "\n" not in str(error)
        return
    assert np.isfinite(series.values).all()
    assert series.values.shape == (len(series.dates), len(series.columns))
    assert series.dates.is_monotonic_increasing and series.dates.is_unique


def test_top_level_toml_keys_are_refused(tmp_path, capsys, monkeypatch):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "s.toml").write_text('epochs = 10\n')
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", "d.csv", "--config", "s.toml", "--seq-len", "48"]) == 2
    assert "belongs in a section" in capsys.readouterr().err


def test_out_below_a_file_and_at_with_a_time_zone(trained_run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").write_text("not a directory")
    assert main(["train", "--data", str(trained_run / "d.csv"), *TINY, "--out", "runs/x"]) == 2
    assert "is a file" in capsys.readouterr().err
    code = main(["forecast", str(trained_run / "run"), "--at", "2021-01-05T00:00+00:00", "--out", "f.csv"])
    assert code == 2 and "time zone" in capsys.readouterr().err
    assert not (tmp_path / "f.csv").exists()


def test_an_interrupted_run_keeps_its_resume_state(tmp_path):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    config = RunConfig(
        data=DataConfig(data=str(tmp_path / "d.csv"), seq_len=24, label_len=12, pred_len=6),
        model=ModelConfig(d_model=16, n_heads=2, d_ff=32),
        train=TrainConfig(epochs=2, batch_size=16, patience=5),
    )
    expected = informer.train(config).metrics
    steps_per_epoch = (int(300 * 0.7) - 24 - 6 + 1) // 16
    interrupted_run(config, tmp_path / "run", steps=steps_per_epoch)  # stopped in epoch two
    assert (tmp_path / "run" / "resume.safetensors").exists()
    resumed = informer.run.resume(tmp_path / "run")
    assert resumed.metrics["mse"] == expected["mse"]


def test_a_run_killed_before_its_first_epoch_says_so_and_starts_again(tmp_path):
    """Issue 13, finding 6: SIGKILL before the first epoch ends leaves config.json and train.log."""
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    assert cli("train", "--data", "d.csv", *TINY, "--epochs", "1", "--out", "run", cwd=tmp_path).returncode == 0
    for name in ("model.safetensors", "scaler.json", "metrics.json", "history.csv"):
        (tmp_path / "run" / name).unlink()
    forecast = cli("forecast", "run", "--out", "f.csv", cwd=tmp_path)
    assert forecast.returncode == 2 and "training never finished an epoch" in forecast.stderr
    assert "informer train --resume run" in forecast.stderr and not (tmp_path / "f.csv").exists()
    again = cli("train", "--resume", "run", "--no-progress", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert cli("forecast", "run", "--out", "f.csv", cwd=tmp_path).returncode == 0
