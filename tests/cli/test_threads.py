"""--threads: torch's thread count, the default from the cores this process may use."""

from __future__ import annotations

import json

import pytest
import torch

from helpers import synthetic_frame
from informer.cli import main
from informer.threads import available_cores, configure_threads


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_one_thread_and_the_default_train_the_same_model(tmp_path, restore_threads, monkeypatch):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    common = ["train", "--data", str(tmp_path / "d.csv"), "--seq-len", "24", "--label-len", "12", "--pred-len", "6",
              "--d-model", "16", "--n-heads", "2", "--d-ff", "16", "--epochs", "1", "--batch-size", "16",
              "--device", "cpu", "--no-progress"]
    assert main([*common, "--threads", "1", "--out", str(tmp_path / "one")]) == 0
    assert torch.get_num_threads() == 1
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert main([*common, "--out", str(tmp_path / "default")]) == 0
    assert torch.get_num_threads() == available_cores()
    one, default = (json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("one", "default"))
    # sums split across threads round differently; one epoch of training carries that to ~3e-5
    for key in ("mse", "mae"):
        assert one[key] == pytest.approx(default[key], rel=1e-4)


def test_torchrun_processes_share_the_cores(monkeypatch, restore_threads):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "64")
    assert available_cores() == 1 and configure_threads(None) == 1
    monkeypatch.delenv("LOCAL_WORLD_SIZE")
    assert configure_threads(3) == 3 == torch.get_num_threads()


def test_omp_num_threads_is_respected(monkeypatch, restore_threads):
    torch.set_num_threads(1)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert configure_threads(None) == 1
