"""Command lines written for the published entry point (``python -u main_informer.py ...``).

Scripts that call the published program pass flags ``informer train`` spells differently or
does not have (``--root_path ./data/ETT/ --data_path ETTh1.csv --des Exp --use_amp ...``) and
two flags whose meaning is the opposite of ours (there, ``--distil`` and ``--mix`` switch the
feature *off*). A ``train`` command line holding any flag that only the published program has is
read with the published meanings and defaults, so replacing the program name is enough:

* ``--root_path`` / ``--data_path`` name the file; ``--data`` ETTh1, ETTh2, ETTm1, ETTm2 or WTH
  takes its standard file name, target and split (the bundled, byte-identical copy when the file
  is not there); another ``--data`` (``custom``) reads ``root_path/data_path`` with the ratio split;
* published defaults that differ from ours: ``--freq h``, ``--target OT``, ``--itr 2``; the
  published ``--freq`` picks the time features only, so it becomes ``--time-freq``;
* ``--distil`` means ``--no-distil``, ``--mix`` means ``--no-mix``; ``--cols a b c`` is a list;
* ``--do_predict`` writes ``forecast.csv`` into the run directory, ``--inverse`` reports the
  test metrics in original units too;
* no effect here: ``--des``, ``--checkpoints`` (the run directory is ``--out``), ``--enc_in``,
  ``--dec_in``, ``--c_out`` (widths come from the data), ``--output_attention``, ``--padding 0``,
  ``--use_gpu``, ``--gpu 0``, ``--devices`` without ``--use_multi_gpu``;
* refused with a one-line error: ``--padding 1``, ``--gpu N`` for N > 0, ``--use_multi_gpu``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from informer.data.bundled import find_bundled
from informer.errors import ConfigError

# Flags only the published entry point has: one of them marks a published command line.
# (--train_epochs, --learning_rate and --use_amp mean what --epochs, --lr and --amp mean: they are
# accepted everywhere and mark nothing.)
PUBLISHED_ONLY = {"root_path", "data_path", "des", "checkpoints", "enc_in", "dec_in", "c_out", "padding",
                  "output_attention", "do_predict", "inverse", "use_gpu", "gpu", "use_multi_gpu", "devices"}
# The published program's own table of datasets: file name, target and our split preset.
PUBLISHED_DATA = {"ETTh1": ("ETTh1.csv", "OT", "ett_hour"), "ETTh2": ("ETTh2.csv", "OT", "ett_hour"),
                  "ETTm1": ("ETTm1.csv", "OT", "ett_minute"), "ETTm2": ("ETTm2.csv", "OT", "ett_minute"),
                  "WTH": ("WTH.csv", "WetBulbCelsius", "ratio"), "ECL": ("ECL.csv", "MT_320", "ratio"),
                  "Solar": ("solar_AL.csv", "POWER_136", "ratio")}
_NO_VALUE = {"distil", "mix", "output_attention", "do_predict", "inverse", "use_multi_gpu", "use_amp", "stack",
             "amp", "overwrite", "progress"}
_IGNORED = ("des", "checkpoints", "enc_in", "dec_in", "c_out", "output_attention", "use_gpu", "devices")


def _name(token: str) -> str:
    return token[2:].partition("=")[0].replace("-", "_")


def is_published(argv: Sequence[str]) -> bool:
    """Whether a ``train`` command line uses flags only the published program has, in its
    spelling (``--do_predict``; this project's ``--do-predict`` is not one)."""
    return any(token.startswith("--") and token[2:].partition("=")[0] in PUBLISHED_ONLY for token in argv)


def _options(argv: Sequence[str]) -> list[tuple[str, list[str]]]:
    """``[(name, values)]`` in order; positional tokens are kept as ``("", [token])``."""
    options: list[tuple[str, list[str]]] = []
    for token in argv:
        if token.startswith("--"):
            name, eq, value = token[2:].partition("=")
            name = name.replace("-", "_")
            options.append((name, [value] if eq else []))
        elif options and options[-1][0] and (options[-1][0] == "cols" or not options[-1][1]) \
                and options[-1][0] not in _NO_VALUE:
            options[-1][1].append(token)
        else:
            options.append(("", [token]))
    return options


def translate(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """The ``informer train`` arguments meaning what ``argv`` means to the published program,
    and notes on what was read differently (for one line on stderr).

    Raises:
        ConfigError: for the published options ``informer train`` does not support.
    """
    options = _options(argv)
    given = {name: values for name, values in options if name}
    notes: list[str] = []
    result: list[str] = []
    for name, values in options:
        if not name:
            result.extend(values)
        elif name in ("root_path", "data_path", "data", "target", "freq", "itr") or name in _IGNORED:
            continue  # decided below, or no effect here
        elif name == "padding":
            if values and values[0] != "0":
                raise ConfigError("--padding 1 (ones in the decoder's placeholders) is not supported; "
                                  "informer pads with zeros, the published default")
        elif name == "gpu":
            if values and values[0] != "0":
                raise ConfigError(f"--gpu {values[0]}: choose the GPU with CUDA_VISIBLE_DEVICES={values[0]} "
                                  "and --device cuda")
        elif name == "use_multi_gpu":
            raise ConfigError("--use_multi_gpu: informer train uses one device; several are not supported here")
        elif name in ("distil", "mix"):
            result.append(f"--no-{name}")  # published: store_false
        elif name == "cols":
            result.extend(["--cols", ",".join(values)])
        elif name == "do_predict":
            result.append("--do-predict")
        elif name == "inverse":
            result.append("--original-units")
        else:
            result.extend([f"--{name}", *values])
    data = (given.get("data") or ["ETTh1"])[0]
    root = Path((given.get("root_path") or ["./data/ETT/"])[0])
    standard = PUBLISHED_DATA.get(data)
    target = (given.get("target") or [None])[0]
    if standard is not None:
        file_name, target, split = standard  # the published table overrides --data_path and --target
        path = root / file_name
        if path.is_file():
            result.extend(["--data", str(path), "--split", split])
        elif find_bundled(data) is not None:
            result.extend(["--data", data])
            notes.append(f"{path} not found: using the bundled {data}")
        else:
            raise ConfigError(f"{path}: missing; the published {data} file is not bundled with informer")
    elif "data_path" not in given and "root_path" not in given and (Path(data).is_file() or find_bundled(data)):
        result.extend(["--data", data])  # this project's --data: a file or a bundled name
    else:
        result.extend(["--data", str(root / (given.get("data_path") or ["ETTh1.csv"])[0])])
    result.extend(["--target", target or "OT"])
    # published --freq picks the time features only ("freq for time features encoding")
    result.extend(["--time-freq", (given.get("freq") or ["h"])[0]])
    result.extend(["--itr", (given.get("itr") or ["2"])[0]])
    ignored = [f"--{name}" for name in _IGNORED if name in given]
    notes.insert(0, "read with the published main_informer.py meanings (--distil and --mix switch off; "
                    "defaults --freq h, --target OT, --itr 2)")
    if ignored:
        notes.append(f"no effect here: {', '.join(ignored)}")
    return result, notes
