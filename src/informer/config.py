"""Configuration: frozen, typed values read once at the top and passed down.

Each section is a frozen dataclass that validates itself in ``__post_init__`` and raises
:class:`~informer.errors.ConfigError` with a message saying how to fix the value. Layers never
see these objects: they take plain keyword arguments.
"""

from __future__ import annotations

import dataclasses
import difflib
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from informer import safeio
from informer.errors import ConfigError

FEATURE_MODES = ("M", "S", "MS")
FILL_METHODS = ("ffill", "interpolate")
DECIMAL_MARKS = (".", ",")
ATTENTION_KINDS = ("prob", "full")
EMBEDDINGS = ("timeF", "fixed", "learned")
ACTIVATIONS = ("gelu", "relu")
MODEL_KINDS = ("informer", "linear", "repeat")
NORMS = ("none", "revin", "last")
# What lazy decoder queries get: the published cumulative sum of V, or its cumulative mean.
LAZY_DECODERS = ("cumsum", "cummean")
# Where the linear skip reads the window: not at all, as given (``raw``) or normalised.
SKIPS = ("none", "raw", "normalised")
# The one-word spellings of 0.5-0.7, which packed where and whether gated into one value: still
# read from config files, --set and run directories.
SKIP_SPELLINGS = {"linear": ("normalised", False), "gated": ("normalised", True),
                  "linear-raw": ("raw", False), "gated-raw": ("raw", True)}


def skip_as_today(skip: str, gated: bool = False) -> tuple[str, bool]:
    """``(skip, skip_gated)`` as spelled today, for a skip given in either spelling."""
    if skip in SKIP_SPELLINGS:
        where, old_gated = SKIP_SPELLINGS[skip]
        return where, old_gated or gated
    return skip, gated


_SIMPLE_TYPES = {"int": int, "float": float, "bool": bool, "str": str}


def _check_types(config, section: str) -> None:
    """Check each field against its annotation (int, float, bool, str, optional, tuples)."""
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        annotation = str(f.type).replace(" ", "")
        optional = annotation.endswith("|None")
        base = annotation.removesuffix("|None")
        if value is None:
            if optional:
                continue
            raise ConfigError(f"{section}.{f.name} must be set")
        if base.startswith("tuple["):
            if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
                raise ConfigError(f"{section}.{f.name} must be a list, got {value!r}")
            continue
        kind = _SIMPLE_TYPES.get(base)
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            object.__setattr__(config, f.name, float(value))
            continue
        wrong_bool = kind is not bool and isinstance(value, bool)
        if kind is not None and (wrong_bool or not isinstance(value, kind)):
            raise ConfigError(f"{section}.{f.name} must be {base}, got {value!r}")


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
    else to the last column, the inferred frequency and the 70/10/20 ratio split. A declared
    ``freq`` must agree with the timestamps; ``time_freq`` picks other time features than the
    data's own (the published ETTm scripts used the hourly ones on 15-minute data).
    ``decimal`` is the decimal mark of a CSV (detected for ``;``-separated files when None);
    ``dayfirst`` reads ``13/01/2010`` as 13 January.
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
    time_freq: str | None = None
    decimal: str | None = None
    dayfirst: bool = False

    def __post_init__(self) -> None:
        _check_types(self, "data")
        if self.decimal is not None:
            _one_of("data", "decimal", self.decimal, DECIMAL_MARKS)
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
            object.__setattr__(self, "cols", tuple(self.cols))
            if not self.cols:
                raise ConfigError("data.cols must name at least one column")


