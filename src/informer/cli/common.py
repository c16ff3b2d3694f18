"""What every command group shares: the parser class, argument types and groups, settings, messages.

The data, model and training flags are defined once here (:func:`add_data_arguments`,
:func:`add_model_arguments`, :func:`add_train_arguments`) together with the setting each flag
sets (:data:`DATA_FLAGS`, :data:`MODEL_FLAGS`, :data:`TRAIN_FLAGS`); :func:`run_config` turns
parsed flags into a :class:`~informer.config.RunConfig`. Library messages name settings in
backticks (`` `seq_len` ``) or as ``section.key`` and library functions as calls
(`` `resume('runs/x')` ``); :func:`user_words` spells them as this command's flags.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import logging
import os
import re
import shlex
import sys
from collections.abc import Callable, Sequence

from informer.config import (
    ACTIVATIONS,
    AMP_MODES,
    ATTENTION_KINDS,
    DECIMAL_MARKS,
    DEVICES,
    EMBEDDINGS,
    FEATURE_MODES,
    FILL_METHODS,
    LAZY_DECODERS,
    LOSSES,
    LR_SCHEDULES,
    MAX_THREADS,
    MODEL_KINDS,
    NORMS,
    PRESETS,
    SECTIONS,
    SKIP_SPELLINGS,
    SKIPS,
    TRAIN_DEFAULTS,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    apply_overrides,
    load_toml,
)
from informer.data.splits import SPLIT_PRESETS
from informer.errors import ConfigError

log = logging.getLogger("informer")


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def command_text(text: str) -> tuple[str, str, list[str]]:
    """``(help, description, examples)`` from a command's docstring: its first line, the
    paragraph after it, and the command lines under ``examples:``."""
    head, _, tail = inspect.cleandoc(text).partition("examples:")
    summary, _, description = head.strip().partition("\n")
    examples = [line.strip() for line in tail.strip().splitlines() if line.strip()]
    return summary.strip(), " ".join(description.split()), examples


def add_command(commands, name: str, handler: Callable[[argparse.Namespace], int] | None, *,
                text: str | None = None) -> argparse.ArgumentParser:
    """A subcommand described by ``text`` (default: the handler's docstring), whose ``--help``
    ends with the examples listed there (one command line each)."""
    summary, description, examples = command_text(text or handler.__doc__ or name)
    parser = commands.add_parser(
        name, help=summary, description=description,
        epilog="examples:\n" + "".join(f"  {line}\n" for line in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler, command_parser=parser)
    parser.add_argument("--threads", type=thread_count, metavar="N",
                        help="torch threads (default: the cores this process may use, shared among torchrun's "
                             "processes; use 1 for each of several runs side by side)")
    return parser


# --- argument types ---------------------------------------------------------------------------

def cycle_length(text: str) -> int | str:
    """``--cycle``: ``auto`` or a whole number of steps, 0 for none."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected auto or a whole number of steps (0: none), got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected auto or a whole number of steps (0: none), got {value}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


# More than any machine's cores, fewer than would exhaust memory: OpenMP allocates per thread
# before any work (--threads 1000000000 asks it for 200 GB and aborts the process).


def thread_count(text: str) -> int:
    """``--threads``: a positive integer up to :data:`MAX_THREADS`."""
    value = positive_int(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_THREADS} threads (use the number of cores), "
                                         f"got {value}")
    return value


