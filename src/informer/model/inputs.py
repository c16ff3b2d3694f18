"""Checks of a forecaster's inputs, shared by every kind: its sizes, the four tensors' shapes,
and the optional :class:`~informer.batches.Batch` fields a model does not read."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from informer.errors import ConfigError

if TYPE_CHECKING:
    from informer.batches import Batch


def check_positive(**values: int) -> None:
    """Sizes (channels, lengths) must be positive integers.

    Raises:
        ConfigError: naming the first that is not.
    """
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def check_shapes(batch: Batch, input_shapes: Callable[[int], dict[str, tuple[int, ...]]], *,
                 calendar: bool) -> None:
    """Check the four inputs of ``batch`` against ``input_shapes(B)``; with ``calendar`` time
    features, more columns than expected are allowed.

    Raises:
        ValueError: naming the first input of another shape and the shape expected.
    """
    inputs = {"x_enc": batch.x_enc, "x_mark_enc": batch.x_mark_enc, "x_dec": batch.x_dec,
              "x_mark_dec": batch.x_mark_dec}
    size = batch.x_enc.shape[0] if batch.x_enc.dim() == 3 else -1
    expected = input_shapes(size)
    for name, tensor in inputs.items():
        want = expected[name]
        shape = tuple(tensor.shape)
        ok = len(shape) == 3 and shape[:2] == want[:2]
        if name.startswith("x_mark") and calendar:
            ok = ok and shape[2] >= want[2]
        else:
            ok = ok and shape[2] == want[2]
        if not ok:
            layout = "(B, L, F)" if name.startswith("x_mark") else "(B, L, C)"
            wanted = ", ".join(["B" if size < 0 else str(size), *map(str, want[1:])])
            at_least = " (or more calendar columns)" if name.startswith("x_mark") and calendar else ""
            raise ValueError(f"{name} must have shape {layout} = ({wanted}){at_least}; got {shape}")


# The optional Batch fields, and what a model that does not read one should be told.
_OPTIONAL_INPUTS = {"phase_enc": "cycle positions", "phase_dec": "cycle positions",
                    "future_covariates": "future-known covariates", "static_covariates": "static covariates",
                    "series_id": "series ids"}


def check_unread(batch: Batch, reads: tuple[str, ...]) -> None:
    """Refuse a batch that sets an optional input (cycle positions, covariates, series ids) the
    model does not read: silently ignoring it would give a forecast that does not use it.

    ``loc`` and ``scale`` are not inputs: they describe ``x_enc`` and may always be set.

    Raises:
        ValueError: naming the first such field.
    """
    for name, meaning in _OPTIONAL_INPUTS.items():
        if name not in reads and getattr(batch, name) is not None:
            raise ValueError(f"this model does not read {meaning} (batch.{name}); build it with a part that does "
                             "(for cycle positions: the setting model.cycle)")
