"""The training loop: one tiny DLinear (and one tiny Informer) on a 200-row synthetic series, CPU."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn

from helpers import synthetic_frame
from informer.batches import Batch
from informer.config import DataConfig, ModelConfig, TrainConfig
from informer.data.pipeline import prepare
from informer.data.windows import WindowDataset
from informer.errors import NonFiniteLossError
from informer.model.baselines import Repeat
from informer.model.forecaster import build_forecaster
from informer.training.checkpoint import TrainingState
from informer.training.loop import (
    EpochRecord,
    FitResult,
    fit,
    loss_function,
    make_optimizer,
    split_loss,
    train_step,
)
from informer.training.schedule import learning_rate

CPU = torch.device("cpu")
SEQ_LEN, LABEL_LEN, PRED_LEN = 16, 8, 4


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    path = tmp_path_factory.mktemp("loop") / "series.csv"
    synthetic_frame(200, 3).to_csv(path, index=False)
    return prepare(DataConfig(data=str(path), seq_len=SEQ_LEN, label_len=LABEL_LEN, pred_len=PRED_LEN))


def tiny_model(data, kind: str = "linear", *, init_seed: int = 0, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(init_seed)
    config = ModelConfig(kind=kind, d_model=16, n_heads=2, e_layers=1, d_layers=1, d_ff=32, dropout=dropout,
                         moving_avg=5)
    return build_forecaster(config, enc_in=data.n_columns, c_out=len(data.output_columns), seq_len=SEQ_LEN,
                            label_len=LABEL_LEN, pred_len=PRED_LEN, freq=data.series.letter)


def train_config(**changes) -> TrainConfig:
    settings = {"epochs": 3, "batch_size": 16, "lr": 0.01, "patience": 10, "device": "cpu"}
    return TrainConfig(**{**settings, **changes})


def weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def assert_same_weights(left: dict[str, torch.Tensor], right: dict[str, torch.Tensor]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        assert torch.equal(left[name], right[name]), name


def sabotage_after(epoch: int, model: nn.Module, *, value: float, saved: dict):
    """An on_epoch_end callback that keeps the state of ``epoch`` and then ruins the weights
    (adds ``value`` to every parameter), so later epochs are deterministically worse."""

    def callback(state: TrainingState) -> None:
        saved.setdefault("epochs", []).append(state.epoch)
        if state.epoch == epoch:
            saved["weights"] = weights(model)
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.add_(value)

    return callback


# ---------------------------------------------------------------- small pieces


def test_loss_function_names_and_values():
    pred, true = torch.tensor([0.0, 3.0]), torch.tensor([1.0, 0.0])
    assert float(loss_function("mse")(pred, true)) == pytest.approx((1 + 9) / 2)
    assert float(loss_function("mae")(pred, true)) == pytest.approx((1 + 3) / 2)
    assert float(loss_function("huber")(pred, true)) == pytest.approx((0.5 * 1 + (3 - 0.5)) / 2)  # delta 1
    with pytest.raises(KeyError):
        loss_function("rmse")


def test_make_optimizer_is_adam_over_every_parameter_and_steps_like_plain_adam(data):
    model, reference = tiny_model(data), tiny_model(data)
    optimizer = make_optimizer(model, lr=0.003)
    assert isinstance(optimizer, torch.optim.Adam)
    assert optimizer.param_groups[0]["lr"] == 0.003
    assert [id(p) for p in optimizer.param_groups[0]["params"]] == [id(p) for p in model.parameters()]
    plain = torch.optim.Adam(reference.parameters(), lr=0.003, fused=False, foreach=False)
    batch = next(iter(torch.utils.data.DataLoader(data.dataset("train"), batch_size=8)))
    for net, opt in ((model, optimizer), (reference, plain)):
        for _ in range(3):
            opt.zero_grad()
            x, y = batch[0], batch[1]
            loss = nn.functional.mse_loss(net(Batch(x, batch[2], y, batch[3])), y[:, LABEL_LEN:])
            loss.backward()
            opt.step()
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(tensor, reference.state_dict()[name], rtol=1e-6, atol=1e-7)


def test_split_loss_weights_every_window_equally():
    """Repeat on a known array: the mean over windows of each window's MSE, for any batch size."""
    rng = np.random.default_rng(1)
    values = rng.normal(size=(30, 2)).astype(np.float32)
    dataset = WindowDataset(values, np.zeros((30, 4), np.float32), seq_len=6, label_len=3, pred_len=2)
    model = Repeat(enc_in=2, c_out=2, seq_len=6, pred_len=2, label_len=3)
    per_window = [np.mean((values[i + 6 : i + 8] - values[i + 5]) ** 2) for i in range(len(dataset))]

    class Data:  # the two attributes split_loss reads
        config = DataConfig(data="unused", features="M", seq_len=6, label_len=3, pred_len=2)

        @staticmethod
        def dataset(split):
            assert split == "val"
            return dataset

    for batch_size in (1, 4, 7, 100):  # 23 windows: ragged last batches
        got = split_loss(model, Data, "val", config=train_config(batch_size=batch_size), device=CPU,
                         criterion=nn.MSELoss(), seed=0)
        assert got == pytest.approx(np.mean(per_window), rel=1e-6)