def int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(positive_int(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None


def column_list(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return names


# --- flags and the settings they set ----------------------------------------------------------

# Each flag's destination in the configuration: dest -> (section, key); the dest is the key.
# Flags left out keep the config file's value, else the model kind's training default, else
# the dataclass default: defaults < kind defaults < --config < flags < --set.
DATA_FLAGS = {
    name: ("data", name)
    for name in ("data", "features", "target", "cols", "date_col", "freq", "time_freq", "fill", "split", "seq_len",
                 "label_len", "pred_len", "decimal", "dayfirst")
}
MODEL_FLAGS = {
    name: ("model", name)
    for name in ("kind", "d_model", "n_heads", "e_layers", "d_layers", "d_ff", "factor", "dropout", "attn",
                 "embed", "activation", "distil", "mix", "stack", "s_layers", "lazy_decoder", "moving_avg",
                 "individual", "norm", "norm_affine", "channel_independent", "skip", "skip_gated", "patch_len",
                 "cycle", "cycle_norm")
}
TRAIN_FLAGS = {
    name: ("train", name)
    for name in ("epochs", "batch_size", "lr", "lradj", "patience", "loss", "seed", "itr", "device", "amp",
                 "num_workers", "checkpoint_activations", "linear_lr")
}
SETTING_FLAGS = {**DATA_FLAGS, **MODEL_FLAGS, **TRAIN_FLAGS}

# The published code's spelling of a model with the stacked encoder (--model informerstack).
STACK_KIND = "informerstack"


def _on_off(value: bool) -> str:
    """An on/off setting's default as help texts say it."""
    return "on" if value else "off"


def add_unchecked_weights_argument(parser: argparse.ArgumentParser) -> None:
    """``--unchecked-weights``, for the commands that load a run directory."""
    parser.add_argument("--unchecked-weights", action="store_true",
                        help="load weights that carry no checksum of their settings (written by hand or "
                             "another program), trusting config.json to describe them")


def add_data_arguments(parser: argparse.ArgumentParser, *, with_data: bool = True) -> None:
    """The data flags shared by every subcommand that reads a series."""
    d = DataConfig()
    group = parser.add_argument_group("data")
    if with_data:
        group.add_argument("--data", help=f"bundled dataset name or CSV/Parquet path (default: {d.data})")
    group.add_argument("--features", choices=FEATURE_MODES,
                       help="M: all columns in and out; S: target only; MS: all in, target out "
                            f"(default: {d.features})")
    group.add_argument("--target", help="target column (default: the dataset's, else the last column)")
    group.add_argument("--cols", type=column_list, help="comma-separated columns to use (default: all)")
    group.add_argument("--date-col", help=f"name of the datetime column (default: {d.date_col})")
    group.add_argument("--freq", help="frequency: pandas alias (15min, h, D) or paper letter (t, h, d, 15t); "
                                      "default: inferred")
    group.add_argument("--time-freq", help="time features of another frequency than the data's, e.g. h on "
                                           "15-minute data as the published ETTm scripts (default: the data's)")
    group.add_argument("--decimal", choices=DECIMAL_MARKS,
                       help="decimal mark of the CSV (default: '.', or ',' detected in ';'-separated files)")
    group.add_argument("--dayfirst", action=argparse.BooleanOptionalAction,
                       help=f"read dates such as 13/01/2010 as day/month/year (default: {_on_off(d.dayfirst)})")
    group.add_argument("--fill", choices=FILL_METHODS, help="repair missing/infinite values instead of refusing them")
    group.add_argument("--split", help=f"split preset: {', '.join(SPLIT_PRESETS)} or ratio:0.7,0.1,0.2 "
                                       "(default: the dataset's, else ratio)")
    group.add_argument("--seq-len", type=positive_int, help=f"encoder input length (default: {d.seq_len})")
    group.add_argument("--label-len", type=positive_int, help=f"decoder start length (default: {d.label_len})")
    group.add_argument("--pred-len", type=positive_int, help=f"prediction length (default: {d.pred_len})")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The model flags: the kind, Informer's architecture, DLinear's two settings."""
    m = ModelConfig()
    group = parser.add_argument_group("model")
    group.add_argument("--preset", choices=tuple(PRESETS),
                       help="the defaults to start from: published (the paper's code) or modern (RevIN, channel "
                            "independence, 24-step patches, a DLinear part, a learned cycle, a small width, its own "
                            f"learning rates: docs/benchmark.md) (default: {RunConfig().preset})")
    group.add_argument("--model", dest="kind", choices=(*MODEL_KINDS, STACK_KIND),
                       metavar="{" + ",".join(MODEL_KINDS) + "}",
                       help=f"default {m.kind}; linear = DLinear; repeat = last value repeated, no training "
                            f"({STACK_KIND} = informer --stack)")
    group.add_argument("--d-model", type=positive_int, help=f"model width (default: {m.d_model})")
    group.add_argument("--n-heads", type=positive_int, help=f"attention heads (default: {m.n_heads})")
    group.add_argument("--e-layers", type=positive_int, help=f"encoder layers (default: {m.e_layers})")
    group.add_argument("--d-layers", type=positive_int, help=f"decoder layers (default: {m.d_layers})")
    group.add_argument("--d-ff", type=positive_int, help=f"feed-forward width (default: {m.d_ff})")
    group.add_argument("--factor", type=positive_int, help=f"ProbSparse sampling factor c (default: {m.factor})")
    group.add_argument("--dropout", type=float, help=f"dropout (default: {m.dropout})")
    group.add_argument("--attn", choices=ATTENTION_KINDS,
                       help=f"prob: ProbSparse; full: canonical (default: {m.attn})")
    group.add_argument("--embed", choices=EMBEDDINGS, help=f"time-feature embedding (default: {m.embed})")
    group.add_argument("--activation", choices=ACTIVATIONS, help=f"feed-forward activation (default: {m.activation})")
    group.add_argument("--distil", action=argparse.BooleanOptionalAction,
                       help=f"self-attention distilling (default: {_on_off(m.distil)})")
    group.add_argument("--mix", action=argparse.BooleanOptionalAction,
                       help=f"published head/time re-view after decoder self-attention (default: {_on_off(m.mix)})")
    group.add_argument("--stack", action=argparse.BooleanOptionalAction,
                       help=f"InformerStack encoder (default: {_on_off(m.stack)})")
    group.add_argument("--s-layers", type=int_list,
                       help=f"InformerStack encoder depths (default: {','.join(map(str, m.s_layers))})")
    group.add_argument("--lazy-decoder", choices=LAZY_DECODERS,
                       help=f"what lazy decoder queries get: published cumsum or cummean (default: {m.lazy_decoder})")
    group.add_argument("--moving-avg", type=positive_int, metavar="N",
                       help=f"DLinear moving-average window (default: {m.moving_avg})")
    group.add_argument("--individual", action=argparse.BooleanOptionalAction,
                       help=f"DLinear: one linear map per channel (default: {_on_off(m.individual)})")
    group.add_argument("--norm", choices=NORMS,
                       help="revin: normalise each window by its own mean and std and the forecast back; "
                            f"last: subtract each window's last value and add it back (default: {m.norm}, as "
                            "published)")
    group.add_argument("--norm-affine", action=argparse.BooleanOptionalAction,
                       help="with --norm revin or last, a learnable scale and shift per channel "
                            f"(default: {_on_off(m.norm_affine)})")
    group.add_argument("--channel-independent", action=argparse.BooleanOptionalAction,
                       help="each channel its own one-channel sample, weights shared "
                            f"(default: {_on_off(m.channel_independent)})")
    group.add_argument("--patch-len", type=positive_int, metavar="P",
                       help="P consecutive steps make one token (as PatchTST): P times fewer tokens in the "
                            "encoder and decoder; lengths that are not multiples of P are padded inside the "
                            f"model (default: {m.patch_len}, one token per step, as published)")
    group.add_argument("--cycle", type=cycle_length, metavar="P",
                       help="learn a pattern of P steps per channel (CycleNet's residual cycle: 24 for a daily "
                            "cycle of hourly data, 96 of 15-minute data, 168 for a weekly one), taken out of the "
                            "input and put back into the forecast at each step's position in it; auto: a day of "
                            "steps for data sampled more often than daily, 7 for daily, 12 for monthly data "
                            f"(default: {m.cycle}, none, as published)")
    group.add_argument("--cycle-norm", action=argparse.BooleanOptionalAction,
                       help="with --norm revin, the cycle in each window's normalised units, as CycleNet "
                            f"orders it: its amplitude follows the window's spread (default: {_on_off(m.cycle_norm)}, "
                            "the same pattern in the data's units for every window)")
    # The one-word spellings of 0.5-0.7 are still accepted (config turns them into skip and
    # skip_gated), but help lists only today's choices.
    group.add_argument("--skip", choices=(*SKIPS, *SKIP_SPELLINGS), metavar="{" + ",".join(SKIPS) + "}",
                       help="add a DLinear forecast of the window to Informer's, so the attention layers learn "
                            "what a linear map misses; raw: DLinear of the window as given, before normalisation, "
                            "added to the de-normalised network forecast without its level; normalised: DLinear "
                            "of the normalised window, added before de-normalisation; the old spellings "
                            f"{', '.join(SKIP_SPELLINGS)} are still read (default: {m.skip}, as published)")
    group.add_argument("--skip-gated", action=argparse.BooleanOptionalAction,
                       help="with --skip, Informer's part scaled by a learned factor that starts at 0 "
                            f"(default: {_on_off(m.skip_gated)})")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The training flags, and the two ways to give many settings at once (--config, --set)."""
    t, linear = TrainConfig(), TRAIN_DEFAULTS["linear"]
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=positive_int,
                       help=f"maximum epochs (default: {t.epochs}; linear: {linear['epochs']}; repeat: none)")
    group.add_argument("--batch-size", type=positive_int, help=f"batch size (default: {t.batch_size})")
    group.add_argument("--lr", type=float, help=f"learning rate (default: {t.lr}; linear: {linear['lr']})")
    group.add_argument("--linear-lr", type=float, metavar="LR",
                       help="learning rate of the linear parts (Informer's --skip DLinear, a --cycle); "
                            "they follow --lradj with the rest (default: --lr)")
    group.add_argument("--lradj", choices=LR_SCHEDULES,
                       help=f"type1: halve from epoch 3; type2: the published table (default: {t.lradj})")
    group.add_argument("--patience", type=positive_int, help=f"early-stopping patience (default: {t.patience})")
    group.add_argument("--loss", choices=LOSSES, help=f"training loss (default: {t.loss})")
    group.add_argument("--seed", type=int, help=f"random seed (default: {t.seed})")
    group.add_argument("--itr", type=positive_int, help="repeat with seeds seed..seed+N-1, report mean and std")
    group.add_argument("--device", choices=DEVICES, help=f"auto: CUDA if available (default: {t.device})")
    group.add_argument("--amp", nargs="?", const="auto", choices=AMP_MODES,
                       help="mixed precision; alone: auto = fp16 on CUDA, bf16 on a CPU only where measured "
                            "faster than float32 (cached per machine); on: the device's half precision; "
                            f"bf16, fp16: that one (default: {t.amp})")
    group.add_argument("--no-amp", dest="amp", action="store_const", const="off", help="float32 (the default)")
    group.add_argument("--num-workers", type=int, help=f"data-loading worker processes (default: {t.num_workers})")
    group.add_argument("--checkpoint-activations", action=argparse.BooleanOptionalAction,
                       help="recompute each block's activations in backward: far less memory for long "
                            "inputs, about a third more compute, same results "
                            f"(default: {_on_off(t.checkpoint_activations)})")
    group.add_argument("--config", metavar="FILE.toml", help="read settings from a TOML file ([data], [model], [train])")
    group.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override one setting, e.g. --set train.lr=5e-5 (repeatable)")


def given_flags(args: argparse.Namespace, flags: dict) -> dict[tuple[str, str], object]:
    """The settings the flags in ``flags`` give explicitly: (section, key) -> value."""
    values = {place: getattr(args, dest) for dest, place in flags.items() if getattr(args, dest, None) is not None}
    if values.get(("model", "kind")) == STACK_KIND:
        if values.get(("model", "stack")) is False:
            raise ConfigError(f"--model {STACK_KIND} is Informer with --stack; drop --no-stack")
        values.update({("model", "kind"): "informer", ("model", "stack"): True})
    return values


def run_config(args: argparse.Namespace, flags: dict) -> RunConfig:
    """Defaults < the model kind's training defaults < --config file < explicit flags < --set."""
    payload = load_toml(args.config) if getattr(args, "config", None) else {}
    if getattr(args, "preset", None) is not None:
        payload["preset"] = args.preset
    for (section, key), value in given_flags(args, flags).items():
        payload.setdefault(section, {})[key] = value
    payload = apply_overrides(payload, getattr(args, "overrides", []))
    return RunConfig.from_dict(payload, source=getattr(args, "config", None) or "settings")


# --- published spellings ----------------------------------------------------------------------

# The published scripts' names for flags that are spelled differently here.
ALIASES = {"--learning-rate": "--lr", "--train-epochs": "--epochs", "--use-amp": "--amp"}


def normalise_argv(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[str]:
    """Accept the published underscore spellings (``--seq_len 96``, ``--learning_rate=1e-4``).

    Only tokens starting with ``--`` change, only before any ``=``, and only when the dashed
    spelling (or its alias) is an option of the (sub)command being parsed, so ``--help`` shows
    one spelling and option values are left alone.
    """
    result: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            result.append(token)
            result.extend(tokens)
            break
        if token.startswith("--"):
            name, eq, value = token.partition("=")
            dashed = "--" + name[2:].replace("_", "-")
            dashed = ALIASES.get(dashed, dashed)
            if dashed in parser._option_string_actions:
                token = dashed + eq + value
        elif not token.startswith("-"):
            parser = _subcommands(parser).get(token, parser)
        result.append(token)
    return result


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


# --- messages in the user's words -------------------------------------------------------------

_FIELDS = {name: {f.name for f in dataclasses.fields(kind)} for name, kind in SECTIONS.items()}

_QUOTED = re.compile(r"`(?:(data|model|train)\.)?([a-z_][a-z0-9_]*)(?:=([^`]*))?`")
# a bare section.key word, not inside a quoted or assigned text such as --set 'train.lr=x'
_BARE = re.compile(r"(?<![\w.'\"`/=-])(data|model|train)\.([a-z_][a-z0-9_]*)(?![\w=/'\"`]|\.\w)")


def flag_spellings(parser: argparse.ArgumentParser | None) -> dict[str, tuple[str, str | None]]:
    """Setting name (an option's dest) -> (flag, negative flag or None) for ``parser``'s long options."""
    spellings: dict[str, tuple[str, str | None]] = {}
    for action in parser._actions if parser is not None else ():
        longs = [s for s in action.option_strings if s.startswith("--")]
        positive = [s for s in longs if not s.startswith("--no-")]
        if positive and action.dest != "help":
            negative = next((s for s in longs if s.startswith("--no-")), None)
            spellings[action.dest] = (positive[0], negative)
    return spellings


# The flag of every setting, for messages about settings the running command has no flag for
# (``evaluate`` reading a file that needs ``fill``): they are spelled as ``informer train`` does.
_TRAIN_SPELLINGS = {name: ("--" + name.replace("_", "-"), None) for fields in _FIELDS.values() for name in fields}
_TRAIN_SPELLINGS.update(kind=("--model", None), at=("--at", None), out=("--out", None),
                        overwrite=("--overwrite", None))

# The library functions a message may name, with the command line that does the same: a call
# such as `resume('runs/x')` becomes ``informer train --resume runs/x``.
_CALL_SPELLINGS = {"resume": "informer train --resume"}
_CALL = re.compile(r"`([a-z_]+)\(([^`]*)\)`")


def _spelled_call(match: re.Match) -> str:
    """A quoted call of a library function (one literal argument, or none) as its command line;
    any other call stays as written."""
    name, argument = match.groups()
    if name not in _CALL_SPELLINGS:
        return match.group(0)
    if not argument.strip():
        return _CALL_SPELLINGS[name]
    try:
        value = ast.literal_eval(argument)
    except (ValueError, SyntaxError):
        return match.group(0)
    return f"{_CALL_SPELLINGS[name]} {shlex.quote(str(value))}"


def user_words(message: str, parser: argparse.ArgumentParser | None) -> str:
    """Spell the settings a library message names as this command's flags.

    `` `name` `` becomes ``--name-with-dashes`` and `` `name=value` `` becomes
    ``--name-with-dashes value`` (``--flag``/``--no-flag`` for true/false of an on/off flag); a
    section prefix (``data.``, ``model.``, ``train.``) is dropped, bare ``section.key`` words
    are spelled as flags too. A quoted setting the command has no flag for is spelled as
    ``informer train`` spells it; a quoted call of a library function the commands stand for
    (`` `resume('runs/x')` ``) becomes that command line; any other quoted name stays as written.
    """
    spellings = flag_spellings(parser)
    options = set(parser._option_string_actions) if parser is not None else set()

    def known(section: str | None, name: str) -> bool:
        return name in spellings and (section is None or name in _FIELDS[section])

    def quoted(match: re.Match) -> str:
        section, name, value = match.groups()
        if known(section, name):
            flag, negative = spellings[name]
        elif name in _TRAIN_SPELLINGS and (section is None or name in _FIELDS[section]) and \
                _TRAIN_SPELLINGS[name][0] not in options:  # never a flag this command uses otherwise
            flag, negative = _TRAIN_SPELLINGS[name]
        else:
            return match.group(0)
        if value is None:
            return flag
        if negative is not None and value.lower() in ("true", "false"):
            return flag if value.lower() == "true" else negative
        return f"{flag} {value}"

    def bare(match: re.Match) -> str:
        section, name = match.groups()
        return spellings[name][0] if known(section, name) else match.group(0)

    return _BARE.sub(bare, _QUOTED.sub(quoted, _CALL.sub(_spelled_call, message)))


# --- torchrun ---------------------------------------------------------------------------------

def torchrun_rank() -> int | None:
    """This process's rank when torchrun started it with others, else None (without importing torch)."""
    try:
        return int(os.environ["RANK"]) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else None
    except (KeyError, ValueError):
        return None


# --- console logging --------------------------------------------------------------------------

class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted (it may be replaced)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _ConsoleFormatter(logging.Formatter):
    """``informer: message``, with settings spelled as the running command's flags."""

    parser: argparse.ArgumentParser | None = None

    def format(self, record: logging.LogRecord) -> str:
        return "informer: " + user_words(super().format(record), self.parser)


def console_logging(level: int, parser: argparse.ArgumentParser | None = None) -> None:
    """Log the package's messages to stderr (one handler, however often main is called)."""
    logger = logging.getLogger("informer")
    logger.setLevel(level)
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        logger.addHandler(handler)
    formatter = _ConsoleFormatter()
    formatter.parser = parser
    handler.setFormatter(formatter)
