"""informer train, evaluate and forecast through main(), on a tiny synthetic series."""

import json
import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest

import informer
from helpers import synthetic_frame
from informer.cli import main
from informer.cli.runs import _saved_checkpointing
from informer.config import DataConfig, ModelConfig, RunConfig, TrainConfig

TINY = ["--d-model", "16", "--n-heads", "2", "--d-ff", "32", "--e-layers", "1", "--d-layers", "1", "--seq-len", "24",
        "--label-len", "12", "--pred-len", "6", "--epochs", "1", "--batch-size", "16", "--device", "cpu",
        "--no-progress"]


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "meters.csv"
    synthetic_frame(300, 2, freq="h").to_csv(path, index=False)
    return path


def round_trip(run_dir, capsys, trained):
    """Evaluate and forecast a run directory; the metrics must match what training reported."""
    capsys.readouterr()
    assert main(["evaluate", str(run_dir), "--json", "--device", "cpu"]) == 0
    assert json.loads(capsys.readouterr().out)["mse"] == pytest.approx(trained["mse"], rel=1e-6)
    assert main(["evaluate", str(run_dir), "--split", "val"]) == 0
    assert "val split of" in capsys.readouterr().out
    out = run_dir.parent / f"{run_dir.name}-forecast.csv"
    assert main(["forecast", str(run_dir), "--out", str(out)]) == 0
    assert "wrote 6 steps" in capsys.readouterr().out
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["date", "a", "b"] and len(frame) == 6
    assert main(["forecast", str(run_dir), "--out", "-"]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out)), frame)


def test_informer_train_evaluate_forecast(series, tmp_path, capsys):
    run_dir = tmp_path / "informer"
    assert main(["train", "--data", str(series), *TINY, "--out", str(run_dir), "--set", "model.dropout=0.0"]) == 0
    out = capsys.readouterr().out
    assert f"run directory: {run_dir}" in out and "(epochs 1, best 1," in out
    saved = json.loads((run_dir / "config.json").read_text())["config"]
    assert saved["model"]["kind"] == "informer" and saved["model"]["dropout"] == 0.0
    round_trip(run_dir, capsys, json.loads((run_dir / "metrics.json").read_text()))


def test_linear_with_the_published_spellings(series, tmp_path, capsys):
    run_dir = tmp_path / "linear"
    published = ["--seq_len", "24", "--label_len=12", "--pred_len", "6", "--train_epochs", "1", "--batch_size", "16",
                 "--moving_avg", "5"]
    assert main(["train", "--data", str(series), "--model", "linear", *published, "--device", "cpu",
                 "--no-progress", "--out", str(run_dir)]) == 0
    saved = json.loads((run_dir / "config.json").read_text())["config"]
    assert saved["model"]["kind"] == "linear" and saved["model"]["moving_avg"] == 5
    assert saved["train"]["lr"] == 0.005 and saved["train"]["epochs"] == 1  # DLinear's lr, the flag's epochs
    round_trip(run_dir, capsys, json.loads((run_dir / "metrics.json").read_text()))


def test_repeat_does_not_train(series, tmp_path, capsys):
    run_dir = tmp_path / "repeat"
    assert main(["train", "--data", str(series), "--model", "repeat", *TINY, "--out", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "(no training: repeat baseline)" in out and "epochs 0" not in out
    round_trip(run_dir, capsys, json.loads((run_dir / "metrics.json").read_text()))
    assert main(["forecast", str(run_dir), "--at", "2018-13-01", "--out", "-"]) == 2
    assert "error: --at '2018-13-01' is not a timestamp" in capsys.readouterr().err
    # an existing run directory is refused before any work
    assert main(["train", "--data", str(series), "--model", "repeat", *TINY, "--out", str(run_dir)]) == 2


@pytest.mark.parametrize("flag,spelled", [(["--model", "linear"], "--model"), (["--epochs", "2"], "--epochs"),
                                          (["--set", "train.lr=1"], "--set"), (["--out", "x"], "--out")])
def test_resume_refuses_new_settings(flag, spelled, tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path), *flag]) == 2
    assert capsys.readouterr().err.strip().endswith(f"drop {spelled}")


def test_python_dash_m_informer_is_the_command():
    result = subprocess.run([sys.executable, "-m", "informer", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("informer ")


def test_resume_reads_the_saved_memory_choice(series, tmp_path):
    config = RunConfig(
        data=DataConfig(data=str(series), seq_len=24, label_len=12, pred_len=6),
        model=ModelConfig(d_model=16, n_heads=2, e_layers=1, d_layers=1, d_ff=32),
        train=TrainConfig(epochs=1, batch_size=16, device="cpu"),
    )
    informer.train(config, out=tmp_path / "plain")
    informer.train(replace(config, train=replace(config.train, checkpoint_activations=True)), out=tmp_path / "lean")
    assert _saved_checkpointing(tmp_path / "lean") is True
    assert _saved_checkpointing(tmp_path / "plain") is False
    assert _saved_checkpointing(tmp_path / "missing") is False  # resume() reports that directory
