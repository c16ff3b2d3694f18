"""informer.batches: the one path from a window batch to a forecast."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from informer.batches import autocast, eval_generator, predictions, run_batch, unwrap
from informer.data.windows import WindowDataset
from informer.model.baselines import Linear, Repeat

CPU = torch.device("cpu")


class Wrapper(nn.Module):
    """Stands in for DistributedDataParallel / torch.compile: calls through, hides the settings."""

    def __init__(self, inner: nn.Module, attribute: str) -> None:
        super().__init__()
        setattr(self, attribute, inner)
        self.attribute = attribute

    def forward(self, *args, **kwargs):
        return getattr(self, self.attribute)(*args, **kwargs)


def batch(b=2, seq_len=8, label_len=4, pred_len=3, channels=3, marks=4, future=True):
    torch.manual_seed(0)
    y_len = label_len + pred_len if future else label_len
    return (torch.randn(b, seq_len, channels), torch.randn(b, y_len, channels), torch.randn(b, seq_len, marks),
            torch.randn(b, label_len + pred_len, marks))


@pytest.mark.parametrize(("features", "c_out"), [("M", 3), ("MS", 1), ("S", 1)])
def test_forecast_and_truth_follow_the_features(features, c_out):
    channels = 1 if features == "S" else 3
    model = Repeat(enc_in=channels, c_out=c_out, seq_len=8, pred_len=3)
    x, y, x_mark, y_mark = batch(channels=channels)
    out, truth = run_batch(model, (x, y, x_mark, y_mark), features=features, device=CPU, generator=None)
    assert out.shape == truth.shape == (2, 3, c_out)
    assert torch.equal(truth, y[:, 4:, -c_out:])
    assert torch.equal(out, x[:, -1:, -c_out:].expand(-1, 3, -1))


def test_without_future_steps_there_is_no_truth():
    out, truth = run_batch(Repeat(enc_in=3, c_out=3, seq_len=8, pred_len=3), batch(future=False), features="M",
                           device=CPU, generator=None)
    assert out.shape == (2, 3, 3) and truth is None


def test_mismatched_lengths_are_refused():
    x, y, x_mark, y_mark = batch()
    with pytest.raises(ValueError, match="y_mark"):
        run_batch(Repeat(enc_in=3, c_out=3, seq_len=8, pred_len=3), (x, y[:, :5], x_mark, y_mark), features="M",
                  device=CPU, generator=None)
    with pytest.raises(ValueError, match="y_mark"):
        run_batch(Repeat(enc_in=3, c_out=3, seq_len=8, pred_len=9), (x, y, x_mark, y_mark), features="M",
                  device=CPU, generator=None)


@pytest.mark.parametrize("attribute", ["module", "_orig_mod"])
def test_wrapped_models_run_and_unwrap(attribute):
    inner = Linear(enc_in=3, c_out=3, seq_len=8, pred_len=3, moving_avg=3)
    wrapped = Wrapper(Wrapper(inner, attribute), "module")
    assert unwrap(wrapped) is inner and unwrap(inner) is inner
    direct, _ = run_batch(inner, batch(), features="M", device=CPU, generator=None)
    through, _ = run_batch(wrapped, batch(), features="M", device=CPU, generator=None)
    assert torch.equal(direct, through)


def test_autocast_computes_in_bf16_and_returns_float32():
    model = Linear(enc_in=3, c_out=3, seq_len=8, pred_len=3, moving_avg=3)
    plain, _ = run_batch(model, batch(), features="M", device=CPU, generator=None)
    mixed, _ = run_batch(model, batch(), features="M", device=CPU, generator=None, amp=True)
    assert mixed.dtype == torch.float32
    assert not torch.equal(plain, mixed) and torch.allclose(plain, mixed, atol=0.1)
    with autocast(CPU, False):
        assert not torch.is_autocast_enabled("cpu")


def test_predictions_see_every_window_once_in_order_and_restore_training_mode():
    values = torch.arange(40 * 2, dtype=torch.float32).reshape(40, 2)
    dataset = WindowDataset(values, torch.zeros(40, 3), seq_len=8, label_len=4, pred_len=3)
    model = Repeat(enc_in=2, c_out=2, seq_len=8, pred_len=3).train()
    chunks = list(predictions(model, dataset, features="M", batch_size=7, device=CPU, seed=0))
    forecasts = torch.cat([torch.from_numpy(f) for f, _ in chunks])
    truths = torch.cat([torch.from_numpy(t) for _, t in chunks])
    assert len(forecasts) == len(dataset) == 30
    for i in (0, 13, 29):
        assert torch.equal(forecasts[i, 0], values[i + 7]) and torch.equal(truths[i], values[i + 8 : i + 11])
    assert model.training


def test_evaluation_generator_is_fresh_and_seeded():
    a, b = eval_generator(CPU, 3), eval_generator(CPU, 3)
    assert torch.equal(torch.rand(4, generator=a), torch.rand(4, generator=b))


def test_unwrap_does_not_mistake_an_empty_container_for_no_wrapper():
    inner = Repeat(enc_in=3, c_out=3, seq_len=8, pred_len=3)
    wrapper = Wrapper(inner, "_orig_mod")
    wrapper.module = nn.ModuleList()  # an empty container is falsy, but it is a module
    assert unwrap(wrapper) is wrapper.module


def test_predictions_need_the_future():
    values = torch.zeros(30, 2)
    dataset = [(values[:8], values[8:12], torch.zeros(8, 3), torch.zeros(7, 3))]  # known steps only
    with pytest.raises(ValueError, match="future"):
        list(predictions(Repeat(enc_in=2, c_out=2, seq_len=8, pred_len=3), dataset, features="M", batch_size=1,
                         device=CPU, seed=0))