def _step_inputs(model):
    return dict(optimizer=make_optimizer(model, lr=0.01), criterion=nn.MSELoss(),
                grad_scaler=torch.amp.GradScaler("cuda", enabled=False), features="M", device=CPU,
                generator=None, amp=False)


def test_train_step_returns_the_loss_and_moves_the_weights(data):
    model = tiny_model(data)
    batch = next(iter(torch.utils.data.DataLoader(data.dataset("train"), batch_size=8)))
    with torch.no_grad():
        expected = float(nn.functional.mse_loss(model(Batch(batch[0], batch[2], batch[1], batch[3])),
                                                batch[1][:, LABEL_LEN:]))
    before = weights(model)
    value = train_step(model, batch, **_step_inputs(model))
    assert value == pytest.approx(expected, rel=1e-6)
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_train_step_with_a_non_finite_loss_leaves_the_weights_unchanged(data, bad):
    model = tiny_model(data)
    x, y, x_mark, y_mark = next(iter(torch.utils.data.DataLoader(data.dataset("train"), batch_size=8)))
    x = x.clone()
    x[0, 3, 1] = bad
    inputs = _step_inputs(model)
    before = weights(model)
    value = train_step(model, (x, y, x_mark, y_mark), **inputs)
    assert not np.isfinite(value)
    assert_same_weights(weights(model), before)
    assert not inputs["optimizer"].state  # no Adam moment was touched either


# ---------------------------------------------------------------- fit


def test_history_has_one_record_per_epoch_with_the_type1_rates(data):
    model = tiny_model(data)
    result = fit(model, data, train_config(epochs=4, lr=0.01), device=CPU, seed=0)
    assert isinstance(result, FitResult) and all(isinstance(r, EpochRecord) for r in result.history)
    assert [r.epoch for r in result.history] == [1, 2, 3, 4]
    # type1 as published: two epochs at lr, then halved every epoch
    assert [r.lr for r in result.history] == pytest.approx([0.01, 0.01, 0.005, 0.0025])
    assert [r.lr for r in result.history] == [learning_rate(e, base=0.01, schedule="type1") for e in range(1, 5)]
    assert all(np.isfinite([r.train_loss, r.val_loss, r.test_loss]).all() for r in result.history)
    assert result.history[0].val_loss < 1.0  # it learned something: scaled data have variance ~1
    val = [r.val_loss for r in result.history]
    assert result.best_epoch == int(np.argmin(val)) + 1 and result.best_val_loss == min(val)
    assert not result.stopped_early and result.train_seconds > 0


