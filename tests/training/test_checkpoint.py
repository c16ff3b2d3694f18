"""The resume state file: a lossless round trip, and one clear error for every damaged file."""

from __future__ import annotations

import json
import math

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from informer.batches import Batch
from informer.config import ModelConfig
from informer.errors import InformerError
from informer.model.baselines import Linear
from informer.model.compose import build_forecaster, rebuild_forecaster
from informer.training.checkpoint import STATE_FORMAT, CheckpointError, TrainingState, load_state, save_state
from informer.training.loop import make_optimizer


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return Linear(enc_in=2, c_out=2, seq_len=8, pred_len=3, moving_avg=3, label_len=4)


def batch(seed: int) -> tuple[Batch, torch.Tensor]:
    """A batch for :func:`tiny_model` (DLinear reads only ``x_enc``; the rest are zeros) and its target."""
    generator = torch.Generator().manual_seed(seed)
    x, y = torch.randn(4, 8, 2, generator=generator), torch.randn(4, 3, 2, generator=generator)
    return Batch(x, torch.zeros(4, 8, 4), torch.zeros(4, 7, 2), torch.zeros(4, 7, 4)), y


def adam_step(model: nn.Module, optimizer: torch.optim.Optimizer, seed: int) -> None:
    x, y = batch(seed)
    optimizer.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()


def trained(steps: int = 2) -> tuple[nn.Module, torch.optim.Optimizer]:
    model = tiny_model()
    optimizer = make_optimizer(model, lr=0.01)
    for seed in range(steps):
        adam_step(model, optimizer, seed)
    return model, optimizer


def a_state(model: nn.Module, optimizer: torch.optim.Optimizer) -> TrainingState:
    best = {name: tensor + 1 for name, tensor in model.state_dict().items()}  # distinct from model
    return TrainingState(
        epoch=2,
        model=model.state_dict(),
        best_model=best,
        optimizer=optimizer.state_dict(),
        stopper={"patience": 3, "best": 0.25, "best_epoch": 1, "bad_epochs": 1},
        history=[
            {"epoch": 1, "train_loss": 0.5, "val_loss": 0.25, "test_loss": 0.3, "lr": 1e-4, "seconds": 0.1},
            {"epoch": 2, "train_loss": 0.4, "val_loss": 0.26, "test_loss": 0.31, "lr": 1e-4, "seconds": 0.1},
        ],
        rng={"torch": torch.get_rng_state(), "shuffle": torch.Generator().manual_seed(3).get_state(),
             "sampling": torch.Generator().manual_seed(4).get_state()},
        best_epoch=1,
        train_seconds=12.5,
        grad_scaler={"scale": 32768.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000,
                     "_growth_tracker": 7},
    )


