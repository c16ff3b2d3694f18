"""Run directories and config files are input: read bounded, refused in one line, never a hang.

Each case replays an attack: a named pipe or a device where a file belongs, a file too large,
JSON or TOML nested past Python's stack, bytes that are not UTF-8, null or mistyped fields, a
symbolic link to another run's files or out of the run directory, a neighbouring run that is
broken, and numbers too large for what they set (seed, threads). Calls that could block run in a
thread with a deadline, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from helpers import synthetic_frame
from informer import safeio
from informer.cli import main
from informer.config import TrainConfig, load_toml
from informer.data.scaling import Scaler
from informer.errors import ConfigError, DataError
from informer.run import load_run
from informer.rundir import RunDirectoryError, read_history, read_json
from informer.training.checkpoint import STATE_FORMAT, CheckpointError, load_state

DEADLINE = 30  # seconds; every call here returns in well under one
DEEP = 100_000  # nesting levels: past Python's recursion limit

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX named pipes")


def within_deadline(call, *pipes: Path):
    """``call()``'s result; fails (instead of hanging) when it has not returned by the deadline,
    then opens ``pipes`` for writing so that a reader blocked on one of them ends."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = call()
        except SystemExit as exit_:  # argparse
            outcome["value"] = exit_.code
        except BaseException as error:  # noqa: BLE001 - handed to the test below
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(DEADLINE)
    if thread.is_alive():
        for pipe in pipes:
            try:
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))  # the blocked reader sees end of file
            except OSError:
                pass
        thread.join(5)
        pytest.fail(f"did not return within {DEADLINE} s (blocked on a pipe or an endless file?)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def one_line_error(argv: list[str], capsys, *pipes: Path) -> str:
    """Run the command: it must exit 2 with one line on stderr and no traceback; that line."""
    capsys.readouterr()
    code = within_deadline(lambda: main(argv), *pipes)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def train_args(csv: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data", str(csv), "--model", "repeat", "--seq-len", "24", "--label-len", "12",
            "--pred-len", "6", "--no-progress", "--out", str(out), *extra]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A folder with a small series and a repeat run trained on it (``run``)."""
    folder = tmp_path_factory.mktemp("bounded")
    synthetic_frame(240, 3).to_csv(folder / "d.csv", index=False)
    assert main(train_args(folder / "d.csv", folder / "run")) == 0
    return folder


@pytest.fixture
def run(trained, tmp_path) -> Path:
    """A fresh copy of the trained run in ``tmp_path / "runs" / "run"`` (its data stays in place)."""
    copy = tmp_path / "runs" / "run"
    shutil.copytree(trained / "run", copy)
    return copy


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --- config files -----------------------------------------------------------------------------

def test_config_from_a_device_a_pipe_or_a_folder_is_one_line(trained, tmp_path, capsys):
    pipe = tmp_path / "settings.toml"
    os.mkfifo(pipe)
    for source, words in ((pipe, "named pipe"), (Path("/dev/zero"), "device"), (tmp_path, "directory")):
        if not source.exists():
            continue
        err = one_line_error(train_args(trained / "d.csv", tmp_path / "out", "--config", str(source)), capsys, pipe)
        assert str(source) in err and words in err, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, words", [
    ("a = " + "[" * DEEP + "]" * DEEP + "\n", "nested more than"),
    ("[train]\nseed = " + "7" * 5000 + "\n", "invalid TOML"),  # more digits than Python converts
    ("[train]\nepochs = 1\n" + "# padding\n" * (safeio.CONFIG_LIMIT // 10 + 1), "too large"),
    ("[train]\nlr = 1e-4\n# caf\xe9\n", "not UTF-8"),
])
def test_toml_nested_huge_or_not_utf8_is_one_line(trained, tmp_path, capsys, text, words):
    config = tmp_path / "settings.toml"
    config.write_bytes(text.encode("latin-1"))
    err = one_line_error(train_args(trained / "d.csv", tmp_path / "out", "--config", str(config)), capsys)
    assert str(config) in err and words in err, err
    assert not (tmp_path / "out").exists()


def test_load_toml_reads_an_ordinary_file(tmp_path):
    config = tmp_path / "settings.toml"
    config.write_text("[train]\nlr = 1e-3\n[model]\ns_layers = [[3], [2]]\n")
    assert load_toml(config) == {"train": {"lr": 1e-3}, "model": {"s_layers": [[3], [2]]}}


# --- numbers too large for what they set ------------------------------------------------------

def test_a_huge_seed_is_one_line(trained, tmp_path, capsys):
    err = one_line_error(train_args(trained / "d.csv", tmp_path / "out", "--seed", str(2**70)), capsys)
    assert "--seed" in err and "4294967295" in err, err
    assert not (tmp_path / "out").exists()


def test_seed_bounds():
    assert TrainConfig(seed=2**32 - 1).seed == 2**32 - 1
    for seed, itr in ((2**32, 1), (-1, 1), (2**32 - 2, 3)):
        with pytest.raises(ConfigError, match="train.seed"):
            TrainConfig(seed=seed, itr=itr)


def test_a_huge_thread_count_is_one_line(tmp_path, capsys, monkeypatch):
    # were it accepted, OpenMP would try to allocate 200 GB and abort the test process: stop first
    monkeypatch.setattr("informer.cli.configure_threads", lambda threads: pytest.fail(f"{threads} threads set"))
    for threads in ("1000000000", "1" + "0" * 5000):
        err = one_line_error(["evaluate", str(tmp_path / "nowhere"), "--threads", threads], capsys)
        assert "--threads" in err, err


# --- the files of a run directory -------------------------------------------------------------

def test_a_pipe_as_config_json_is_one_line_not_a_hang(run, capsys):
    (run / "config.json").unlink()
    os.mkfifo(run / "config.json")
    before = listing(run.parent)
    err = one_line_error(["evaluate", str(run)], capsys, run / "config.json")
    assert "config.json" in err and "named pipe" in err, err
    assert listing(run.parent) == before


@pytest.mark.parametrize("name", ["config.json", "scaler.json", "metrics.json"])
def test_json_nested_past_the_stack_is_one_line(run, capsys, name):
    (run / name).write_text("[" * DEEP + "]" * DEEP)
    err = one_line_error(["evaluate", str(run)], capsys)
    assert name in err and "nested more than" in err, err


def test_a_huge_config_json_is_refused_before_it_is_read(run, capsys):
    with open(run / "config.json", "r+b") as handle:
        handle.truncate(safeio.CONFIG_LIMIT + 1)  # sparse: costs no disk
    err = one_line_error(["evaluate", str(run)], capsys)
    assert "config.json" in err and "too large" in err, err


@pytest.mark.parametrize("payload", [
    {"columns": ["a", "b", "c"], "mean": None, "std": [1.0, 1.0, 1.0]},
    {"columns": ["a", "b", "c"], "mean": [0.0, 0.0, 0.0], "std": None},
    {"columns": None, "mean": [0.0], "std": [1.0]},
    {"columns": ["a", "b", "c"], "mean": [0.0, None, 0.0], "std": [1.0, 1.0, 1.0]},
    {"columns": ["a", "b", "c"], "mean": 0.0, "std": [1.0, 1.0, 1.0]},
    ["a", "b", "c"],
])
def test_null_or_mistyped_scaler_fields_are_one_line(run, capsys, payload):
    (run / "scaler.json").write_text(json.dumps(payload))
    err = one_line_error(["evaluate", str(run)], capsys)
    assert "scaler.json" in err, err


def test_scaler_from_dict_names_the_field():
    with pytest.raises(DataError, match="scaler: mean must be a list of numbers, got null"):
        Scaler.from_dict({"columns": ["a"], "mean": None, "std": [1.0]})
    with pytest.raises(DataError, match="std missing"):
        Scaler.from_dict({"columns": ["a"], "mean": [0.0]})
    assert Scaler.from_dict({"columns": ["a"], "mean": [0], "std": [2]}).std[0] == 2.0


@pytest.mark.parametrize("metrics", ["[1, 2]", '"mse"', "null"])
def test_metrics_json_that_is_no_table_is_one_line(run, capsys, metrics):
    (run / "metrics.json").write_text(metrics)
    with pytest.raises(RunDirectoryError, match="metrics.json: not a JSON object"):
        load_run(run)
    before, page = listing(run), (run / "report.html").read_bytes()
    err = one_line_error(["plot", str(run)], capsys)
    assert "metrics.json" in err, err
    assert listing(run) == before and (run / "report.html").read_bytes() == page


def test_a_binary_history_csv_is_one_line(run, capsys):
    (run / "history.csv").write_bytes(b"epoch,train_loss\n\xff\xfe\x00\x81\n")
    err = one_line_error(["evaluate", str(run)], capsys)
    assert "history.csv" in err and "not UTF-8" in err, err
    (run / "history.csv").unlink()
    os.mkfifo(run / "history.csv")
    with pytest.raises(RunDirectoryError, match="history.csv: is a named pipe"):
        within_deadline(lambda: read_history(run), run / "history.csv")


def test_weights_linked_from_another_run_are_refused(run, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(run, other)
    (run / "model.safetensors").unlink()
    (run / "model.safetensors").symlink_to(other / "model.safetensors")
    with pytest.raises(RunDirectoryError, match="model.safetensors: a symbolic link to .*outside the run directory"):
        load_run(run)


@pytest.mark.parametrize("name", ["config.json", "scaler.json", "history.csv"])
def test_files_linked_from_outside_the_run_are_refused(run, tmp_path, capsys, name):
    outside = tmp_path / name
    shutil.move(run / name, outside)
    (run / name).symlink_to(outside)
    err = one_line_error(["evaluate", str(run)], capsys)
    assert name in err and "symbolic link" in err, err


def test_links_inside_the_run_and_a_linked_run_directory_are_fine(run, tmp_path):
    shutil.move(run / "scaler.json", run / "scaler-kept.json")
    (run / "scaler.json").symlink_to("scaler-kept.json")
    latest = tmp_path / "latest"
    latest.symlink_to(run, target_is_directory=True)
    assert load_run(latest).columns == ("a", "b", "c")


def test_plot_never_writes_through_a_linked_plots_folder(run, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (run / "plots").symlink_to(elsewhere, target_is_directory=True)
    page = (run / "report.html").read_bytes()
    err = one_line_error(["plot", str(run)], capsys)
    assert "plots" in err and "symbolic link" in err, err
    assert list(elsewhere.iterdir()) == [] and (run / "report.html").read_bytes() == page


# --- the resume state -------------------------------------------------------------------------

GOOD_STATE = {
    "epoch": 1, "best_epoch": 1, "train_seconds": 1.5,
    "stopper": {"patience": 3, "best": 0.5, "best_epoch": 1, "bad_epochs": 0},
    "history": [{"epoch": 1, "train_loss": 0.6, "val_loss": 0.5, "test_loss": 0.7, "lr": 1e-4, "seconds": 1.5}],
    "param_groups": [{"params": [0], "lr": 1e-4}], "optimizer_scalars": {}, "grad_scaler": {}, "world_size": 1,
}
BAD_STATES = {
    "a list": [],
    "no epoch": {k: v for k, v in GOOD_STATE.items() if k != "epoch"},
    "epoch as text": {**GOOD_STATE, "epoch": "one"},
    "history as a number": {**GOOD_STATE, "history": 5},
    "a history row of other fields": {**GOOD_STATE, "history": [{"epoch": 1, "loss": 2}]},
    "stopper as null": {**GOOD_STATE, "stopper": None},
    "stopper with other fields": {**GOOD_STATE, "stopper": {"patience": 3}},
    "optimizer scalars of no parameter": {**GOOD_STATE, "optimizer_scalars": {"x": {"step": 1}}},
    "param groups without params": {**GOOD_STATE, "param_groups": [{"lr": 1e-4}]},
    "train seconds as null": {**GOOD_STATE, "train_seconds": None},
    "world size 0": {**GOOD_STATE, "world_size": 0},
}


def write_state(path: Path, state) -> Path:
    text = state if isinstance(state, str) else json.dumps(state)
    save_file({"model.w": torch.ones(2)}, str(path), metadata={"format": str(STATE_FORMAT), "state": text})
    return path


def test_well_formed_resume_metadata_loads(tmp_path):
    state = load_state(write_state(tmp_path / "resume.safetensors", GOOD_STATE))
    assert state.epoch == 1 and state.stopper["best"] == 0.5 and state.optimizer["param_groups"][0]["params"] == [0]


@pytest.mark.parametrize("name", sorted(BAD_STATES))
def test_malformed_resume_metadata_is_a_checkpoint_error(tmp_path, name):
    path = write_state(tmp_path / "resume.safetensors", BAD_STATES[name])
    with pytest.raises(CheckpointError, match="corrupt resume state") as caught:
        load_state(path)
    assert str(path) in str(caught.value) and len(str(caught.value).splitlines()) == 1


def test_resume_metadata_nested_past_the_stack_is_a_checkpoint_error(tmp_path):
    path = write_state(tmp_path / "resume.safetensors", "[" * DEEP + "]" * DEEP)
    with pytest.raises(CheckpointError, match="nested more than"):
        load_state(path)


def test_a_resume_state_linked_from_outside_is_refused(tmp_path):
    outside = write_state(tmp_path / "elsewhere.safetensors", GOOD_STATE)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "resume.safetensors").symlink_to(outside)
    with pytest.raises(CheckpointError, match="symbolic link"):
        load_state(tmp_path / "run" / "resume.safetensors")


def test_resuming_from_malformed_metadata_is_one_line(run, capsys):
    write_state(run / "resume.safetensors", BAD_STATES["epoch as text"])
    err = one_line_error(["train", "--resume", str(run)], capsys)
    assert "resume.safetensors" in err and "corrupt resume state" in err, err


# --- neighbours -------------------------------------------------------------------------------

def bad_neighbours(folder: Path) -> list[Path]:
    """Beside the runs in ``folder``: a run whose config.json is a named pipe, one nested past
    the stack, one that is a list, and one whose metrics.json is a pipe."""
    made = []
    for name, config, metrics in (("pipe", None, "{}"), ("deep", "[" * DEEP + "]" * DEEP, "{}"),
                                  ("list", "[]", "{}"), ("pipe-metrics", "{}", None)):
        sibling = folder / name
        sibling.mkdir()
        for file, text in (("config.json", config), ("metrics.json", metrics)):
            if text is None:
                os.mkfifo(sibling / file)
                made.append(sibling / file)
            else:
                (sibling / file).write_text(text)
    return made


def test_train_beside_broken_neighbours_writes_its_report(trained, tmp_path, capsys):
    pipes = bad_neighbours(tmp_path)
    code = within_deadline(lambda: main(train_args(trained / "d.csv", tmp_path / "run")), *pipes)
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    assert (tmp_path / "run" / "report.html").is_file()
    for name in ("pipe", "deep", "list", "pipe-metrics"):
        assert f"{tmp_path / name}: skipped as a baseline run" in err, err


def test_plot_beside_broken_neighbours_draws(run, capsys):
    pipes = bad_neighbours(run.parent)
    code = within_deadline(lambda: main(["plot", str(run)]), *pipes)
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err, err
    assert (run / "report.html").is_file() and "deep: skipped as a baseline run" in err


def test_find_baselines_logs_and_skips(run, caplog):
    from informer.report import find_baselines

    pipes = bad_neighbours(run.parent)
    loaded = load_run(run)
    with caplog.at_level(logging.WARNING, logger="informer"):
        found = within_deadline(lambda: find_baselines(run, loaded), *pipes)
    assert found == []
    skipped = sorted(r.getMessage().split(":")[0] for r in caplog.records if "skipped as a baseline" in r.getMessage())
    assert skipped == sorted(str(run.parent / name) for name in ("deep", "list", "pipe", "pipe-metrics"))


# --- the reader itself ------------------------------------------------------------------------

def test_the_reader_refuses_what_is_no_regular_file(tmp_path):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for path, words in ((pipe, "named pipe"), (tmp_path, "directory"), (Path("/dev/zero"), "device")):
        if path.exists():
            with pytest.raises(RunDirectoryError, match=words):
                within_deadline(lambda path=path: safeio.read_bytes(path, limit=10, error=RunDirectoryError), pipe)
    with pytest.raises(FileNotFoundError):
        safeio.read_bytes(tmp_path / "missing", limit=10)


def test_the_reader_caps_size_and_nesting(tmp_path):
    path = tmp_path / "f.json"
    path.write_text("[" * 64 + "]" * 64)
    assert safeio.read_bytes(path, limit=128) == path.read_bytes()
    with pytest.raises(ConfigError, match="too large"):
        safeio.read_bytes(path, limit=127, error=ConfigError)
    assert safeio.read_json(path) is not None
    path.write_text("[" * 65 + "]" * 65)
    with pytest.raises(ConfigError, match="nested more than 64"):
        safeio.read_json(path, error=ConfigError)
    assert not safeio.too_deep({"a": [{"b": [1, 2]}]}, limit=4) and safeio.too_deep({"a": [{"b": [[]]}]}, limit=4)


def test_read_json_refuses_what_is_no_object(tmp_path):
    (tmp_path / "metrics.json").write_text("[]")
    with pytest.raises(RunDirectoryError, match="not a JSON object"):
        read_json(tmp_path / "metrics.json")


def test_a_set_value_too_long_to_read_is_taken_as_text_and_refused_in_one_line(capsys):
    from informer.cli import main

    code = main(["train", "--set", "train.seed=" + "9" * 5000])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_threads_and_workers_are_bounded():
    import pytest as _pytest

    from informer.config import TrainConfig
    from informer.errors import ConfigError
    from informer.threads import configure_threads

    with _pytest.raises(ConfigError, match="threads must be from 1 to"):
        configure_threads(10**9)
    with _pytest.raises(ConfigError, match="num_workers must be an integer from 0 to"):
        TrainConfig(num_workers=10**6)


def test_a_link_planted_under_the_temporary_name_is_not_written_through(tmp_path):
    import os

    from informer import rundir

    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.symlink(victim, tmp_path / f".out.json.{os.getpid()}.tmp")
    rundir.write_json(tmp_path / "out.json", {"a": 1})
    assert victim.read_text() == "precious" and (tmp_path / "out.json").read_text().startswith("{")