def test_constant_schedule_keeps_the_rate(data):
    result = fit(tiny_model(data), data, train_config(epochs=3, lradj="constant"), device=CPU, seed=0)
    assert [r.lr for r in result.history] == [0.01, 0.01, 0.01]


def test_last_epoch_losses_are_the_returned_models_split_losses(data):
    model = tiny_model(data)
    config = train_config(epochs=2, lr=0.001, lradj="constant")
    result = fit(model, data, config, device=CPU, seed=0)
    assert result.best_epoch == 2  # a small steady rate keeps improving on this smooth series
    for split, recorded in (("val", result.history[-1].val_loss), ("test", result.history[-1].test_loss)):
        assert split_loss(model, data, split, config=config, device=CPU, criterion=nn.MSELoss(),
                          seed=0) == recorded


@pytest.mark.parametrize("patience", [1, 2])
def test_early_stopping_and_the_best_epochs_weights_are_returned(data, patience):
    """Ruining the weights after epoch 1 (and training at a rate too small to recover) makes
    every later epoch worse: the loop stops after ``patience`` bad epochs and hands back epoch 1."""
    model = tiny_model(data)
    saved: dict = {}
    config = train_config(epochs=6, lr=1e-5, lradj="constant", patience=patience)
    result = fit(model, data, config, device=CPU, seed=0,
                 on_epoch_end=sabotage_after(1, model, value=5.0, saved=saved))
    assert result.stopped_early
    assert [r.epoch for r in result.history] == list(range(1, 2 + patience)) == saved["epochs"]
    assert all(r.val_loss > result.history[0].val_loss for r in result.history[1:])
    assert result.best_epoch == 1 and result.best_val_loss == result.history[0].val_loss
    assert_same_weights(weights(model), saved["weights"])
    recomputed = split_loss(model, data, "val", config=config, device=CPU, criterion=nn.MSELoss(), seed=0)
    assert recomputed == result.history[result.best_epoch - 1].val_loss


def test_on_epoch_end_receives_the_whole_state_after_each_epoch(data):
    model = tiny_model(data)
    states: list[TrainingState] = []
    result = fit(model, data, train_config(epochs=3), device=CPU, seed=0,
                 on_epoch_end=lambda state: states.append(copy.deepcopy(state)))
    assert [s.epoch for s in states] == [1, 2, 3]
    for state in states:
        assert isinstance(state, TrainingState)
        assert len(state.history) == state.epoch
        assert state.history == [vars(r) for r in result.history[: state.epoch]]
        assert state.model.keys() == state.best_model.keys() == model.state_dict().keys()
        assert set(state.rng) == {"torch", "shuffle", "sampling"}
        assert state.optimizer["param_groups"][0]["lr"] == result.history[state.epoch - 1].lr
        assert state.stopper["best_epoch"] == state.best_epoch
        assert state.grad_scaler == {}  # disabled on the CPU
    assert_same_weights(states[-1].best_model, weights(model))


def test_a_loss_that_becomes_infinite_raises_with_the_partial_result(data):
    model = tiny_model(data)
    saved: dict = {}
    with pytest.raises(NonFiniteLossError, match="epoch 2, step 1") as caught:
        fit(model, data, train_config(epochs=4), device=CPU, seed=0,
            on_epoch_end=sabotage_after(1, model, value=float("inf"), saved=saved))
    partial = caught.value.result
    assert isinstance(partial, FitResult)
    assert [r.epoch for r in partial.history] == [1] and partial.best_epoch == 1
    assert_same_weights(weights(model), saved["weights"])  # the best weights are restored first


def test_a_model_that_overflows_from_the_start_raises_in_epoch_one(data):
    model = tiny_model(data)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(3e38)  # float32 max is 3.4e38: the forecast overflows
    with pytest.raises(NonFiniteLossError) as caught:
        fit(model, data, train_config(), device=CPU, seed=0)
    assert caught.value.result.history == [] and caught.value.result.best_epoch == 0


