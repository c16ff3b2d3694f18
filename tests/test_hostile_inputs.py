"""Small hostile inputs to `informer forecast` and the loader: each is one line, exit code 2, and
nothing written."""

from __future__ import annotations

import pytest

from helpers import refused, synthetic_frame
from informer.cli import main
from informer.config import DataConfig
from informer.data.loading import load_series
from informer.errors import DataError

SIZES = ["--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--device", "cpu", "--no-progress"]


@pytest.fixture(scope="module")
def hourly_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    synthetic_frame(120, 2, freq="h").to_csv(folder / "hourly.csv", index=False)
    assert main(["train", "--data", str(folder / "hourly.csv"), "--model", "repeat", *SIZES,
                 "--out", str(folder / "run")]) == 0
    return folder



@pytest.mark.parametrize("name", ["model.safetensors", "config.json", "scaler.json", "metrics.json", "history.csv",
                                  "train.log", "report.html", "plots/window.png", "./sub/../config.json"])
def test_forecast_never_writes_over_the_runs_own_files(hourly_run, capsys, name):
    run_dir = hourly_run / "run"
    before = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()}
    err = refused(["forecast", str(run_dir), "--out", str(run_dir / name)], capsys)
    assert "--out" in err and "the run's own" in err
    assert {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()} == before
    assert main(["evaluate", str(run_dir)]) == 0  # still a whole run


def test_forecast_may_write_forecast_csv_into_the_run(hourly_run, capsys):
    run_dir = hourly_run / "run"
    assert main(["forecast", str(run_dir), "--out", str(run_dir / "forecast.csv")]) == 0
    assert (run_dir / "forecast.csv").read_text().startswith("date,a,b\n")
    (run_dir / "forecast.csv").unlink()


def test_an_error_never_echoes_the_first_line_of_a_file_that_is_not_a_csv(hourly_run, tmp_path, capsys):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:hunter2-SECRET:/root:/bin/bash\ndaemon:x:1:1::/:\n")
    err = refused(["forecast", str(hourly_run / "run"), "--data", str(secret), "--out", str(tmp_path / "f.csv")],
                  capsys)
    assert str(secret) in err and "SECRET" not in err and "no ',', ';', tab or '|'" in err
    assert not (tmp_path / "f.csv").exists()


def test_long_names_are_shortened_in_messages(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("id," + ",".join("x" * 300 + str(i) for i in range(20)) + "\nt0," + ",".join("1" * 20) + "\n")
    with pytest.raises(DataError) as error:
        load_series(DataConfig(data=str(path)))
    message = str(error.value)
    assert "`date_col=" in message and len(message) < 800 and "x" * 61 not in message


def test_forecast_refuses_data_at_another_frequency(hourly_run, tmp_path, capsys):
    quarter_hours = tmp_path / "quarter.csv"
    synthetic_frame(120, 2, freq="15min").to_csv(quarter_hours, index=False)
    out = tmp_path / "f.csv"
    err = refused(["forecast", str(hourly_run / "run"), "--data", str(quarter_hours), "--out", str(out)], capsys)
    assert "quarter.csv: its timestamps step by 15min, but the run was trained on h data" in err
    assert "resample it to h" in err and not out.exists()
    # data at the run's own frequency still forecasts, dated hourly
    assert main(["forecast", str(hourly_run / "run"), "--data", str(hourly_run / "hourly.csv"), "--out",
                 str(out)]) == 0
    assert out.read_text().splitlines()[1].startswith("2021-01-06 00:00:00,")


def test_a_data_file_that_is_a_named_pipe_is_refused_without_waiting(tmp_path, capsys):
    import os
    import threading

    from informer.cli import main

    os.mkfifo(tmp_path / "pipe.csv")
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("code", main(
        ["train", "--data", str(tmp_path / "pipe.csv"), "--model", "repeat", "--seq-len", "24", "--label-len",
         "12", "--pred-len", "6"])), daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # unblock the reader before failing, so the suite does not hang
        with open(tmp_path / "pipe.csv", "w"):
            pass
        worker.join(5)
    assert result.get("code") == 2
    assert "not a regular file" in capsys.readouterr().err


def test_evaluate_refuses_data_at_another_frequency(hourly_run, tmp_path, capsys):
    quarter_hours = tmp_path / "quarter.csv"
    synthetic_frame(600, 2, freq="15min").to_csv(quarter_hours, index=False)
    err = refused(["evaluate", str(hourly_run / "run"), "--data", str(quarter_hours)], capsys)
    assert "quarter.csv: its timestamps step by 15min, but the run was trained on h data" in err
    assert "metrics would measure windows of another length in time" in err
    assert main(["evaluate", str(hourly_run / "run"), "--data", str(hourly_run / "hourly.csv")]) == 0


def test_a_data_file_larger_than_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    import informer.data.loading as loading

    path = tmp_path / "big.csv"
    synthetic_frame(50, 2).to_csv(path, index=False)
    monkeypatch.setattr(loading, "DATA_LIMIT", 100)  # bytes: the real limit is 4 GiB
    with pytest.raises(DataError, match="more than the 0 MiB a data file may have"):
        load_series(DataConfig(data=str(path)))