def assert_tensors_equal(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        assert torch.equal(got[name], want[name]), name


def test_round_trip_keeps_every_tensor_and_value(tmp_path):
    model, optimizer = trained()
    state = a_state(model, optimizer)
    path = tmp_path / "resume.safetensors"
    save_state(path, state)
    loaded = load_state(path)

    assert_tensors_equal(loaded.model, state.model)
    assert_tensors_equal(loaded.best_model, state.best_model)
    assert_tensors_equal(loaded.rng, state.rng)
    assert loaded.optimizer["state"].keys() == state.optimizer["state"].keys()
    for index, values in state.optimizer["state"].items():
        assert loaded.optimizer["state"][index].keys() == values.keys()
        for key, value in values.items():
            got = loaded.optimizer["state"][index][key]
            assert torch.equal(got, value) if torch.is_tensor(value) else got == value, (index, key)
    want_groups = json.loads(json.dumps(state.optimizer["param_groups"]))  # tuples come back as lists
    assert loaded.optimizer["param_groups"] == want_groups
    assert loaded.optimizer["param_groups"][0]["lr"] == 0.01
    assert (loaded.epoch, loaded.best_epoch, loaded.train_seconds) == (2, 1, 12.5)
    assert loaded.stopper == state.stopper
    assert loaded.history == state.history
    assert loaded.grad_scaler == state.grad_scaler


def test_scalar_optimizer_values_and_infinities_survive(tmp_path):
    """Some optimizers keep plain numbers in their state (Adam's ``step`` in older torch);
    a fresh stopper's best loss is infinite."""
    moment = torch.arange(6.0).reshape(2, 3)
    state = TrainingState(
        epoch=1,
        model={"w": torch.ones(2, 3)},
        best_model={"w": torch.zeros(2, 3)},
        optimizer={"state": {0: {"step": 5, "exp_avg": moment, "scale": 0.5}, 3: {"step": 7}},
                   "param_groups": [{"lr": 1e-3, "betas": [0.9, 0.999], "params": [0, 3]}]},
        stopper={"patience": 2, "best": math.inf, "best_epoch": 0, "bad_epochs": 0},
        history=[],
        rng={"torch": torch.get_rng_state()},
    )
    path = tmp_path / "state.safetensors"
    save_state(path, state)
    loaded = load_state(path)
    assert loaded.optimizer["state"][0]["step"] == 5 and isinstance(loaded.optimizer["state"][0]["step"], int)
    assert loaded.optimizer["state"][0]["scale"] == 0.5
    assert torch.equal(loaded.optimizer["state"][0]["exp_avg"], moment)
    assert loaded.optimizer["state"][3] == {"step": 7}
    assert loaded.optimizer["param_groups"] == state.optimizer["param_groups"]
    assert loaded.stopper["best"] == math.inf
    assert loaded.grad_scaler == {} and loaded.history == []


def test_a_restored_optimizer_makes_the_same_next_step(tmp_path):
    model, optimizer = trained(steps=3)
    path = tmp_path / "resume.safetensors"
    save_state(path, a_state(model, optimizer))
    loaded = load_state(path)

    restored = tiny_model(seed=123)
    restored.load_state_dict(loaded.model)
    restored_optimizer = make_optimizer(restored, lr=0.5)  # lr comes from the state
    restored_optimizer.load_state_dict(loaded.optimizer)
    assert restored_optimizer.param_groups[0]["lr"] == 0.01

    for seed in (10, 11):
        adam_step(model, optimizer, seed)
        adam_step(restored, restored_optimizer, seed)
    assert_tensors_equal(restored.state_dict(), model.state_dict())


def test_a_composed_model_with_two_learning_rates_resumes_in_step(tmp_path):
    """DLinear with a cycle around it: the cycle is a linear part, in the optimizer's second group;
    a model rebuilt from its settings lines its parameters up with the saved optimizer state."""
    config = ModelConfig(kind="linear", moving_avg=3, cycle=5)
    model = build_forecaster(config, enc_in=2, c_out=2, seq_len=8, label_len=4, pred_len=3, freq="h")
    phases = {"phase_enc": torch.arange(8).repeat(4, 1) % 5, "phase_dec": torch.arange(4, 11).repeat(4, 1) % 5}

    def step(model, optimizer, seed):
        x, y = batch(seed)
        optimizer.zero_grad()
        nn.functional.mse_loss(model(x.replace(**phases)), y).backward()
        optimizer.step()

    optimizer = make_optimizer(model, lr=0.01, linear_lr=0.05)
    assert [len(group["params"]) for group in optimizer.param_groups] == [4, 1]  # the maps; the cycle
    for seed in range(3):
        step(model, optimizer, seed)
    path = tmp_path / "resume.safetensors"
    save_state(path, a_state(model, optimizer))
    loaded = load_state(path)

    torch.manual_seed(123)
    restored = rebuild_forecaster("linear", model.settings)
    restored.load_state_dict(loaded.model)
    restored_optimizer = make_optimizer(restored, lr=0.5, linear_lr=0.5)  # the rates come from the state
    restored_optimizer.load_state_dict(loaded.optimizer)
    assert [group["lr"] for group in restored_optimizer.param_groups] == pytest.approx([0.01, 0.05])
    for seed in (10, 11):
        step(model, optimizer, seed)
        step(restored, restored_optimizer, seed)
    assert_tensors_equal(restored.state_dict(), model.state_dict())


def test_a_missing_file_says_there_is_no_resume_state(tmp_path):
    path = tmp_path / "resume.safetensors"
    with pytest.raises(CheckpointError, match="no resume state") as caught:
        load_state(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, InformerError)


def test_a_truncated_file_is_named(tmp_path):
    model, optimizer = trained()
    path = tmp_path / "resume.safetensors"
    save_state(path, a_state(model, optimizer))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="corrupt resume state") as caught:
        load_state(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", b"\x08" + b"\x00" * 7 + b"{garbage"])
def test_bytes_that_are_not_safetensors_are_named(tmp_path, content):
    path = tmp_path / "resume.safetensors"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as caught:
        load_state(path)
    assert str(path) in str(caught.value)


def test_a_safetensors_file_that_is_not_a_state_is_named(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file({"weight": torch.ones(2)}, str(path))  # e.g. a run's model weights, no state metadata
    with pytest.raises(CheckpointError, match="corrupt resume state") as caught:
        load_state(path)
    assert str(path) in str(caught.value)


def test_state_metadata_that_is_not_json_is_named(tmp_path):
    path = tmp_path / "resume.safetensors"
    save_file({"model.w": torch.ones(2)}, str(path), metadata={"format": str(STATE_FORMAT), "state": "{oops"})
    with pytest.raises(CheckpointError, match="corrupt resume state") as caught:
        load_state(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("fmt", [str(STATE_FORMAT + 1), "0", None])
def test_another_format_number_is_refused(tmp_path, fmt):
    model, optimizer = trained()
    good = tmp_path / "good.safetensors"
    save_state(good, a_state(model, optimizer))
    with safe_open(str(good), framework="pt") as handle:
        metadata = dict(handle.metadata())
    assert metadata["format"] == str(STATE_FORMAT)
    if fmt is None:
        del metadata["format"]
    else:
        metadata["format"] = fmt
    path = tmp_path / "resume.safetensors"
    save_file(load_file(str(good)), str(path), metadata=metadata)
    with pytest.raises(CheckpointError, match="unknown resume state format") as caught:
        load_state(path)
    assert str(path) in str(caught.value)
