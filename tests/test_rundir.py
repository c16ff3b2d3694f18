"""informer.rundir: the run directory format, the atomic writer and the config.json reader."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from informer import rundir
from informer.config import ModelConfig, RunConfig
from informer.errors import ConfigError
from informer.rundir import RunDirectoryError, RunInfo

FIXTURE = Path(__file__).parent / "fixtures" / "run_v0_1"


def test_atomic_write_replaces_whole_files_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "out.txt"
    rundir.write_text(target, "old")

    def half_then_fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("interrupted")

    with pytest.raises(RunDirectoryError, match=r"out.txt: cannot write \(interrupted\)"):
        rundir.atomic_write(target, half_then_fail)  # any writer's error becomes the one-line error
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]

    def half_then_stopped(tmp: Path) -> None:
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # a stop is not an error of the file: it goes through
        rundir.atomic_write(target, half_then_stopped)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_names_the_file_it_cannot_write(tmp_path):
    with pytest.raises(RunDirectoryError, match=r"missing[/\\]out.json: cannot write"):
        rundir.write_json(tmp_path / "missing" / "out.json", {})
    rundir.write_json(tmp_path / "made" / "out.json", {"a": 1}, make_parents=True)
    assert json.loads((tmp_path / "made" / "out.json").read_text()) == {"a": 1}
    with pytest.raises(RunDirectoryError, match="is a directory"):
        rundir.write_text(tmp_path / "made", "x")


def test_json_has_no_nan(tmp_path):
    rundir.write_json(tmp_path / "m.json", {"mse": math.nan, "runs": [{"x": math.inf}, 1.5]})
    assert json.loads((tmp_path / "m.json").read_text()) == {"mse": None, "runs": [{"x": None}, 1.5]}


def test_read_json_names_missing_and_broken_files(tmp_path):
    with pytest.raises(RunDirectoryError, match="missing; is .* a run directory"):
        rundir.read_json(tmp_path / "config.json")
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(RunDirectoryError, match="config.json: unreadable or not valid JSON"):
        rundir.read_json(tmp_path / "config.json")


def test_config_round_trip_and_digest(tmp_path):
    config = RunConfig.from_dict({"model": {"kind": "linear"}})
    info = RunInfo(config, {"enc_in": 2, "c_out": 2}, ("a", "b"), "b", "h")
    rundir.write_config(tmp_path, info)
    again = rundir.read_config(tmp_path)
    assert again == info and again.kind == "linear" and again.digest() == info.digest()
    informer_info = RunInfo(RunConfig(), info.settings, info.columns, info.target, info.freq)
    assert informer_info.digest() != info.digest()  # the kind decides what the weights compute


def test_informer_digest_is_unchanged_from_0_1_0():
    """Runs written before model kinds stored this digest with their weights."""
    from safetensors import safe_open

    with safe_open(str(FIXTURE / "model.safetensors"), framework="pt") as handle:
        stored = handle.metadata()["settings_sha256"]
    assert rundir.read_config(FIXTURE).digest() == stored


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda info: info.pop("data"), "incomplete"),
        (lambda info: info["config"]["model"].update(kind="prophet"), "model.kind must be one of"),
        (lambda info: info["config"]["train"].update(learning_rate=1), "unknown key 'learning_rate'"),
    ],
)
def test_damaged_config_json_is_named(tmp_path, edit, message):
    shutil.copytree(FIXTURE, tmp_path / "run")
    info = json.loads((tmp_path / "run" / "config.json").read_text())
    edit(info)
    (tmp_path / "run" / "config.json").write_text(json.dumps(info))
    with pytest.raises(RunDirectoryError, match=message) as caught:
        rundir.read_config(tmp_path / "run")
    assert "config.json" in str(caught.value)


def test_not_a_directory(tmp_path):
    with pytest.raises(RunDirectoryError, match="not a run directory"):
        rundir.read_config(tmp_path / "nothing")


def test_history_round_trip(tmp_path):
    rows = [{"epoch": 1, "train_loss": 0.5, "val_loss": 0.4, "test_loss": 0.45, "lr": 1e-4, "seconds": 2.0,
             "extra": "ignored"}]
    rundir.write_text(tmp_path / "history.csv", rundir.history_csv(rows))
    assert rundir.read_history(tmp_path) == [
        {"epoch": "1", "train_loss": "0.5", "val_loss": "0.4", "test_loss": "0.45", "lr": "0.0001", "seconds": "2.0"}]
    assert rundir.read_history(tmp_path / "elsewhere") == []


def test_output_directory_checks(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "x").write_text("")
    with pytest.raises(ConfigError, match="run directory exists; pass `overwrite`"):
        rundir.check_output_dir(tmp_path / "run", overwrite=False)
    rundir.check_output_dir(tmp_path / "run", overwrite=True)
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        rundir.check_output_dir(tmp_path / "file" / "run", overwrite=False)
    with pytest.raises(ConfigError, match="MB free"):
        rundir.check_free_space(tmp_path / "new", needed_bytes=10**18)


def test_create_clears_an_earlier_run_but_not_other_files(tmp_path):
    run = tmp_path / "run"
    assert rundir.create(run) is True
    for name in (*rundir.RUN_FILES, rundir.LOG_FILE, rundir.RESUME_FILE, "notes.txt"):
        (run / name).write_text("x")
    assert rundir.create(run) is False
    rundir.clear(run)
    assert [p.name for p in run.iterdir()] == ["notes.txt"]


def test_default_run_name_names_the_model():
    informer_name = rundir.default_run_name(RunConfig())
    linear_name = rundir.default_run_name(RunConfig(model=ModelConfig(kind="linear")))
    assert informer_name.startswith("ETTh1_M_sl96_ll48_pl24_prob_")
    assert linear_name.startswith("ETTh1_M_sl96_ll48_pl24_linear_")


def test_a_run_directory_in_training_is_locked(tmp_path):
    import informer
    from helpers import synthetic_frame
    from informer.config import DataConfig
    from informer.run import load_run

    synthetic_frame(200, 2).to_csv(tmp_path / "d.csv", index=False)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text((FIXTURE / "config.json").read_text())
    config = RunConfig.for_model("repeat", data=DataConfig(data=str(tmp_path / "d.csv"), seq_len=24, label_len=12,
                                                           pred_len=6))
    with rundir.TrainingLock(run):
        assert rundir.training_in_progress(run)
        with pytest.raises(RunDirectoryError, match="another training is writing"):
            informer.train(config, out=run, overwrite=True)
        assert (run / "config.json").exists()  # nothing of the other training was touched
        with pytest.raises(RunDirectoryError, match="still in progress"):
            load_run(run)
    assert not rundir.training_in_progress(run)
    informer.train(config, out=run, overwrite=True)
    assert not (run / rundir.LOCK_FILE).exists() and load_run(run).metrics["epochs"] == 0
