"""Running a model over every window of a split, and the metrics of its forecasts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from informer.data.scaling import Scaler, inverse_scale
from informer.data.windows import WindowDataset, decoder_input
from informer.evaluation.metrics import MetricAccumulator


def target_columns(features: str) -> slice:
    """The columns of ``y`` the model predicts: the last one (the target) for MS, else all.

    For S there is one column; for M all of them; for MS the decoder reads every column but the
    loss and metrics use the target only, as in the published code.
    """
    return slice(-1, None) if features == "MS" else slice(0, None)


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """Mixed precision: bf16 on CPU, fp16 on CUDA; a no-op when disabled."""
    if not enabled:
        return contextlib.nullcontext()
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


def forward_batch(
    model: nn.Module,
    batch: tuple[torch.Tensor, ...],
    *,
    device: torch.device,
    generator: torch.Generator | None,
    amp: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One window batch through the model: ``(forecast (B, pred_len, c_out), y on device)``."""
    x, y, x_mark, y_mark = (t.to(device, non_blocking=True) for t in batch)
    label_len = y.shape[1] - model.pred_len
    x_dec = decoder_input(y, label_len=label_len, pred_len=model.pred_len)  # (B, label+pred, C)
    with autocast(device, amp):
        out = model(x, x_mark, x_dec, y_mark, generator=generator)  # (B, pred_len, c_out)
    return out.float(), y


def eval_generator(device: torch.device, seed: int) -> torch.Generator:
    """A fresh seeded generator: every evaluation pass samples ProbSparse keys the same way."""
    return torch.Generator(device=device).manual_seed(seed)


@torch.no_grad()
def predictions(
    model: nn.Module,
    dataset: WindowDataset,
    *,
    features: str,
    batch_size: int,
    device: torch.device,
    seed: int,
    amp: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(forecast, truth)`` batches in scaled units, (B, pred_len, c_out) each, every window once."""
    was_training = model.training
    model.eval()
    generator = eval_generator(device, seed)
    columns = target_columns(features)
    try:
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False, drop_last=False):
            out, y = forward_batch(model, batch, device=device, generator=generator, amp=amp)
            truth = y[:, -model.pred_len :, columns]
            yield out.cpu().numpy(), truth.cpu().numpy()
    finally:
        model.train(was_training)


def evaluate_model(
    model: nn.Module,
    dataset: WindowDataset,
    *,
    features: str,
    scaler: Scaler,
    batch_size: int,
    device: torch.device,
    seed: int,
    amp: bool = False,
) -> dict:
    """Metrics over every window of ``dataset``: scaled units at the top (the paper's
    convention), the same in original units under ``original_units``, and ``windows``.

    ``scaler`` holds the statistics of the predicted columns (all for M, the target otherwise).
    """
    scaled, original = MetricAccumulator(), MetricAccumulator()
    for pred, true in predictions(
        model, dataset, features=features, batch_size=batch_size, device=device, seed=seed, amp=amp
    ):
        scaled.update(pred, true)
        original.update(inverse_scale(pred, scaler), inverse_scale(true, scaler))
    result = scaled.result()
    result["original_units"] = original.result()
    result["windows"] = len(dataset)
    return result