@pytest.mark.parametrize("kind, dropout", [("linear", 0.0), ("informer", 0.1)])
def test_resuming_after_epoch_one_ends_exactly_as_an_uninterrupted_run(data, kind, dropout):
    """Informer with dropout also draws from the torch generator and samples ProbSparse keys."""
    config = train_config(epochs=3, batch_size=32)
    whole_model = tiny_model(data, kind, dropout=dropout)
    whole = fit(whole_model, data, config, device=CPU, seed=7)

    class Killed(Exception):
        pass

    kept: list[TrainingState] = []

    def kill_after_first_epoch(state):
        kept.append(copy.deepcopy(state))
        raise Killed

    with pytest.raises(Killed):
        fit(tiny_model(data, kind, dropout=dropout), data, config, device=CPU, seed=7,
            on_epoch_end=kill_after_first_epoch)
    resumed_model = tiny_model(data, kind, init_seed=99, dropout=dropout)  # other weights: the state decides
    resumed = fit(resumed_model, data, config, device=CPU, seed=7, resume=kept[0])

    assert_same_weights(weights(resumed_model), weights(whole_model))
    assert len(resumed.history) == len(whole.history) == 3
    for got, want in zip(resumed.history, whole.history):
        assert (got.epoch, got.train_loss, got.val_loss, got.test_loss, got.lr) == (
            want.epoch, want.train_loss, want.val_loss, want.test_loss, want.lr)
    assert (resumed.best_epoch, resumed.best_val_loss) == (whole.best_epoch, whole.best_val_loss)


def test_resuming_a_run_that_had_stopped_early_trains_no_more(data):
    model = tiny_model(data)
    states: list[TrainingState] = []
    saved: dict = {}
    sabotage = sabotage_after(1, model, value=5.0, saved=saved)

    def keep(state):
        sabotage(state)
        states.append(copy.deepcopy(state))

    config = train_config(epochs=5, lr=1e-5, lradj="constant", patience=1)
    fit(model, data, config, device=CPU, seed=0, on_epoch_end=keep)
    assert states[-1].epoch == 2 and states[-1].stopper["bad_epochs"] == 1
    fresh = tiny_model(data, init_seed=5)
    result = fit(fresh, data, config, device=CPU, seed=0, resume=states[-1])
    assert [r.epoch for r in result.history] == [1, 2] and result.best_epoch == 1
    assert_same_weights(weights(fresh), saved["weights"])


def test_resuming_a_run_that_had_stopped_early_reports_it(data):
    model = tiny_model(data)
    states: list[TrainingState] = []
    sabotage = sabotage_after(1, model, value=5.0, saved={})

    def keep(state):
        sabotage(state)
        states.append(copy.deepcopy(state))

    config = train_config(epochs=5, lr=1e-5, lradj="constant", patience=1)
    whole = fit(model, data, config, device=CPU, seed=0, on_epoch_end=keep)
    assert whole.stopped_early
    resumed = fit(tiny_model(data), data, config, device=CPU, seed=0, resume=states[-1])
    assert resumed.stopped_early


def test_progress_lines_for_output_that_is_not_a_terminal(data, caplog):
    """Issue 13, finding 7: without a progress bar, a line every log_every seconds within an epoch."""
    model = tiny_model(data)
    with caplog.at_level("INFO", logger="informer"):
        fit(model, data, train_config(epochs=1, batch_size=4), device=CPU, seed=0, log_every=1e-9)
    lines = [r.getMessage() for r in caplog.records if "steps/s" in r.getMessage()]
    assert lines and lines[0].startswith("epoch 1/1: step 1/") and "left in this epoch" in lines[0]
    caplog.clear()
    with caplog.at_level("INFO", logger="informer"):
        fit(tiny_model(data), data, train_config(epochs=1, batch_size=4), device=CPU, seed=0)
    assert not [r for r in caplog.records if "steps/s" in r.getMessage()]
