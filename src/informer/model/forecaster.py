"""The forecaster contract: what every model kind provides, and the table that builds them.

Training, evaluation, forecasting, saved runs and the benchmarks see a model only through this
contract, so a new kind of model needs a class that meets it and a line in :data:`MODEL_KINDS`:

* ``kind``: its name in :data:`MODEL_KINDS` and in ``config.json`` (class attribute);
* ``trainable``: whether it has weights to fit (the repeat baseline has none);
* ``config_fields``: the :class:`~informer.config.ModelConfig` fields it reads (class attribute),
  so that settings another kind would read can be reported as ignored;
* ``settings``: its constructor's keyword arguments as JSON-ready values, so that
  ``cls(**model.settings)`` rebuilds the same model;
* ``pred_len``: how many steps it forecasts;
* ``input_shapes(batch_size)``: the shapes of its four inputs;
* ``forward(x_enc, x_mark_enc, x_dec, x_mark_dec, *, generator=None)``: the forecast
  ``(B, pred_len, c_out)`` in scaled units from an encoder window ``(B, seq_len, C)``, its time
  features ``(B, seq_len, F)``, the decoder input ``(B, label_len + pred_len, C)`` (known steps,
  then zeros) and its time features; a model ignores the inputs it does not use;
* ``from_config(config, *, enc_in, c_out, seq_len, label_len, pred_len, freq)``: the model for a
  :class:`~informer.config.ModelConfig` and the data's widths, lengths and frequency letter.

For M, ``c_out`` equals the input channels; for S and MS it is 1 and the forecast is the target,
the last input channel.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from informer.config import ModelConfig
from informer.errors import ConfigError
from informer.model.baselines import Linear, Repeat
from informer.model.informer import Informer


@runtime_checkable
class Forecaster(Protocol):
    kind: ClassVar[str]
    trainable: ClassVar[bool]
    config_fields: ClassVar[tuple[str, ...]]

    @classmethod
    def from_config(cls, config: ModelConfig, *, enc_in: int, c_out: int, seq_len: int, label_len: int,
                    pred_len: int, freq: str) -> "Forecaster": ...

    @property
    def settings(self) -> dict[str, Any]: ...

    @property
    def pred_len(self) -> int: ...

    def input_shapes(self, batch_size: int) -> dict[str, tuple[int, ...]]: ...

    def forward(self, x_enc: Tensor, x_mark_enc: Tensor, x_dec: Tensor, x_mark_dec: Tensor, *,
                generator: torch.Generator | None = None) -> Tensor: ...


# One entry per name in informer.config.MODEL_KINDS (a test keeps the two in step).
MODEL_KINDS: dict[str, type[nn.Module]] = {"informer": Informer, "linear": Linear, "repeat": Repeat}


def ignored_settings(config: ModelConfig) -> list[str]:
    """The fields of ``config`` set away from their defaults that its kind does not read."""
    default = ModelConfig()
    reads = {"kind", *MODEL_KINDS[config.kind].config_fields}
    if config.kind == "informer" and config.skip == "none":
        reads.discard("moving_avg")  # only Informer's linear skip reads it
    return [f.name for f in dataclasses.fields(config)
            if f.name not in reads and getattr(config, f.name) != getattr(default, f.name)]


def build_forecaster(config: ModelConfig, *, enc_in: int, c_out: int, seq_len: int, label_len: int,
                     pred_len: int, freq: str) -> nn.Module:
    """The model ``config.kind`` names, for the data's widths, lengths and frequency letter."""
    return MODEL_KINDS[config.kind].from_config(config, enc_in=enc_in, c_out=c_out, seq_len=seq_len,
                                                label_len=label_len, pred_len=pred_len, freq=freq)


def rebuild_forecaster(kind: str, settings: dict[str, Any]) -> nn.Module:
    """A model of ``kind`` from its saved ``settings`` (as :attr:`Forecaster.settings` gave them).

    Raises:
        ConfigError: for an unknown kind or settings the kind does not accept.
    """
    if kind not in MODEL_KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")
    try:
        return MODEL_KINDS[kind](**settings)
    except TypeError as error:
        raise ConfigError(f"settings do not fit the model kind {kind!r} ({error})") from error
