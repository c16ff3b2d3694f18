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

from informer import safeio
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
    """Read a state written by :func:`save_state`: a file of the run directory (a link out of it
    is refused), its metadata checked field by field.

    Raises:
        CheckpointError: if the file is missing, truncated, not a resume state, or its metadata
            lacks a field or holds one of another type.
    """
    safeio.check_inside(path, path.parent, error=CheckpointError)
    if not path.is_file():
        raise CheckpointError(
            f"{path}: no resume state (the run finished, or stopped before its first epoch ended)"
        )
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        info = safeio.parse_json(metadata["state"], where=f"{path}: corrupt resume state: its metadata",
                                error=CheckpointError)
        if metadata.get("format") != str(STATE_FORMAT):
            raise CheckpointError(f"{path}: unknown resume state format {metadata.get('format')!r}")
    except CheckpointError:
        raise
    except (SafetensorError, OSError, KeyError, ValueError) as error:
        raise CheckpointError(f"{path}: corrupt resume state ({str(error).splitlines()[0] if str(error) else error})") from error
    try:
        return _state(info, tensors)
    except (KeyError, TypeError, ValueError) as error:
        reason = f"no {error}" if isinstance(error, KeyError) else str(error).splitlines()[0]
        raise CheckpointError(f"{path}: corrupt resume state (its metadata: {reason})") from error


# What each table of the metadata holds: the fields of EpochRecord and of EarlyStopping's state.
EPOCH_FIELDS = frozenset({"epoch", "train_loss", "val_loss", "test_loss", "lr", "seconds"})
STOPPER_FIELDS = frozenset({"patience", "best", "best_epoch", "bad_epochs"})


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _table(value: object, name: str, fields: frozenset[str] | None = None) -> dict:
    """``value`` if it is a table (with exactly ``fields``, each a number, when given)."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a table, got {type(value).__name__}")
    if fields is not None and (set(value) != fields or not all(_number(v) or v is None for v in value.values())):
        raise TypeError(f"{name} must hold the numbers {', '.join(sorted(fields))}")
    return value


def _integer(value: object, name: str, *, least: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < least:
        raise TypeError(f"{name} must be an integer of at least {least}, got {value!r}")
    return value


def _state(info: object, tensors: dict[str, torch.Tensor]) -> TrainingState:
    """The state from the parsed metadata ``info`` and the file's tensors.

    Raises:
        KeyError, TypeError, ValueError: for a missing field, or one of another type or shape.
    """
    info = _table(info, "state")

    def section(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}

    history = info["history"]
    if not isinstance(history, list):
        raise TypeError(f"history must be a list, got {type(history).__name__}")
    for row in history:
        _table(row, "each history row", EPOCH_FIELDS)
    stopper = _table(info["stopper"], "stopper", STOPPER_FIELDS)
    param_groups = info["param_groups"]
    if not isinstance(param_groups, list) or not all(
            isinstance(group, dict) and isinstance(group.get("params"), list) for group in param_groups):
        raise TypeError("param_groups must be a list of tables with params")
    optimizer_state: dict[int, dict] = {}
    for name, value in section("optimizer.").items():
        index, key = name.split(".", 1)
        optimizer_state.setdefault(int(index), {})[key] = value
    for index, values in _table(info["optimizer_scalars"], "optimizer_scalars").items():
        optimizer_state.setdefault(int(index), {}).update(_table(values, "optimizer_scalars"))
    train_seconds = info["train_seconds"]
    if not _number(train_seconds):
        raise TypeError(f"train_seconds must be a number, got {train_seconds!r}")
    return TrainingState(
        epoch=_integer(info["epoch"], "epoch"),
        model=section("model."),
        best_model=section("best."),
        optimizer={"state": optimizer_state, "param_groups": param_groups},
        stopper=stopper,
        history=history,
        rng=section("rng."),
        best_epoch=_integer(info["best_epoch"], "best_epoch"),
        train_seconds=float(train_seconds),
        grad_scaler=_table(info.get("grad_scaler", {}), "grad_scaler"),
        world_size=_integer(info.get("world_size", 1), "world_size", least=1),
    )
