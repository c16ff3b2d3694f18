"""The forecaster contract: what every model kind provides.

Training, evaluation, forecasting, saved runs and the benchmarks see a model only through this
contract, so a new kind of model needs a class that meets it and a line in
:data:`informer.model.compose.MODEL_KINDS`; a new option for existing kinds is a part
(:mod:`informer.model.parts`) that :mod:`informer.model.compose` nests around them.

* ``kind``: its name in ``MODEL_KINDS`` and in ``config.json``;
* ``trainable``: whether it has weights to fit (the repeat baseline has none);
* ``config_fields``: the :class:`~informer.config.ModelConfig` fields the forecaster reads (class
  attribute; its parts' fields are :data:`informer.model.compose.PART_FIELDS`), so that settings
  another kind would read can be reported as ignored;
* ``settings``: its constructor's keyword arguments as JSON-ready values, so that
  ``rebuild_forecaster(kind, model.settings)`` rebuilds the same model;
* ``pred_len``: how many steps it forecasts;
* ``input_shapes(batch_size)``: the shapes of its four inputs;
* ``forward(batch, *, generator=None)``: the forecast ``(B, pred_len, c_out)`` in scaled units
  from a :class:`~informer.batches.Batch`: an encoder window ``(B, seq_len, C)``, its time
  features ``(B, seq_len, F)``, the decoder input ``(B, label_len + pred_len, C)`` (known steps,
  then zeros) and its time features; a model ignores the inputs it does not use;
* optionally ``linear_parameters()``: the parameters ``train.linear_lr`` trains.

For M, ``c_out`` equals the input channels; for S and MS it is 1 and the forecast is the target,
the last input channel.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

import torch
from torch import Tensor

from informer.config import ModelConfig
from informer.model.compose import MODEL_KINDS, build_forecaster, reads, rebuild_forecaster

if TYPE_CHECKING:
    from informer.batches import Batch


@runtime_checkable
class Forecaster(Protocol):
    kind: str
    trainable: ClassVar[bool]

    @property
    def settings(self) -> dict[str, Any]: ...

    @property
    def pred_len(self) -> int: ...

    def input_shapes(self, batch_size: int) -> dict[str, tuple[int, ...]]: ...

    def forward(self, batch: Batch, *, generator: torch.Generator | None = None) -> Tensor: ...


def ignored_settings(config: ModelConfig) -> list[str]:
    """The fields of ``config`` set away from their defaults that its kind does not read."""
    default = ModelConfig()
    used = reads(config)
    return [f.name for f in dataclasses.fields(config)
            if f.name not in used and getattr(config, f.name) != getattr(default, f.name)]


__all__ = ["MODEL_KINDS", "Forecaster", "build_forecaster", "ignored_settings", "rebuild_forecaster"]