@dataclass(frozen=True)
class ModelConfig:
    """The model kind and its architecture. Input and output widths come from the data.

    ``kind`` picks the forecaster: ``informer`` (the default; ``stack`` for InformerStack),
    ``linear`` (DLinear: ``moving_avg``, ``individual``) or ``repeat`` (the last observed value,
    no training). Each kind reads only its own fields.
    """

    kind: str = "informer"
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
    moving_avg: int = 25
    individual: bool = False
    norm: str = "none"
    norm_affine: bool = False
    channel_independent: bool = False
    skip: str = "none"  # where the linear skip reads the window: none, raw or normalised (SKIPS)
    skip_gated: bool = False  # the network's part scaled by a learned gate that starts at 0
    patch_len: int = 1
    cycle: int | str = 0  # steps, or "auto": the data's natural cycle (informer.data.timefeatures.natural_cycle)
    cycle_norm: bool = False  # the cycle in the window's normalised units (inside norm revin), as CycleNet

    def __post_init__(self) -> None:
        _check_types(self, "model")
        if self.skip in SKIP_SPELLINGS:
            where, gated = skip_as_today(self.skip, self.skip_gated)
            object.__setattr__(self, "skip", where)
            object.__setattr__(self, "skip_gated", gated)
        _one_of("model", "kind", self.kind, MODEL_KINDS)
        _positive(
            "model",
            moving_avg=self.moving_avg,
            d_model=self.d_model,
            n_heads=self.n_heads,
            e_layers=self.e_layers,
            d_layers=self.d_layers,
            d_ff=self.d_ff,
            factor=self.factor,
            patch_len=self.patch_len,
        )
        if self.cycle != "auto" and (not isinstance(self.cycle, int) or isinstance(self.cycle, bool)
                                     or self.cycle < 0):
            raise ConfigError(f"model.cycle must be 0 (none), a cycle length in steps or auto, got {self.cycle!r}")
        if self.d_model % self.n_heads:
            raise ConfigError(
                f"model.d_model ({self.d_model}) must be divisible by model.n_heads ({self.n_heads})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"model.dropout must be in [0, 1), got {self.dropout!r}")
        _one_of("model", "attn", self.attn, ATTENTION_KINDS)
        _one_of("model", "embed", self.embed, EMBEDDINGS)
        _one_of("model", "activation", self.activation, ACTIVATIONS)
        _one_of("model", "lazy_decoder", self.lazy_decoder, LAZY_DECODERS)
        _one_of("model", "norm", self.norm, NORMS)
        _one_of("model", "skip", self.skip, SKIPS)
        if self.cycle_norm and (self.norm != "revin" or self.cycle == 0):
            raise ConfigError("model.cycle_norm puts the cycle inside RevIN: it needs model.norm = revin and a "
                              "model.cycle")
        if self.skip_gated and self.skip == "none":
            raise ConfigError("model.skip_gated scales the network's part against the linear skip: it needs "
                              "model.skip = raw or normalised")
        if self.norm_affine and self.norm == "none":
            raise ConfigError("model.norm_affine scales and shifts RevIN's output: it needs model.norm = revin or last")
        object.__setattr__(self, "s_layers", tuple(self.s_layers))
        if not self.s_layers or any(not isinstance(d, int) or d <= 0 for d in self.s_layers):
            raise ConfigError(f"model.s_layers must be positive depths, got {self.s_layers!r}")


LOSSES = ("mse", "mae", "huber")
MAX_WORKERS = 256  # data-loading processes; more only exhausts the machine
MAX_THREADS = 1024  # torch threads; OpenMP aborts the process far above any real core count
LR_SCHEDULES = ("type1", "type2", "constant")
DEVICES = ("auto", "cpu", "cuda")
# What a run asks to compute in (informer.precision resolves auto and on for the device).
AMP_MODES = ("off", "auto", "on", "bf16", "fp16")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; defaults are the published ones (Adam, lr 1e-4, 6 epochs)."""

    epochs: int = 6
    batch_size: int = 32
    lr: float = 1e-4
    lradj: str = "type1"
    patience: int = 3
    loss: str = "mse"
    seed: int = 2021
    itr: int = 1
    device: str = "auto"
    amp: str = "off"
    num_workers: int = 0
    checkpoint_activations: bool = False
    linear_lr: float | None = None  # the linear parts' learning rate (Informer's skip, a cycle); None: lr

    def __post_init__(self) -> None:
        if isinstance(self.amp, bool):  # before 0.3: amp true meant the device's half precision
            object.__setattr__(self, "amp", "on" if self.amp else "off")
        _check_types(self, "train")
        _one_of("train", "amp", self.amp, AMP_MODES)
        _positive("train", epochs=self.epochs, batch_size=self.batch_size, patience=self.patience, itr=self.itr)
        if not isinstance(self.lr, (int, float)) or isinstance(self.lr, bool) or not self.lr > 0:
            raise ConfigError(f"train.lr must be a positive number, got {self.lr!r}")
        _one_of("train", "lradj", self.lradj, LR_SCHEDULES)
        _one_of("train", "loss", self.loss, LOSSES)
        _one_of("train", "device", self.device, DEVICES)
        # Seeds are used up to seed + itr - 1 (and offset per process); 32 bits leave room in torch's 64.
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or not 0 <= self.seed < 2**32:
            raise ConfigError(f"train.seed must be an integer from 0 to {2**32 - 1}, got {self.seed!r}")
        if self.seed + self.itr > 2**32:
            raise ConfigError(f"train.seed + train.itr - 1 must be at most {2**32 - 1}: lower `seed` or `itr`")
        if self.linear_lr is not None and not self.linear_lr > 0:
            raise ConfigError(f"train.linear_lr must be a positive number, got {self.linear_lr!r}")
        if not isinstance(self.num_workers, int) or not 0 <= self.num_workers <= MAX_WORKERS:
            raise ConfigError(f"train.num_workers must be an integer from 0 to {MAX_WORKERS}, got {self.num_workers!r}")


@dataclass(frozen=True)
class RunConfig:
    """Everything a training run needs; saved as ``config.json`` in the run directory.

    ``preset`` names the bundle of defaults the settings started from (:data:`PRESETS`):
    ``published`` (the paper's code) or ``modern`` (docs/benchmark.md).
    """

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    preset: str = "published"

    def to_dict(self) -> dict:
        payload = {name: _plain(dataclasses.asdict(getattr(self, name))) for name in SECTIONS}
        if self.preset != "published":
            payload["preset"] = self.preset
        return payload

    @classmethod
    def from_dict(cls, payload: dict, *, source: str = "config", saved: bool = False) -> "RunConfig":
        """Build and validate from nested dicts; unknown sections or keys are errors.

        ``saved``: the dicts a run directory recorded. They are complete as written: ``preset``
        only names where they came from, and a key an older version did not record takes the
        dataclass default (what that version did), never today's preset value.
        """
        if not isinstance(payload, dict):
            raise ConfigError(f"{source}: expected a table of sections {', '.join(SECTIONS)}")
        unknown = sorted(set(payload) - set(SECTIONS) - {"preset"})
        if unknown:
            raise ConfigError(f"{source}: unknown section {unknown[0]!r}; sections are {', '.join(SECTIONS)} "
                              "(and the key preset)")
        for name in SECTIONS:
            if not isinstance(payload.get(name, {}), dict):
                raise ConfigError(f"{source}: section {name!r} must be a table of keys")
        name = payload.get("preset", "published")
        if not isinstance(name, str) or name not in PRESETS:
            raise ConfigError(f"{source}: preset must be one of {', '.join(PRESETS)}; got {name!r}")
        preset = {} if saved else PRESETS[name]
        sections = {"model": _build(ModelConfig, {**preset.get("model", {}), **payload.get("model", {})},
                                    f"{source}: model")}
        kind = sections["model"].kind
        if preset and kind != "informer":
            raise ConfigError(f"{source}: the {name} preset is an Informer configuration; the {kind} model "
                              "takes its own defaults (drop `preset`)")
        kind_defaults = {} if saved else TRAIN_DEFAULTS[kind]
        train = {**kind_defaults, **preset.get("train", {}), **payload.get("train", {})}
        sections["train"] = _build(TrainConfig, train, f"{source}: train")
        sections["data"] = _build(DataConfig, payload.get("data", {}), f"{source}: data")
        return cls(**sections, preset=name)

    @classmethod
    def for_model(cls, kind: str, *, data: "DataConfig | None" = None, **model: object) -> "RunConfig":
        """A configuration for a model ``kind`` with that kind's published training defaults
        (see :data:`TRAIN_DEFAULTS`), e.g. ``RunConfig.for_model("linear", data=DataConfig(...))``."""
        payload = {"model": {"kind": kind, **model}}
        if data is not None:
            payload["data"] = dataclasses.asdict(data)
        return cls.from_dict(payload, source="RunConfig.for_model")


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
# The published code's names of settings that are called otherwise here, for "did you mean".
PUBLISHED_NAMES = {"learning_rate": "lr", "train_epochs": "epochs", "use_amp": "amp", "model": "kind"}


def _suggestion(name: str, fields: list[str]) -> str | None:
    if PUBLISHED_NAMES.get(name) in fields:
        return PUBLISHED_NAMES[name]
    close = difflib.get_close_matches(name, fields, n=1)
    return close[0] if close else None

# Each model kind's published training settings, applied under whatever a config file, a flag
# or ``--set`` gives (``TrainConfig``'s own defaults are Informer's). DLinear's scripts
# (LTSF-Linear, ETTh1) train 10 epochs with lr 0.005; the repeat baseline does not train.
TRAIN_DEFAULTS: dict[str, dict[str, object]] = {
    "informer": {},
    "linear": {"epochs": 10, "lr": 0.005},
    "repeat": {},
}


# Named bundles of settings, applied under whatever a config file, a flag or ``--set`` gives.
# ``published`` is the paper's code. ``modern`` was chosen on validation data only, on the
# look-back-96 protocol (docs/benchmark.md has the search, its rows and the ablation).
PRESETS: dict[str, dict[str, dict[str, object]]] = {
    "published": {},
    "modern": {
        "model": {"d_model": 64, "n_heads": 4, "d_ff": 128, "dropout": 0.1, "norm": "revin",
                  "channel_independent": True, "patch_len": 24, "skip": "raw", "cycle": "auto"},
        "train": {"lr": 3e-4, "linear_lr": 5e-3, "epochs": 10, "patience": 3},
    },
}


def _plain(values: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def _build(kind, values: dict, where: str):
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        close = _suggestion(unknown[0], list(fields))
        hint = f" (did you mean {close!r}?)" if close else f"; known keys: {', '.join(fields)}"
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}{hint}")
    try:
        return kind(**values)
    except TypeError as error:
        raise ConfigError(f"{where}: {error}") from error


def load_toml(path: str | Path) -> dict:
    """Read a TOML config file into nested dicts (validated later by RunConfig.from_dict): a
    regular file of at most :data:`~informer.safeio.CONFIG_LIMIT` bytes, UTF-8, nested at most
    :data:`~informer.safeio.NESTING_LIMIT` levels.

    Raises:
        ConfigError: naming the file when it is missing, not a regular file, too large or not TOML.
    """
    try:
        payload = tomllib.loads(safeio.read_text(path, limit=safeio.CONFIG_LIMIT, kind="TOML", error=ConfigError))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config file: {error.strerror or error}") from error
    except RecursionError:
        payload = None
    except ValueError as error:  # TOMLDecodeError, and integers of more than 4300 digits
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(f"{path}: invalid TOML: {str(error).splitlines()[0] if str(error) else error}") from error
    if payload is None or safeio.too_deep(payload):
        raise ConfigError(f"{path}: invalid TOML: nested more than {safeio.NESTING_LIMIT} levels deep")
    return payload


def apply_overrides(payload: dict, assignments: list[str]) -> dict:
    """Apply ``section.key=value`` overrides (values parsed as TOML, else taken as text)."""
    for name, values in payload.items():
        if not isinstance(values, dict) and name != "preset":
            raise ConfigError(
                f"top-level setting {name!r} belongs in a section: [data], [model] or [train] (e.g. [train] epochs = 10)"
            )
    result = {name: dict(values) if isinstance(values, dict) else values for name, values in payload.items()}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        section, dot, name = key.strip().partition(".")
        if not sep or not dot or not name:
            raise ConfigError(f"override {assignment!r}: expected section.key=value, e.g. train.lr=5e-5")
        if section not in SECTIONS:
            raise ConfigError(f"override {assignment!r}: unknown section {section!r}; sections are "
                              f"{', '.join(SECTIONS)}")
        fields = [f.name for f in dataclasses.fields(SECTIONS[section])]
        if name.strip() not in fields:
            close = _suggestion(name.strip(), fields)
            hint = f" (did you mean {section}.{close}?)" if close else f"; known keys: {', '.join(fields)}"
            raise ConfigError(f"override {assignment!r}: unknown key {name.strip()!r} in [{section}]{hint}")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except (tomllib.TOMLDecodeError, ValueError, RecursionError):  # ValueError: an integer too long to read
            value = text.strip()
        result.setdefault(section, {})[name.strip()] = value
    return result


def replace(config, **changes):
    """Return a copy of a frozen config with ``changes`` applied (and validated again)."""
    names = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(changes) - names)
    if unknown:
        section = type(config).__name__
        raise ConfigError(f"{section} has no field {unknown[0]!r}; known: {', '.join(sorted(names))}")
    return dataclasses.replace(config, **changes)


__all__ = ["DataConfig", "ModelConfig", "RunConfig", "TrainConfig", "apply_overrides", "load_toml", "replace"]
