"""Training under torchrun (issue 14): the pieces alone, then real 2-process jobs with gloo on the CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import synthetic_frame
from informer.batches import predictions
from informer.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from informer.data.pipeline import prepare
from informer.distributed import Distributed, together, timeout
from informer.errors import ConfigError, DataError
from informer.evaluation.metrics import MetricAccumulator
from informer.model.forecaster import build_forecaster
from informer.training.checkpoint import CheckpointError, load_state, save_state
from informer.training.loop import loss_function, make_optimizer, merge_rng, rank_rng, train_step

TINY = ["--seq-len", "24", "--label-len", "12", "--pred-len", "12", "--d-model", "16", "--n-heads", "2",
        "--d-ff", "32", "--e-layers", "2", "--d-layers", "1", "--batch-size", "16", "--threads", "1"]


def _config(path: str, **train) -> RunConfig:
    return RunConfig(data=DataConfig(data=path, seq_len=24, label_len=12, pred_len=12),
                     model=ModelConfig(d_model=16, n_heads=2, d_ff=32, e_layers=2, d_layers=1),
                     train=TrainConfig(**{"epochs": 1, "batch_size": 16, **train}))


@pytest.fixture
def series_csv(tmp_path) -> str:
    path = tmp_path / "series.csv"
    synthetic_frame(n=900, columns=3).to_csv(path, index=False)
    return str(path)


# --- the pieces, in one process ------------------------------------------------------------------

def test_sharded_predictions_are_the_batches_of_one_process(series_csv):
    """Each process's share of an evaluation is exactly what one process computes for those batches."""
    config = _config(series_csv)
    data = prepare(config.data, embed="timeF")
    torch.manual_seed(0)
    model = build_forecaster(config.model, enc_in=3, c_out=3, seq_len=24, label_len=12, pred_len=12, freq="h")
    dataset = data.dataset("test")
    kw = dict(features="M", batch_size=16, device=torch.device("cpu"), seed=7)
    alone = [pred for pred, _ in predictions(model, dataset, **kw)]
    shares = {rank: [pred for pred, _ in predictions(model, dataset, shard=(rank, 3), **kw)] for rank in range(3)}
    assert sum(len(s) for s in shares.values()) == len(alone) == -(-len(dataset) // 16)
    for rank, share in shares.items():
        for i, pred in enumerate(share):
            np.testing.assert_array_equal(pred, alone[rank + 3 * i])


def test_metric_sums_add_across_processes():
    rng = np.random.default_rng(0)
    pred, true = rng.normal(size=(2, 10, 4, 3))
    whole, first, second = MetricAccumulator(), MetricAccumulator(), MetricAccumulator()
    whole.update(pred, true)
    first.update(pred[:6], true[:6])
    second.update(pred[6:], true[6:])
    added = MetricAccumulator.from_sums([a + b for a, b in zip(first.sums(), second.sums())])
    for name, value in whole.result().items():
        assert added.result()[name] == pytest.approx(value, rel=1e-12)


def test_generator_states_of_every_rank_round_trip():
    states = [{"torch": torch.tensor([r, 1]), "sampling": torch.tensor([r, 2])} for r in range(3)]
    merged = merge_rng(states)
    assert set(merged) == {"torch", "sampling", "torch.rank1", "sampling.rank1", "torch.rank2", "sampling.rank2"}
    for rank in range(3):
        assert {k: v.tolist() for k, v in rank_rng(merged, rank).items()} == \
            {k: v.tolist() for k, v in states[rank].items()}


def test_rank_seeds_differ_and_rank_zero_keeps_the_seed():
    seeds = [Distributed(rank, 4).seed(2021) for rank in range(4)]
    assert seeds[0] == 2021 and len(set(seeds)) == 4


def test_the_global_batch_must_split_evenly(series_csv):
    from informer.run import _check_processes

    _check_processes(_config(series_csv, batch_size=32), Distributed(0, 4))
    with pytest.raises(ConfigError, match=r"`batch_size` 32 .* 3 processes; use a multiple of 3"):
        _check_processes(_config(series_csv, batch_size=32), Distributed(1, 3))


def test_together_alone_is_the_call():
    assert together(Distributed(), lambda: 5) == 5
    with pytest.raises(DataError, match="bad"):
        together(Distributed(), lambda: (_ for _ in ()).throw(DataError("bad")))


class _OtherRankDiverged(Distributed):
    """A job of two in which the other process's loss was NaN."""

    def sum(self, values):
        return [v + float("nan") for v in values]


def test_a_nan_on_another_process_stops_this_one_without_stepping(series_csv):
    config = _config(series_csv)
    data = prepare(config.data, embed="timeF")
    torch.manual_seed(0)
    model = build_forecaster(config.model, enc_in=3, c_out=3, seq_len=24, label_len=12, pred_len=12, freq="h")
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    batch = next(iter(torch.utils.data.DataLoader(data.dataset("train"), batch_size=8)))
    optimizer = make_optimizer(model, lr=1e-3)
    kw = dict(optimizer=optimizer, criterion=loss_function("mse"), grad_scaler=torch.amp.GradScaler("cuda", enabled=False),
              features="M", device=torch.device("cpu"), generator=None, amp=False)
    value = train_step(model, batch, job=_OtherRankDiverged(0, 2), **kw)
    assert not np.isfinite(value)
    for name, tensor in model.named_parameters():  # (BatchNorm's statistics move in any forward)
        assert torch.equal(tensor, before[name]), name
    assert np.isfinite(train_step(model, batch, **kw))  # alone, the same batch steps


def test_resume_state_records_the_number_of_processes(tmp_path):
    from informer.training.checkpoint import TrainingState

    state = TrainingState(epoch=1, model={"w": torch.ones(2)}, best_model={"w": torch.ones(2)},
                          optimizer={"state": {}, "param_groups": []},
                          stopper={"patience": 3, "bad_epochs": 0, "best": 1.0, "best_epoch": 1}, history=[],
                          rng={"torch": torch.get_rng_state()}, world_size=2)
    save_state(tmp_path / "state.safetensors", state)
    assert load_state(tmp_path / "state.safetensors").world_size == 2


def test_a_run_of_two_processes_is_not_resumed_by_one(series_csv, tmp_path, monkeypatch):
    from informer.run import resume, train
    from informer.training import loop

    original = loop.fit

    def two_process_state(*args, on_epoch_end=None, **kwargs):
        def relabelled(state):
            state.world_size = 2
            on_epoch_end(state)
            raise KeyboardInterrupt

        return original(*args, on_epoch_end=relabelled, **kwargs)

    monkeypatch.setattr("informer.run.fit", two_process_state)
    with pytest.raises(KeyboardInterrupt):
        train(_config(series_csv, epochs=2), out=tmp_path / "run")
    monkeypatch.undo()
    with pytest.raises(CheckpointError,
                       match=r"trained on 2 process\(es\); resume it with as many \(a job of 2 processes\)"):
        resume(tmp_path / "run")


def test_only_rank_zero_shows_a_progress_bar(series_csv):
    from informer.training.loop import fit

    config = _config(series_csv)
    data = prepare(config.data, embed="timeF")
    model = build_forecaster(config.model, enc_in=3, c_out=3, seq_len=24, label_len=12, pred_len=12, freq="h")
    quiet = Distributed(rank=1, world_size=1)  # a rank other than 0, without a process group
    result = fit(model, data, config.train, device=torch.device("cpu"), seed=1, progress=True, job=quiet)
    assert len(result.history) == 1


def test_timeout_from_the_environment(monkeypatch):
    monkeypatch.setenv("INFORMER_DIST_TIMEOUT", "12.5")
    assert timeout().total_seconds() == 12.5
    monkeypatch.setenv("INFORMER_DIST_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="INFORMER_DIST_TIMEOUT"):
        timeout()


def test_nproc_is_removed_from_the_command_given_to_the_processes():
    from informer.cli.runs import _without_option

    assert _without_option(["train", "--nproc", "2", "--data", "x", "--nproc=3"], "--nproc") == ["train", "--data", "x"]


# --- real jobs: 2 processes, gloo, CPU ------------------------------------------------------------

def _informer(*args: str, cwd: Path, timeout_s: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "informer", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout_s)


def test_two_processes_train_one_run_that_evaluates_alone_as_it_reported(series_csv, tmp_path):
    two = _informer("train", "--data", series_csv, *TINY, "--epochs", "3", "--nproc", "2", "--out", "two",
                    cwd=tmp_path)
    assert two.returncode == 0, two.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["two"]  # one run directory
    assert not (tmp_path / "two" / "resume.safetensors").exists()
    metrics = json.loads((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["processes"] == 2
    assert two.stderr.count("epoch 1/3: train") == 1  # only rank 0 logs
    assert two.stdout.count("run directory:") == 1

    alone = _informer("evaluate", "two", "--json", "--threads", "1", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    evaluated = json.loads(alone.stdout)
    for name in ("mse", "mae", "rmse"):
        assert evaluated[name] == pytest.approx(metrics[name], rel=1e-5)
        assert evaluated["original_units"][name] == pytest.approx(metrics["original_units"][name], rel=1e-5)

    one = _informer("train", "--data", series_csv, *TINY, "--epochs", "3", "--out", "one", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    single = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert metrics["mse"] == pytest.approx(single["mse"], rel=0.02)


def test_a_batch_that_does_not_split_ends_every_process_with_one_message(series_csv, tmp_path):
    job = _informer("train", "--data", series_csv, *TINY, "--batch-size", "15", "--nproc", "2", "--out", "odd",
                    cwd=tmp_path)
    assert job.returncode == 2
    errors = [line for line in job.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "use a multiple of 2" in errors[0], job.stderr
    assert "Traceback" not in job.stderr
    assert not (tmp_path / "odd").exists()


def _rank_pids(parent: int, rank: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if f"RANK={rank}".encode() in environ and int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds the processes through /proc")
def test_killing_one_process_ends_the_job_and_the_run_resumes_exactly(tmp_path):
    path = tmp_path / "long.csv"
    synthetic_frame(n=4000, columns=3).to_csv(path, index=False)
    args = ["train", "--data", str(path), *TINY, "--epochs", "3", "--nproc", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    job = subprocess.Popen([sys.executable, "-m", "informer", *args, "--out", "killed"], cwd=tmp_path, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_dir = tmp_path / "killed"
    deadline = time.monotonic() + 180
    while not (run_dir / "resume.safetensors").exists() and job.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    victims = _rank_pids(job.pid, 1)
    assert victims, "rank 1 not found"
    os.kill(victims[0], signal.SIGKILL)
    killed_at = time.monotonic()
    _, stderr = job.communicate(timeout=60)
    assert time.monotonic() - killed_at < 60
    assert job.returncode != 0
    assert "training process 1 of 2 was stopped by signal SIGKILL" in stderr
    assert "Traceback" not in stderr

    assert (run_dir / "resume.safetensors").exists()  # killed after an epoch: resumable
    # continuing it gives exactly the uninterrupted run
    resumed = _informer("train", "--nproc", "2", "--resume", "killed", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    whole = _informer(*args, "--out", "whole", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    history = [(tmp_path / name / "history.csv").read_text().splitlines() for name in ("killed", "whole")]
    assert [line.rsplit(",", 1)[0] for line in history[0]] == [line.rsplit(",", 1)[0] for line in history[1]]
    metrics = [json.loads((tmp_path / name / "metrics.json").read_text()) for name in ("killed", "whole")]
    assert metrics[0]["mse"] == metrics[1]["mse"]
