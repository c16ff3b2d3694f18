"""The training loop: epochs of Adam steps, validation, LR schedule, early stopping.

It decides and computes; it writes no files. Whatever should survive an epoch (the run
directory, a resume state) is the caller's ``on_epoch_end`` callback's business.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler

from informer.batches import amp_dtype, predictions, run_batch, unwrap
from informer.config import TrainConfig
from informer.data.pipeline import PreparedData
from informer.distributed import SINGLE, Distributed
from informer.errors import NonFiniteLossError
from informer.model.checkpointing import set_activation_checkpointing
from informer.training.checkpoint import TrainingState
from informer.training.schedule import EarlyStopping, learning_rate

log = logging.getLogger(__name__)


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    val_loss: float
    test_loss: float
    lr: float
    seconds: float


@dataclass
class FitResult:
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0
    best_val_loss: float = math.inf
    stopped_early: bool = False
    train_seconds: float = 0.0


def loss_function(name: str) -> nn.Module:
    return {"mse": nn.MSELoss(), "mae": nn.L1Loss(), "huber": nn.HuberLoss()}[name]


def split_loss(model: nn.Module, data: PreparedData, split: str, *, config: TrainConfig, device: torch.device,
               criterion: nn.Module, seed: int, job: Distributed = SINGLE) -> float:
    """Mean loss over every window of a split (each window weighted equally); under torchrun
    each process takes its share of the batches and the sums are added."""
    total, count = 0.0, 0
    for pred, true in predictions(model, data.dataset(split), features=data.config.features,
                                  batch_size=config.batch_size, device=device, seed=seed, amp=config.amp,
                                  shard=(job.rank, job.world_size)):
        total += float(criterion(torch.from_numpy(pred), torch.from_numpy(true))) * pred.shape[0]
        count += pred.shape[0]
    total, count = job.sum([total, count])
    return total / count


def make_optimizer(model: nn.Module, *, lr: float, linear_lr: float | None = None) -> torch.optim.Optimizer:
    """Adam, as published; the fused kernel where this torch has it (same update, a third of
    the time of the default on the CPU).

    With ``linear_lr``, the parameters of the model's linear parts (a composed model's
    ``linear_parameters()``: a linear skip, a learned cycle) form a second group whose learning
    rate is ``linear_lr`` where the others' is ``lr`` (the group's ``lr_scale``, kept through
    the schedule: both halve together)."""
    groups: list[dict] = [{"params": list(model.parameters())}]
    linear_parameters = getattr(unwrap(model), "linear_parameters", None)
    if linear_lr is not None and linear_parameters is not None:
        linear = {id(p) for p in linear_parameters()}
        if linear:
            groups = [{"params": [p for p in model.parameters() if id(p) not in linear]},
                      {"params": [p for p in model.parameters() if id(p) in linear], "lr_scale": linear_lr / lr}]
    for group in groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    try:
        return torch.optim.Adam(groups, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch: no fused Adam for this device
        return torch.optim.Adam(groups, lr=lr)


def train_step(
    model: nn.Module,
    batch: tuple[torch.Tensor, ...],
    *,
    optimizer: torch.optim.Optimizer,
    criterion: nn.Module,
    grad_scaler: torch.amp.GradScaler,
    features: str,
    device: torch.device,
    generator: torch.Generator | None,
    amp: bool | str,
    job: Distributed = SINGLE,
) -> float:
    """One optimisation step on a window batch; returns the loss (under torchrun, the mean over
    the processes' batches, the same on each). A non-finite loss is returned without stepping,
    on every process, so the weights stay as they were."""
    optimizer.zero_grad(set_to_none=True)
    out, truth = run_batch(model, batch, features=features, device=device, generator=generator, amp=amp)
    loss = criterion(out, truth)
    value = float(loss.detach()) if not job.enabled else job.sum([float(loss.detach())])[0] / job.world_size
    if math.isfinite(value):
        grad_scaler.scale(loss).backward()
        grad_scaler.step(optimizer)
        grad_scaler.update()
    return value


def fit(
    model: nn.Module,
    data: PreparedData,
    config: TrainConfig,
    *,
    device: torch.device,
    seed: int,
    progress: bool = False,
    log_every: float | None = None,
    resume: TrainingState | None = None,
    on_epoch_end: Callable[[TrainingState], None] | None = None,
    job: Distributed = SINGLE,
) -> FitResult:
    """Train ``model`` (on ``device`` already) in place and restore the weights of its best
    validation epoch.

    ``progress`` shows a progress bar; ``log_every`` logs a progress line every that many seconds
    (when there is no bar). ``on_epoch_end`` receives the whole training state after each epoch (to save it);
    ``resume`` continues from such a state, so that a run resumed after any epoch ends exactly
    as an uninterrupted one (on the CPU, with the same seed).

    Under torchrun (``job``), the model trains wrapped in DistributedDataParallel: each process
    takes ``batch_size / world_size`` windows of each global batch (a DistributedSampler,
    reshuffled every epoch from ``seed``), draws its dropout and ProbSparse keys from its own
    seed (:meth:`Distributed.seed`), and the validation and test losses are computed once over
    the whole split; every process takes the same decisions. ``on_epoch_end`` then holds every
    process's generator states.

    Raises:
        NonFiniteLossError: at the first NaN or infinite training loss; the best weights so far
            are restored first and the partial result is the error's ``result``.
    """
    torch.manual_seed(job.seed(seed))
    set_activation_checkpointing(model, config.checkpoint_activations)
    train_set = data.dataset("train")
    shuffle = torch.Generator().manual_seed(seed)
    sampler = None
    batch_size = config.batch_size // job.world_size
    if job.enabled:
        sampler = DistributedSampler(train_set, num_replicas=job.world_size, rank=job.rank, shuffle=True, seed=seed,
                                     drop_last=True)
    loader = DataLoader(
        train_set,
        batch_size=batch_size,
        shuffle=sampler is None,
        sampler=sampler,
        drop_last=len(train_set) >= config.batch_size,  # published: drop the ragged last batch
        generator=shuffle if sampler is None else None,
        num_workers=config.num_workers,
        persistent_workers=config.num_workers > 0,
    )
    sampling = torch.Generator(device=device).manual_seed(job.seed(seed) + 1)
    net = model
    if job.enabled:
        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    optimizer = make_optimizer(model, lr=config.lr, linear_lr=config.linear_lr)
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda" and amp_dtype(device, config.amp) == torch.float16)
    criterion = loss_function(config.loss)
    stopper = EarlyStopping(config.patience)
    result = FitResult()
    best_state = copy.deepcopy(model.state_dict())
    first_epoch = 1
    elapsed = 0.0
    if resume is not None:
        model.load_state_dict(resume.model)
        best_state = {k: v.to(device) for k, v in resume.best_model.items()}
        optimizer.load_state_dict(resume.optimizer)
        if resume.grad_scaler:
            scaler.load_state_dict(resume.grad_scaler)
        stopper = EarlyStopping(**resume.stopper)
        result.history = [EpochRecord(**record) for record in resume.history]
        result.best_epoch, result.best_val_loss = resume.best_epoch, stopper.best
        rng = rank_rng(resume.rng, job.rank)
        torch.set_rng_state(rng["torch"])
        shuffle.set_state(rng["shuffle"])
        sampling.set_state(rng["sampling"])
        first_epoch, elapsed = resume.epoch + 1, resume.train_seconds
        log.info("resuming after epoch %d", resume.epoch)
        if stopper.should_stop:
            first_epoch = config.epochs + 1  # it had stopped early; nothing left to do
            result.stopped_early = True
    started = time.perf_counter() - elapsed
    show_bar = progress and job.main  # under torchrun the other processes stay quiet

    for epoch in range(first_epoch, config.epochs + 1):
        rate = learning_rate(epoch, base=config.lr, schedule=config.lradj)
        for group in optimizer.param_groups:
            group["lr"] = rate * group.get("lr_scale", 1.0)
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        epoch_start = time.perf_counter()
        running, steps = 0.0, 0
        last_line = epoch_start
        bar = _progress(loader, epoch, config.epochs, enabled=show_bar)
        for step, batch in enumerate(bar, start=1):
            value = train_step(net, batch, optimizer=optimizer, criterion=criterion, grad_scaler=scaler,
                               features=data.config.features, device=device, generator=sampling,
                               amp=config.amp, job=job)
            if not math.isfinite(value):
                model.load_state_dict(best_state)
                result.train_seconds = time.perf_counter() - started
                error = NonFiniteLossError(
                    f"training loss became {value} at epoch {epoch}, step {step}; likely causes: a learning "
                    "rate too high (try `lr=1e-5`), extreme values in the data, or `amp` overflow"
                )
                error.result = result
                raise error
            running += value
            steps += 1
            if show_bar:
                bar.set_postfix(loss=f"{running / steps:.4f}", lr=f"{rate:.2e}")
            elif log_every and time.perf_counter() - last_line >= log_every:
                last_line = time.perf_counter()
                speed = step / (last_line - epoch_start)
                log.info("epoch %d/%d: step %d/%d (%.0f%%), loss %.4f, %.2f steps/s, about %.0f s left in this epoch",
                         epoch, config.epochs, step, len(loader), 100 * step / len(loader), running / steps, speed,
                         (len(loader) - step) / speed)
        train_loss = running / max(steps, 1)
        job.share_buffers(model)
        val_loss = split_loss(model, data, "val", config=config, device=device, criterion=criterion, seed=seed, job=job)
        test_loss = split_loss(model, data, "test", config=config, device=device, criterion=criterion, seed=seed,
                               job=job)
        record = EpochRecord(epoch, train_loss, val_loss, test_loss, rate, time.perf_counter() - epoch_start)
        result.history.append(record)
        log.info(
            "epoch %d/%d: train %.6f, val %.6f, test %.6f, lr %.3g, %.1f s",
            epoch, config.epochs, train_loss, val_loss, test_loss, rate, record.seconds,
        )  # fmt: skip
        if stopper.update(val_loss, epoch):
            best_state = copy.deepcopy(model.state_dict())
            result.best_epoch, result.best_val_loss = epoch, val_loss
        result.train_seconds = time.perf_counter() - started
        rng = {"torch": torch.get_rng_state(), "shuffle": shuffle.get_state(), "sampling": sampling.get_state()}
        if job.enabled:  # every process's generators, for an exact resume of each
            rng = merge_rng(job.gather({k: v.cpu() for k, v in rng.items()}))
        if on_epoch_end is not None:
            on_epoch_end(
                TrainingState(
                    epoch=epoch,
                    model=model.state_dict(),
                    best_model=best_state,
                    optimizer=optimizer.state_dict(),
                    stopper=stopper.state(),
                    history=[vars(r) for r in result.history],
                    rng=rng,
                    best_epoch=result.best_epoch,
                    train_seconds=result.train_seconds,
                    grad_scaler=scaler.state_dict() if scaler.is_enabled() else {},
                    world_size=job.world_size,
                )
            )
        if stopper.should_stop:
            log.info("early stopping: no better validation loss for %d epochs", config.patience)
            result.stopped_early = True
            break

    model.load_state_dict(best_state)
    result.train_seconds = time.perf_counter() - started
    return result


def merge_rng(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The generator states of every process in one dict: rank 0's under their own names, rank
    r's as ``name.rank<r>``."""
    merged = dict(states[0])
    for rank, state in enumerate(states[1:], start=1):
        merged.update({f"{name}.rank{rank}": value for name, value in state.items()})
    return merged


def rank_rng(states: dict[str, torch.Tensor], rank: int) -> dict[str, torch.Tensor]:
    """Rank ``rank``'s generator states from :func:`merge_rng`'s dict."""
    if rank == 0:
        return {name: value for name, value in states.items() if ".rank" not in name}
    suffix = f".rank{rank}"
    return {name[: -len(suffix)]: value for name, value in states.items() if name.endswith(suffix)}


def _progress(loader: DataLoader, epoch: int, epochs: int, *, enabled: bool):
    if not enabled:
        return loader
    from tqdm.auto import tqdm

    return tqdm(loader, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False, dynamic_ncols=True)
