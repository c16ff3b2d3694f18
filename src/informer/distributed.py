"""Training on several processes with PyTorch's own engine: ``torchrun`` and DistributedDataParallel.

``torchrun --nproc-per-node N -m informer train ...`` starts N copies of the command; torchrun
tells each its place through the environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``), and
:func:`setup` joins them in one process group (gloo on the CPU, nccl on CUDA with one device per
process). Everything else here is the few collective decisions the training needs:

* :func:`together` runs a check on every process and fails on all of them if it fails on any, so
  a bad file or flag ends the job at once instead of leaving the others waiting;
* :meth:`Distributed.sum` adds numbers across processes (losses, metric sums, NaN flags);
* :meth:`Distributed.broadcast` and :meth:`Distributed.gather` move small objects (a resume
  state, random generator states).

A single process is ``Distributed()`` (rank 0 of 1), for which every one of these is a no-op:
the single-process code path is exactly the one without torchrun.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import torch
import torch.distributed as dist

from informer.errors import ConfigError, InformerError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a process waits in a collective before the job fails (``INFORMER_DIST_TIMEOUT``).
DEFAULT_TIMEOUT = 300.0
#: Rank r seeds its dropout and ProbSparse sampling with ``seed + RANK_SEED_STRIDE * r``.
RANK_SEED_STRIDE = 100_003

_initialised_here = False


@dataclass(frozen=True)
class Distributed:
    """This process's place in the job: rank ``rank`` of ``world_size`` (0 of 1 alone)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        """The process that writes files, logs and the progress bar."""
        return self.rank == 0

    def seed(self, seed: int) -> int:
        """This rank's seed for its random draws (rank 0 keeps ``seed``)."""
        return seed + RANK_SEED_STRIDE * self.rank

    def _device(self) -> torch.device:
        if self.enabled and dist.get_backend() == "nccl":
            return torch.device("cuda", torch.cuda.current_device())
        return torch.device("cpu")

    def sum(self, values: list[float]) -> list[float]:
        """Each value added over all processes (float64)."""
        if not self.enabled:
            return [float(v) for v in values]
        tensor = torch.tensor(values, dtype=torch.float64, device=self._device())
        dist.all_reduce(tensor)
        return tensor.cpu().tolist()

    def broadcast(self, value: T) -> T:
        """Rank 0's ``value`` on every process."""
        if not self.enabled:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: T) -> list[T]:
        """Every process's ``value``, in rank order, on every process."""
        if not self.enabled:
            return [value]
        boxes: list = [None] * self.world_size
        dist.all_gather_object(boxes, value)
        return boxes

    def share_buffers(self, module: torch.nn.Module) -> None:
        """Rank 0's buffers (BatchNorm running statistics) on every process: DDP keeps the
        parameters equal, but each process updates its buffers with its own last batch."""
        if self.enabled:
            for buffer in module.buffers():
                dist.broadcast(buffer, src=0)

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()


SINGLE = Distributed()


def from_environment() -> Distributed:
    """What torchrun's environment says this process is (a single process without it)."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", "0"))
    except ValueError:
        return SINGLE
    return Distributed(rank, world, local) if world > 1 else SINGLE


def current() -> Distributed:
    """The job this process takes part in: the initialised process group, else a single process."""
    if dist.is_available() and dist.is_initialized():
        return Distributed(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
    return SINGLE


def timeout() -> timedelta:
    """How long a process waits for the others (``INFORMER_DIST_TIMEOUT`` seconds, default 300)."""
    text = os.environ.get("INFORMER_DIST_TIMEOUT", "")
    try:
        seconds = float(text) if text else DEFAULT_TIMEOUT
    except ValueError:
        raise ConfigError(f"INFORMER_DIST_TIMEOUT={text!r}: expected a number of seconds") from None
    return timedelta(seconds=seconds)


def setup(device: torch.device) -> tuple[Distributed, torch.device]:
    """Join torchrun's process group if this process was started by torchrun (else nothing).

    Returns the job and the device this process computes on: on CUDA the device of its
    ``LOCAL_RANK``; on the CPU the CPU.

    Raises:
        ConfigError: when there are fewer CUDA devices than processes on this machine.
    """
    global _initialised_here
    job = from_environment()
    if not job.enabled:
        return current(), device
    if device.type == "cuda":
        if job.local_rank >= torch.cuda.device_count():
            raise ConfigError(f"process {job.local_rank} on this machine has no CUDA device of its own "
                              f"({torch.cuda.device_count()} visible); start at most that many per machine")
        device = torch.device("cuda", job.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=timeout())
        _initialised_here = True
        _end_on_sigterm()
    return current(), device


def shutdown(*, clean: bool = True) -> None:
    """Leave the process group if :func:`setup` created it; after a ``clean`` end, all together
    (a process whose peer tears its connections down first may abort), else at once (the others
    may be inside another collective)."""
    global _initialised_here
    if _initialised_here:
        _restore_sigterm()
        if dist.is_initialized():
            if clean:
                try:
                    dist.barrier()
                except RuntimeError:
                    pass
            dist.destroy_process_group()
    _initialised_here = False


def _end_on_sigterm() -> None:
    """torchrun stops the other processes with SIGTERM when one fails: end like an interrupt, so
    the run directory is left resumable (or removed when no epoch had ended)."""

    def stop(signum, frame):
        _restore_sigterm()  # once: a second SIGTERM ends the process at once
        raise SystemExit(128 + signum)

    try:
        signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        pass


def _restore_sigterm() -> None:
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    except ValueError:
        pass


class ElsewhereError(InformerError):
    """Another process of the job failed a check (it reports the reason)."""


def lost_contact(error: BaseException) -> bool:
    """Whether ``error`` says the processes of the job lost each other (a peer died, a timeout)."""
    text = str(error)
    return isinstance(error, dist.DistError) or any(word in text for word in ("gloo", "Connection", "NCCL",
                                                                               "timed out", "Timeout"))


def together(job: Distributed, call: Callable[[], T]) -> T:
    """``call()`` on every process; if it raises an :class:`InformerError` on any process, raise
    on all of them (the lowest failing rank's message on rank 0, so the job ends with one clear
    message and none left waiting)."""
    try:
        result, failure = call(), None
    except InformerError as error:
        if not job.enabled:
            raise
        result, failure = None, error
    if not job.enabled:
        return result
    failures = job.gather(None if failure is None else (type(failure).__name__, str(failure)))
    failed = [(rank, f) for rank, f in enumerate(failures) if f is not None]
    if not failed:
        return result
    if failure is not None and (job.main or failed[0][0] == job.rank):
        failure.agreed = True  # every process knows; rank 0 reports it
        raise failure
    rank, (kind, message) = failed[0]
    raise ElsewhereError(f"process {rank}: {message}" if job.main else f"{kind} on process {rank}")
