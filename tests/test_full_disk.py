"""Writes that cannot lose what exists: a write that fails (a full disk, a file size limit, the
weights writer's own error) at any file of a run gives one line naming the file, and leaves the run
directory as it was before that write: its last finished epoch resumable, or, under `--overwrite`,
the old run whole."""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import informer
import informer.rundir as rundir
from helpers import synthetic_frame
from informer.cli import main
from informer.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from informer.rundir import RunDirectoryError

TINY = ["--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--d-model", "16", "--n-heads", "2",
        "--d-ff", "32", "--batch-size", "16", "--epochs", "2", "--patience", "5", "--no-progress"]


def _config(path: Path) -> RunConfig:
    return RunConfig(data=DataConfig(data=str(path), seq_len=24, label_len=12, pred_len=6),
                     model=ModelConfig(d_model=16, n_heads=2, d_ff=32),
                     train=TrainConfig(epochs=2, batch_size=16, patience=5))


class FullDisk:
    """Make the ``nth`` write of the file ``name`` fail the way a full disk does: with an
    ``OSError`` (ENOSPC), or, for ``weights_error``, with an error of the writer's own type."""

    def __init__(self, monkeypatch, name: str, nth: int = 1, weights_error: bool = False) -> None:
        self.name, self.nth, self.seen = name, nth, 0
        real = rundir.atomic_write

        def failing(target, write, **kwargs):
            if Path(target).name == self.name:
                self.seen += 1
                if self.seen == self.nth:
                    def full(tmp):
                        write(tmp)  # part of the file is written, then the disk is full
                        if weights_error:
                            raise RuntimeError("IoError(Os { code: 28, kind: StorageFull })")
                        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                    if weights_error:
                        monkeypatch.setattr(rundir.shutil, "disk_usage", lambda _: type("U", (), {"free": 0})())
                    return real(target, full, **kwargs)
            return real(target, write, **kwargs)

        monkeypatch.setattr(rundir, "atomic_write", failing)


@pytest.mark.parametrize("name, nth", [("resume.safetensors", 2), ("history.csv", 2), ("model.safetensors", 1),
                                       ("scaler.json", 1), ("metrics.json", 1)])
def test_a_full_disk_after_an_epoch_keeps_it_resumable(tmp_path, monkeypatch, capsys, name, nth):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    expected = informer.train(_config(tmp_path / "d.csv")).metrics
    disk = FullDisk(monkeypatch, name, nth, weights_error=name.endswith(".safetensors"))
    code = main(["train", "--data", str(tmp_path / "d.csv"), *TINY, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert disk.seen >= nth and code == 2 and "Traceback" not in err
    assert any(f"{name}: cannot write (disk full" in line for line in err.splitlines()), err
    assert (tmp_path / "run" / "resume.safetensors").exists()  # the last finished epoch is kept
    assert not list((tmp_path / "run").glob(".*.tmp"))  # no half-written file
    monkeypatch.undo()
    assert informer.run.resume(tmp_path / "run").metrics["mse"] == expected["mse"]


@pytest.mark.parametrize("name", ["config.json", "resume.safetensors"])
def test_a_full_disk_before_the_first_epoch_is_saved_leaves_nothing(tmp_path, monkeypatch, capsys, name):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    FullDisk(monkeypatch, name, weights_error=name.endswith(".safetensors"))
    code = main(["train", "--data", str(tmp_path / "d.csv"), *TINY, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and f"{name}: cannot write (disk full" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # no epoch finished: nothing worth keeping


def test_overwrite_replaces_a_run_whole_and_a_failed_overwrite_keeps_the_old_one(tmp_path, monkeypatch, capsys):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    out = tmp_path / "run"
    assert main(["train", "--data", str(tmp_path / "d.csv"), *TINY, "--out", str(out)]) == 0
    before = {name: (out / name).read_bytes() for name in ("model.safetensors", "scaler.json", "metrics.json",
                                                            "config.json", "report.html")}
    FullDisk(monkeypatch, "model.safetensors", weights_error=True)
    code = main(["train", "--data", str(tmp_path / "d.csv"), *TINY, "--lr", "0.001", "--out", str(out),
                 "--overwrite"])
    err = capsys.readouterr().err
    assert code == 2 and "model.safetensors: cannot write (disk full" in err and "Traceback" not in err
    assert {name: (out / name).read_bytes() for name in before} == before  # the old run, whole
    assert informer.load_run(out).evaluate()["mse"] == pytest.approx(informer.load_run(out).metrics["mse"])
    staging = tmp_path / "run.new"
    assert (staging / "resume.safetensors").exists()  # the new run's progress, resumable beside it
    monkeypatch.undo()
    again = main(["train", "--data", str(tmp_path / "d.csv"), *TINY, "--out", str(out), "--overwrite"])
    assert again == 2 and "did not finish" in capsys.readouterr().err
    rundir.remove(staging)
    assert main(["train", "--data", str(tmp_path / "d.csv"), *TINY, "--lr", "0.001", "--out", str(out),
                 "--overwrite"]) == 0
    assert (out / "model.safetensors").read_bytes() != before["model.safetensors"]
    assert informer.load_run(out).config.train.lr == 0.001
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "run"]  # nothing left beside it


def _file_size_limit(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.skipif(not hasattr(resource, "RLIMIT_FSIZE"), reason="no file size limit on this system")
def test_a_real_file_size_limit_gives_one_line_and_loses_nothing(tmp_path):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # the weights (d_model 64) are larger than 100 kB, the log, config and history are not
    args = [sys.executable, "-m", "informer.cli", "train", "--data", "d.csv", *TINY, "--d-model", "64",
            "--out", "run"]
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=600,
                            preexec_fn=_file_size_limit(100_000))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if "cannot write" in line]
    assert len(lines) == 1 and "safetensors" in lines[0], result.stderr
    assert not (tmp_path / "run").exists() or not list((tmp_path / "run").glob(".*.tmp"))


def test_a_full_disk_at_the_training_log_costs_the_log_not_the_run(tmp_path, monkeypatch, capsys):
    import informer.run as run_module

    class FullStream:
        def write(self, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def flush(self):
            pass

        def close(self):
            pass

    monkeypatch.setattr(run_module._RunLog, "_open", lambda self: FullStream())
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    code = main(["train", "--data", str(tmp_path / "d.csv"), *TINY, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err and "Logging error" not in err
    assert sum("train.log: cannot write (No space left on device)" in line for line in err.splitlines()) == 1
    assert informer.load_run(tmp_path / "run").metrics["mse"] > 0


def test_a_full_disk_at_the_report_costs_the_report_not_the_run(tmp_path, monkeypatch, capsys):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    FullDisk(monkeypatch, "report.html")
    code = main(["train", "--data", str(tmp_path / "d.csv"), *TINY, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    assert sum("report.html not written" in line and "disk full" in line for line in err.splitlines()) == 1
    assert not (tmp_path / "run" / "report.html").exists()
    monkeypatch.undo()
    assert informer.load_run(tmp_path / "run").evaluate()["mse"] > 0
    assert main(["plot", str(tmp_path / "run")]) == 0  # the retry the warning names
