"""The one builder: a model kind, its settings and the data's sizes -> a forecaster.

:func:`build_forecaster` builds from a :class:`~informer.config.ModelConfig`;
:func:`rebuild_forecaster` from the settings a run directory saved. Without a modern option the
result is the bare forecaster (:class:`~informer.model.informer.Informer`,
:class:`~informer.model.baselines.Linear`, :class:`~informer.model.baselines.Repeat`), as the
published code computes it. With options it is a :class:`Composed` model: the forecaster with
its parts (:mod:`informer.model.parts`) around it, nested in the one order that module's
docstring draws. A new option is a new part and a line in :func:`_parts`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from informer.config import ModelConfig
from informer.data.windows import window_shapes
from informer.errors import ConfigError
from informer.model.baselines import Linear, Repeat
from informer.model.informer import Informer
from informer.model.inputs import check_positive, check_shapes
from informer.model.parts import Sizes
from informer.model.parts.channels import ChannelIndependence
from informer.model.parts.cycle import Cycle
from informer.model.parts.normalisation import Affine, InstanceNorm
from informer.model.parts.patches import Patches
from informer.model.parts.skip import LinearSkip

if TYPE_CHECKING:
    from informer.batches import Batch
    from informer.data.pipeline import PreparedData

# One entry per name in informer.config.MODEL_KINDS (a test keeps the two in step).
MODEL_KINDS: dict[str, type[nn.Module]] = {"informer": Informer, "linear": Linear, "repeat": Repeat}

# The ModelConfig fields each kind's parts read, beyond what the forecaster itself reads.
PART_FIELDS: dict[str, tuple[str, ...]] = {
    "informer": ("norm", "norm_affine", "cycle", "cycle_norm", "skip", "skip_gated", "moving_avg",
                 "channel_independent", "patch_len"),
    "linear": ("cycle",),
    "repeat": (),
}


def config_fields(kind: str) -> tuple[str, ...]:
    """The ModelConfig fields a model of ``kind`` reads (its forecaster's and its parts')."""
    return (*MODEL_KINDS[kind].config_fields, *PART_FIELDS[kind])


def reads(config: ModelConfig) -> set[str]:
    """The ModelConfig fields ``config``'s model reads, ``kind`` included (Informer reads
    ``moving_avg`` only for its linear skip)."""
    fields = {"kind", *config_fields(config.kind)}
    if config.kind == "informer" and config.skip == "none":
        fields.discard("moving_avg")
    return fields


def build_forecaster(config: ModelConfig, *, enc_in: int, c_out: int, seq_len: int, label_len: int,
                     pred_len: int, freq: str) -> nn.Module:
    """The model ``config`` describes, for the data's widths, lengths and frequency letter
    (``config.cycle`` resolved: a number of steps, not ``auto``).

    Raises:
        ConfigError: for settings the model cannot take.
    """
    if config.cycle == "auto":
        raise ConfigError("model.cycle is auto: resolve it for the data first (informer.data.prepare_for)")
    sizes: dict[str, Any] = {"enc_in": enc_in, "c_out": c_out, "seq_len": seq_len, "label_len": label_len,
                             "pred_len": pred_len, "freq": freq}
    if config.kind == "informer":
        sizes = {"enc_in": enc_in, "dec_in": enc_in, **sizes}
    default = ModelConfig()
    used = reads(config)
    # A part's setting is recorded only when it is used: the settings (and the checksum stored
    # with the weights) of a model without options are the forecaster's own, as they always were.
    options = {name: getattr(config, name) for name in PART_FIELDS[config.kind]
               if name in used and getattr(config, name) != getattr(default, name)}
    core = {name: getattr(config, name) for name in MODEL_KINDS[config.kind].config_fields}
    return rebuild_forecaster(config.kind, {**sizes, **core, **options})


def build_for(config: ModelConfig, data: PreparedData) -> nn.Module:
    """The model ``config`` describes, for prepared data (:func:`informer.data.pipeline.prepare_for`):
    its widths, lengths, frequency and resolved cycle."""
    d = data.config
    return build_forecaster(data.resolved(config), enc_in=data.n_columns, c_out=len(data.output_columns),
                            seq_len=d.seq_len, label_len=d.label_len, pred_len=d.pred_len, freq=data.series.letter)


def rebuild_forecaster(kind: str, settings: dict[str, Any]) -> nn.Module:
    """A model of ``kind`` from its ``settings`` (as :attr:`settings` gave them, from 0.4 on).

    Raises:
        ConfigError: for an unknown kind or settings the kind does not accept.
    """
    if kind not in MODEL_KINDS:
        raise ConfigError(f"unknown model kind {kind!r}; known: {', '.join(MODEL_KINDS)}")
    given = {name: value for name, value in settings.items() if name not in PART_FIELDS[kind]}
    options = {name: value for name, value in settings.items() if name in PART_FIELDS[kind]}
    try:
        config = ModelConfig(kind=kind, **options)
    except TypeError as error:  # pragma: no cover - PART_FIELDS are ModelConfig fields
        raise ConfigError(f"settings do not fit the model kind {kind!r} ({error})") from error
    if not options or not _parts_wanted(config):
        return _core(kind, given)
    try:
        sizes = Sizes(**{name: given[name] for name in ("enc_in", "c_out", "seq_len", "label_len", "pred_len")},
                      dec_in=given.get("dec_in", given.get("enc_in")))
    except KeyError as error:
        raise ConfigError(f"settings do not fit the model kind {kind!r} (missing {error.args[0]})") from error
    check_positive(**dataclasses.asdict(sizes))
    factories = _parts(config, sizes)
    inner = sizes
    for _, factory in factories:
        inner = factory.sizes(inner)
    core_settings = {**given, **{name: getattr(inner, name) for name in ("enc_in", "c_out", "seq_len",
                                                                        "label_len", "pred_len")}}
    if "dec_in" in given:
        core_settings["dec_in"] = inner.dec_in
    core = _core(kind, core_settings)
    # The parts are built after the forecaster, so that a model draws the same initial weights as
    # the single class of 0.4-0.7 did (its linear skip was built last).
    parts = [(name, factory.build()) for name, factory in factories]
    return Composed(core, parts, settings=dict(settings), sizes=sizes)


def _core(kind: str, settings: dict[str, Any]) -> nn.Module:
    try:
        return MODEL_KINDS[kind](**settings)
    except TypeError as error:
        raise ConfigError(f"settings do not fit the model kind {kind!r} ({error})") from error


def _parts_wanted(config: ModelConfig) -> bool:
    return bool(config.cycle) or config.norm != "none" or config.skip != "none" or config.channel_independent \
        or config.patch_len > 1


@dataclasses.dataclass(frozen=True)
class _Factory:
    """How a part is built, and what the model inside it sees (known before it is built)."""

    build: Callable[[], nn.Module]
    sizes: Callable[[Sizes], Sizes]


def _factory(make: Callable[[], nn.Module], sizes: Callable[[Sizes], Sizes] | None = None) -> _Factory:
    return _Factory(make, sizes or (lambda s: s))


def _parts(config: ModelConfig, sizes: Sizes) -> list[tuple[str, _Factory]]:
    """The parts ``config`` asks for, outermost first, each under its name in the state dict."""
    known, c_out = sizes.label_len, sizes.c_out
    cycle_channels = sizes.enc_in if config.kind == "informer" else c_out  # DLinear reads only those
    cycle = ("cycle", _factory(lambda: Cycle(config.cycle, cycle_channels, label_len=known)))
    parts: list[tuple[str, _Factory]] = []
    if config.cycle and not config.cycle_norm:
        parts.append(cycle)
    if config.norm != "none":
        norm = InstanceNorm(label_len=known, last=config.norm == "last")
        parts.append(("norm", _factory(lambda: norm, norm.inner_sizes)))
    if config.cycle and config.cycle_norm:
        parts.append(cycle)
    if config.norm_affine:
        parts.append(("revin", _factory(lambda: Affine(sizes.enc_in, label_len=known))))
    if config.skip != "none":
        parts.append(("linear_skip", _factory(lambda: LinearSkip(
            seq_len=sizes.seq_len, pred_len=sizes.pred_len, c_out=c_out, moving_avg=config.moving_avg,
            raw=config.skip == "raw", gated=config.skip_gated))))
    if config.channel_independent:
        channels = ChannelIndependence(c_out=c_out)
        parts.append(("channels", _factory(lambda: channels, channels.inner_sizes)))
    if config.patch_len > 1:
        patches = Patches(config.patch_len, label_len=known, pred_len=sizes.pred_len)
        parts.append(("patches", _factory(lambda: patches, patches.inner_sizes)))
    return parts


# State-dict keys that 0.5-0.7 named otherwise: the gate of the linear skip was the model's own
# parameter then. Runs saved by those versions load, and saved weights keep the old name.
_SAVED_NAMES = {"linear_skip.gate": "skip_gate"}


# The order modules are registered in (None: the forecaster's), which is the order of
# model.parameters(): that of 0.7's single class, so that the optimizer state of a run
# interrupted under 0.7 resumes in step with its parameters.
_REGISTRATION = ("norm", "revin", None, "linear_skip", "cycle", "channels", "patches")


class Composed(nn.Module):
    """A forecaster with parts around it: each part's ``encode`` on the way in, outermost first,
    the forecaster, then each part's ``decode`` on the way out, innermost first.

    The forecaster's modules are registered on this module under their own names, beside the
    parts', so that its state dict (and every module name: the kept queries, the traced stages)
    reads as the forecaster's own: weights saved by 0.4-0.7, whose single model class held the
    options as attributes, load unchanged. The forecaster itself is kept as a plain attribute,
    :attr:`core`, and called as a whole.

    Args:
        core: the forecaster, built for the sizes its innermost part hands on.
        parts: ``(name, part)`` pairs, outermost first.
        settings: the settings the whole model was built from (:attr:`settings`).
        sizes: the channels and lengths the whole model is built for.
    """

    # explain's hook, called after each step: (part name, "encode" or "decode", what it gave, its state)
    observer: Callable[[str, str, Any, Any], None] | None = None

    def __init__(self, core: nn.Module, parts: list[tuple[str, nn.Module]], *, settings: dict[str, Any],
                 sizes: Sizes) -> None:
        super().__init__()
        if next(core.parameters(recurse=False), None) is not None or next(core.buffers(recurse=False), None) \
                is not None:  # pragma: no cover - no forecaster holds tensors outside its modules
            raise ConfigError(f"{type(core).__name__} keeps parameters of its own; it cannot be composed")
        named = dict(parts)
        for name in _REGISTRATION:
            modules = core.named_children() if name is None else [(name, named.pop(name, None))]
            for child, module in modules:
                if module is not None:
                    self.add_module(child, module)
        if named:  # pragma: no cover - every part has its place in _REGISTRATION
            raise ConfigError(f"parts without a place: {', '.join(named)}")
        object.__setattr__(self, "core", core)  # not a submodule: its modules are registered above
        self.order = tuple(name for name, _ in parts)
        self.sizes = sizes
        self._settings = settings
        self._register_state_dict_hook(_saved_names)
        self._register_load_state_dict_pre_hook(_live_names)

    @property
    def kind(self) -> str:
        return self.core.kind

    trainable = True

    @property
    def settings(self) -> dict[str, Any]:
        """The settings it was built from, as plain values (``rebuild_forecaster(kind, settings)``)."""
        settings = dict(self._settings)
        if "s_layers" in settings:
            settings["s_layers"] = list(settings["s_layers"])
        return settings

    @property
    def pred_len(self) -> int:
        return self.sizes.pred_len

    def parts(self) -> Iterator[tuple[str, nn.Module]]:
        """``(name, part)``, outermost first."""
        return ((name, self._modules[name]) for name in self.order)

    def input_shapes(self, batch_size: int) -> dict[str, tuple[int, ...]]:
        """Shapes of the four inputs for a batch (the time features' width is the forecaster's)."""
        s = self.sizes
        marks = self.core.input_shapes(1)["x_mark_enc"][2]
        return window_shapes(batch_size, seq_len=s.seq_len, label_len=s.label_len, pred_len=s.pred_len,
                             enc_in=s.enc_in, dec_in=s.dec_in, marks=marks)

    def kept_queries(self) -> dict[str, Tensor]:
        """The forecaster's kept queries (:meth:`Informer.kept_queries`), under the same names."""
        kept = getattr(self.core, "kept_queries", None)
        return kept() if kept is not None else {}

    def linear_parameters(self) -> list[nn.Parameter]:
        """The parameters the parts call linear (a cycle's table, a linear skip's maps):
        ``train.linear_lr`` trains them."""
        return [p for _, part in self.parts() for p in part.linear_parameters()]

    def train(self, mode: bool = True) -> "Composed":
        super().train(mode)
        self.core.training = mode
        return self

    def forward(self, batch: Batch, *, generator: torch.Generator | None = None) -> Tensor:
        """The forecast (B, pred_len, c_out) of a batch of the whole model's shapes.

        Raises:
            ValueError: if an input does not have the shape :meth:`input_shapes` gives.
        """
        self._check_inputs(batch)
        states = []
        for name, part in self.parts():
            batch, state = part.encode(batch)
            states.append(state)
            if self.observer is not None:
                self.observer(name, "encode", batch, state)
        out = self.core(batch, generator=generator)
        for (name, part), state in zip(reversed(list(self.parts())), reversed(states)):
            out = part.decode(out, state)
            if self.observer is not None:
                self.observer(name, "decode", out, state)
        return out

    def _check_inputs(self, batch: Batch) -> None:
        """The whole model's shapes, so that an error names what the caller passed, not what a
        part made of it."""
        check_shapes(batch, self.input_shapes, calendar=self.core.settings.get("embed", "timeF") != "timeF")


def _saved_names(module: nn.Module, state_dict: dict, prefix: str, local_metadata: Any) -> None:
    for live, saved in _SAVED_NAMES.items():
        if prefix + live in state_dict:
            state_dict[prefix + saved] = state_dict.pop(prefix + live)


def _live_names(state_dict: dict, prefix: str, *args: Any) -> None:
    for live, saved in _SAVED_NAMES.items():
        if prefix + saved in state_dict:
            state_dict[prefix + live] = state_dict.pop(prefix + saved)
