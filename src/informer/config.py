"""Configuration: frozen, typed values read once at the top and passed down.

Each section is a frozen dataclass that validates itself in ``__post_init__`` and raises
:class:`~informer.errors.ConfigError` with a message saying how to fix the value. Layers never
see these objects: they take plain keyword arguments.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from informer.errors import ConfigError

FEATURE_MODES = ("M", "S", "MS")
FILL_METHODS = ("ffill", "interpolate")
ATTENTION_KINDS = ("prob", "full")
EMBEDDINGS = ("timeF", "fixed", "learned")
ACTIVATIONS = ("gelu", "relu")


def _positive(section: str, **values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{section}.{name} must be a positive integer, got {value!r}")


def _one_of(section: str, name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        choices = ", ".join(allowed)
        raise ConfigError(f"{section}.{name} must be one of {choices}; got {value!r}")


@dataclass(frozen=True)
class DataConfig:
    """Which data to read and how to cut it into windows.

    ``data`` is a bundled dataset name (see ``informer datasets``) or a path to a CSV or
    Parquet file. ``target``, ``freq`` and ``split`` default to the bundled preset's values,
    else to the last column, the inferred frequency and the 70/10/20 ratio split.
    """

    data: str = "ETTh1"
    features: str = "M"
    target: str | None = None
    cols: tuple[str, ...] | None = None
    date_col: str = "date"
    freq: str | None = None
    fill: str | None = None
    split: str | None = None
    seq_len: int = 96
    label_len: int = 48
    pred_len: int = 24

    def __post_init__(self) -> None:
        _positive("data", seq_len=self.seq_len, label_len=self.label_len, pred_len=self.pred_len)
        if self.label_len > self.seq_len:
            raise ConfigError(
                f"data.label_len ({self.label_len}) must not exceed data.seq_len ({self.seq_len}): "
                "the decoder's known part is taken from the end of the encoder input"
            )
        _one_of("data", "features", self.features, FEATURE_MODES)
        if self.fill is not None:
            _one_of("data", "fill", self.fill, FILL_METHODS)
        if self.cols is not None:
            if isinstance(self.cols, str):
                raise ConfigError("data.cols must be a list of column names, not one string")
            object.__setattr__(self, "cols", tuple(self.cols))
            if not self.cols:
                raise ConfigError("data.cols must name at least one column")


@dataclass(frozen=True)
class ModelConfig:
    """The architecture. Input and output widths come from the data, not from here."""

    d_model: int = 512
    n_heads: int = 8
    e_layers: int = 2
    d_layers: int = 1
    d_ff: int = 2048
    factor: int = 5
    dropout: float = 0.05
    attn: str = "prob"
    embed: str = "timeF"
    activation: str = "gelu"
    distil: bool = True
    mix: bool = True
    stack: bool = False
    s_layers: tuple[int, ...] = (3, 2, 1)
    lazy_decoder: str = "cumsum"

    def __post_init__(self) -> None:
        _positive(
            "model",
            d_model=self.d_model,
            n_heads=self.n_heads,
            e_layers=self.e_layers,
            d_layers=self.d_layers,
            d_ff=self.d_ff,
            factor=self.factor,
        )
        if self.d_model % self.n_heads:
            raise ConfigError(
                f"model.d_model ({self.d_model}) must be divisible by model.n_heads ({self.n_heads})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"model.dropout must be in [0, 1), got {self.dropout!r}")
        _one_of("model", "attn", self.attn, ATTENTION_KINDS)
        _one_of("model", "embed", self.embed, EMBEDDINGS)
        _one_of("model", "activation", self.activation, ACTIVATIONS)
        _one_of("model", "lazy_decoder", self.lazy_decoder, ("cumsum", "cummean"))
        object.__setattr__(self, "s_layers", tuple(self.s_layers))
        if not self.s_layers or any(not isinstance(d, int) or d <= 0 for d in self.s_layers):
            raise ConfigError(f"model.s_layers must be positive depths, got {self.s_layers!r}")


def replace(config, **changes):
    """Return a copy of a frozen config with ``changes`` applied (and validated again)."""
    names = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(changes) - names)
    if unknown:
        section = type(config).__name__
        raise ConfigError(f"{section} has no field {unknown[0]!r}; known: {', '.join(sorted(names))}")
    return dataclasses.replace(config, **changes)


__all__ = ["DataConfig", "ModelConfig", "replace"]
