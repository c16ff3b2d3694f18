"""The resume state: everything a killed run needs to continue exactly where its last epoch ended.

One safetensors file (``resume.safetensors`` in the run directory): the tensors of the model,
of the best model so far, of the optimizer and of the random generators, with the rest (epoch,
early stopping, history, optimizer settings) as JSON in the file's metadata. Nothing is
pickled, and one file means one atomic rename: the state on disk is always a whole epoch's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from informer.errors import InformerError

STATE_FORMAT = 1


class CheckpointError(InformerError):
    """A resume state file is missing, truncated or does not match the run."""


@dataclass
class TrainingState:
    """The loop's state at the end of an epoch (tensors on the CPU)."""

    epoch: int
    model: dict[str, torch.Tensor]
    best_model: dict[str, torch.Tensor]
    optimizer: dict
    stopper: dict
    history: list[dict]
    rng: dict[str, torch.Tensor]
    best_epoch: int = 0
    train_seconds: float = 0.0
    grad_scaler: dict = field(default_factory=dict)
    world_size: int = 1


def _cpu(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: t.detach().to("cpu", copy=True).contiguous() for name, t in tensors.items()}


def save_state(path: Path, state: TrainingState) -> None:
    """Write ``state`` to ``path`` (the caller makes it atomic)."""
    tensors: dict[str, torch.Tensor] = {}
    tensors.update({f"model.{k}": v for k, v in _cpu(state.model).items()})
    tensors.update({f"best.{k}": v for k, v in _cpu(state.best_model).items()})
    tensors.update({f"rng.{k}": v for k, v in _cpu(state.rng).items()})
    optimizer_scalars: dict[str, dict] = {}
    for index, values in state.optimizer["state"].items():
        for key, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                optimizer_scalars.setdefault(str(index), {})[key] = value
    metadata = {
        "format": str(STATE_FORMAT),
        "state": json.dumps(
            {
                "epoch": state.epoch,
                "best_epoch": state.best_epoch,
                "train_seconds": state.train_seconds,
                "stopper": state.stopper,
                "history": state.history,
                "param_groups": state.optimizer["param_groups"],
                "optimizer_scalars": optimizer_scalars,
                "grad_scaler": state.grad_scaler,
                "world_size": state.world_size,
            }
        ),
    }
    save_file(tensors, str(path), metadata=metadata)


def load_state(path: Path) -> TrainingState:
    """Read a state written by :func:`save_state`.

    Raises:
        CheckpointError: if the file is missing, truncated or not a resume state.
    """
    if not path.is_file():
        raise CheckpointError(
            f"{path}: no resume state (the run finished, or stopped before its first epoch ended)"
        )
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        info = json.loads(metadata["state"])
        if metadata.get("format") != str(STATE_FORMAT):
            raise CheckpointError(f"{path}: unknown resume state format {metadata.get('format')!r}")
    except CheckpointError:
        raise
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        raise CheckpointError(f"{path}: corrupt resume state ({str(error).splitlines()[0] if str(error) else error})") from error

    def section(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

    optimizer_state: dict[int, dict] = {}
    for name, value in section("optimizer.").items():
        index, key = name.split(".", 1)
        optimizer_state.setdefault(int(index), {})[key] = value
    for index, values in info["optimizer_scalars"].items():
        optimizer_state.setdefault(int(index), {}).update(values)
    return TrainingState(
        epoch=int(info["epoch"]),
        model=section("model."),
        best_model=section("best."),
        optimizer={"state": optimizer_state, "param_groups": info["param_groups"]},
        stopper=info["stopper"],
        history=info["history"],
        rng=section("rng."),
        best_epoch=int(info["best_epoch"]),
        train_seconds=float(info["train_seconds"]),
        grad_scaler=info.get("grad_scaler", {}),
        world_size=int(info.get("world_size", 1)),
    )
