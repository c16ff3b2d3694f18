"""The one place a window batch meets a model: decoder input, target columns, autocast.

Training, evaluation, forecasting and the benchmarks all call :func:`run_batch` (or
:func:`predictions`, which loops it over a dataset); nothing else calls a model. What comes in
is a :data:`Windows` tuple, as a :class:`~informer.data.windows.WindowDataset` yields it, stacked:

* ``x`` (B, seq_len, C): the encoder window, scaled;
* ``y`` (B, label_len + pred_len, C): the known decoder start and the steps to predict, or only
  the ``label_len`` known steps when the future is not known (forecasting);
* ``x_mark`` (B, seq_len, F) and ``y_mark`` (B, label_len + pred_len, F): time features;
* with a cycle, ``x_phase`` (B, seq_len) and ``y_phase`` (B, label_len + pred_len): each step's
  position in it.

What goes into a model is a :class:`Batch`: the same tensors under names, with the decoder input
built from the known steps.

The model may be wrapped (``DistributedDataParallel``, ``torch.compile``): it is called as
given, and :func:`unwrap` finds the forecaster inside for its settings.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from informer.data.pipeline import target_columns
from informer.data.windows import decoder_input

# (x, y, x_mark, y_mark) or (x, y, x_mark, y_mark, x_phase, y_phase): see the module docstring.
Windows = Sequence[Tensor]


@dataclass(frozen=True)
class Batch:
    """What every forecaster's ``forward`` takes: one batch of windows, under names.

    Shapes use the legend of :mod:`informer.model` (B batch, C channels, F time features).
    A part of a composed model (:mod:`informer.model.parts`) hands the model inside it a changed
    copy (:meth:`replace`); a field it does not touch travels on as it is.
    """

    x_enc: Tensor  # (B, seq_len, C) encoder input, scaled
    x_mark_enc: Tensor  # (B, seq_len, F) its time features
    x_dec: Tensor  # (B, label_len + pred_len, C) decoder input: the known steps, then zeros
    x_mark_dec: Tensor  # (B, label_len + pred_len, F) its time features
    phase_enc: Tensor | None = None  # (B, seq_len) int64: each encoder step's position in the cycle
    phase_dec: Tensor | None = None  # (B, label_len + pred_len) int64: each decoder step's position
    # How x_enc relates to the data's (train-scaled) units, set by a normalisation part:
    # data = x_enc * scale + loc. None: x_enc is in the data's units.
    loc: Tensor | None = None  # (B, 1, C)
    scale: Tensor | None = None  # (B, 1, C)
    # Room for inputs no model reads yet; a model refuses a batch that sets one it does not read.
    future_covariates: Tensor | None = None  # (B, label_len + pred_len, K) known ahead (weather forecasts)
    static_covariates: Tensor | None = None  # (B, K) one value per series
    series_id: Tensor | None = None  # (B,) int64: which series each window comes from

    def replace(self, **changes: Tensor | None) -> "Batch":
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)

    @property
    def size(self) -> int:
        """The number of windows, B."""
        return self.x_enc.shape[0]


def unwrap(model: nn.Module) -> nn.Module:
    """The forecaster inside a ``DistributedDataParallel`` or ``torch.compile`` wrapper."""
    while True:
        inner = next((m for m in (getattr(model, name, None) for name in ("module", "_orig_mod"))
                      if isinstance(m, nn.Module)), None)
        if inner is None:
            return model
        model = inner


def amp_dtype(device: torch.device, amp: bool | str | None) -> torch.dtype | None:
    """The autocast type ``amp`` means on ``device``: ``bf16``/``fp16`` that type (fp16 becomes
    bf16 on a CPU, where fp16 is emulated: a run trained with fp16 on a GPU evaluated on a CPU);
    True or ``on`` the device's half precision (bf16 on the CPU, fp16 on CUDA); False, None,
    ``off`` or ``fp32`` none (``auto`` is resolved before training: informer.precision)."""
    if amp == "bf16" or (amp == "fp16" and device.type == "cpu"):  # a GPU's fp16 run on a CPU: bf16
        return torch.bfloat16
    if amp == "fp16":
        return torch.float16
    if amp is True or amp == "on":
        return torch.float16 if device.type == "cuda" else torch.bfloat16
    if amp in (False, None, "off", "fp32"):
        return None
    raise ValueError(f"amp must be off, on, bf16, fp16 or a bool here (auto is resolved first); got {amp!r}")


def autocast(device: torch.device, amp: bool | str | None) -> contextlib.AbstractContextManager:
    """Mixed precision as :func:`amp_dtype` says; a no-op without it."""
    dtype = amp_dtype(device, amp)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def eval_generator(device: torch.device, seed: int) -> torch.Generator:
    """A fresh seeded generator: every evaluation pass samples ProbSparse keys the same way.

    It lives on the CPU whatever ``device`` is (the sampled key indices are drawn there and
    moved, a few kilobytes): a run evaluates and forecasts with the same keys on a GPU as on the
    CPU. Evaluation draws nothing else (no dropout)."""
    del device  # the same generator for every device
    return torch.Generator().manual_seed(seed)


def batch_seed(seed: int, index: int) -> int:
    """The seed of an evaluation's batch ``index``: each batch draws its ProbSparse keys from its
    own seed, so a batch's forecast does not depend on which batches were computed before it (or
    on which process, under torchrun). Batch 0 uses ``seed`` itself."""
    return seed + index


def model_batch(windows: Windows, *, pred_len: int, device: torch.device) -> tuple[Batch, Tensor]:
    """The :class:`Batch` for a model forecasting ``pred_len`` steps, on ``device``, and ``y``.

    Raises:
        ValueError: if ``y_mark`` is shorter than ``pred_len``, ``y`` has fewer than
            ``label_len`` rows, or the tuple is neither four nor six tensors long.
    """
    if len(windows) not in (4, 6):
        raise ValueError(f"expected (x, y, x_mark, y_mark[, x_phase, y_phase]), got {len(windows)} tensors")
    x, y, x_mark, y_mark, *phases = (t.to(device, non_blocking=True) for t in windows)
    label_len = y_mark.shape[1] - pred_len
    if label_len < 0 or y.shape[1] not in (label_len, label_len + pred_len):
        raise ValueError(
            f"expected y (B, {max(label_len, 0)}[+{pred_len}], C) and y_mark (B, label_len + {pred_len}, F), "
            f"got {tuple(y.shape)} and {tuple(y_mark.shape)}"
        )
    x_dec = decoder_input(y[:, :label_len], pred_len=pred_len)  # (B, label_len + pred_len, C)
    phase_enc, phase_dec = phases or (None, None)
    return Batch(x, x_mark, x_dec, y_mark, phase_enc=phase_enc, phase_dec=phase_dec), y


def run_batch(
    model: nn.Module,
    batch: Windows,
    *,
    features: str,
    device: torch.device,
    generator: torch.Generator | None,
    amp: bool | str = False,
) -> tuple[Tensor, Tensor | None]:
    """One window batch through the model (``batch``: a :data:`Windows` tuple).

    Returns:
        ``(forecast, truth)``: the forecast (B, pred_len, c_out) in float32 and scaled units, and
        the true values of the predicted columns (B, pred_len, c_out) on ``device``, or None when
        ``y`` holds only the known steps.

    Raises:
        ValueError: if ``y_mark`` is shorter than the model's ``pred_len`` or ``y`` has fewer
            than ``label_len`` rows.
    """
    pred_len = unwrap(model).pred_len
    inputs, y = model_batch(batch, pred_len=pred_len, device=device)
    label_len = inputs.x_dec.shape[1] - pred_len
    with autocast(device, amp):
        out = model(inputs, generator=generator)  # (B, pred_len, c_out)
    truth = y[:, label_len:, target_columns(features)] if y.shape[1] > label_len else None
    return out.float(), truth


@torch.no_grad()
def predictions(
    model: nn.Module,
    dataset: Dataset,
    *,
    features: str,
    batch_size: int,
    device: torch.device,
    seed: int,
    amp: bool | str = False,
    shard: tuple[int, int] = (0, 1),
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(forecast, truth)`` batches in scaled units, (B, pred_len, c_out) each, every window
    once, in order, each batch with its own seeded generator (:func:`batch_seed`: the same keys
    sampled on every pass).

    ``shard=(rank, world_size)`` yields only the batches ``rank, rank + world_size, ...``: the
    processes of a torchrun job share a split's batches, each computed exactly as alone.

    Raises:
        ValueError: if the dataset's windows hold only the known steps (no truth to compare).
    """
    rank, world_size = shard
    n = len(dataset)
    batches = [range(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    mine = list(range(rank, len(batches), world_size))
    was_training = model.training
    model.eval()
    generator = eval_generator(device, seed)
    try:
        loader = DataLoader(dataset, batch_sampler=[batches[k] for k in mine])
        for index, batch in zip(mine, loader):
            generator.manual_seed(batch_seed(seed, index))
            out, truth = run_batch(model, batch, features=features, device=device, generator=generator, amp=amp)
            if truth is None:
                raise ValueError("predictions need windows with their future: y (B, label_len + pred_len, C)")
            yield out.cpu().numpy(), truth.cpu().numpy()
    finally:
        model.train(was_training)
