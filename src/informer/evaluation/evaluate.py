"""The metrics of a model's forecasts over every window of a split."""

from __future__ import annotations

import torch
from torch import nn

from informer.batches import predictions
from informer.data.scaling import Scaler, inverse_scale
from informer.data.windows import WindowDataset
from informer.distributed import SINGLE, Distributed
from informer.evaluation.metrics import MetricAccumulator


def evaluate_model(
    model: nn.Module,
    dataset: WindowDataset,
    *,
    features: str,
    scaler: Scaler,
    batch_size: int,
    device: torch.device,
    seed: int,
    amp: bool | str = False,
    job: Distributed = SINGLE,
) -> dict:
    """Metrics over every window of ``dataset``: scaled units at the top (the paper's
    convention), the same in original units under ``original_units``, and ``windows``.

    ``scaler`` holds the statistics of the predicted columns (all for M, the target otherwise).
    Under torchrun (``job``, every process calling), each process computes its share of the
    batches and the sums are added: the same metrics as one process computing them all.
    """
    scaled, original = MetricAccumulator(), MetricAccumulator()
    for pred, true in predictions(
        model, dataset, features=features, batch_size=batch_size, device=device, seed=seed, amp=amp,
        shard=(job.rank, job.world_size),
    ):
        scaled.update(pred, true)
        original.update(inverse_scale(pred, scaler), inverse_scale(true, scaler))
    if job.enabled:
        scaled, original = (MetricAccumulator.from_sums(job.sum(a.sums())) for a in (scaled, original))
    result = scaled.result()
    result["original_units"] = original.result()
    result["windows"] = len(dataset)
    return result
