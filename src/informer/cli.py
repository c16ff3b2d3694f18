"""The ``informer`` command: thin subcommands over the Python API.

Every subcommand is one function taking the parsed arguments and returning an exit code.
Errors in the user's input (:class:`~informer.errors.InformerError`) become one line on
stderr and exit code 2; nothing below this module prints.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from informer import __version__
from informer.allocator import configure_allocator
from informer.config import (
    ACTIVATIONS,
    ATTENTION_KINDS,
    DEVICES,
    EMBEDDINGS,
    FEATURE_MODES,
    FILL_METHODS,
    LOSSES,
    LR_SCHEDULES,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    apply_overrides,
    load_toml,
    replace,
)
from informer.errors import ConfigError, InformerError, NonFiniteLossError

log = logging.getLogger("informer")

EXAMPLES = """\
examples:
  informer train --data ETTh1 --features M --seq-len 96 --label-len 48 --pred-len 24
  informer evaluate runs/ETTh1_M_sl96_ll48_pl24_prob_20261125-101500
  informer forecast runs/ETTh1_M_sl96_ll48_pl24_prob_20261125-101500 --out forecast.csv
  informer datasets
  informer datasets show ETTh1 --seq-len 96 --label-len 48 --pred-len 24
  informer datasets show my_meters.csv --target load --freq 15min --json
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(_positive_int(part) for part in text.split(","))
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive integers, got {text!r}") from None


def _column_list(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise argparse.ArgumentTypeError("expected comma-separated column names")
    return names


# Each flag's destination in the configuration: (section, key). Flags left out keep the
# config file's value, else the dataclass default, so precedence is defaults < --config <
# flags < --set.
DATA_FLAGS = {
    "data": ("data", "data"), "features": ("data", "features"), "target": ("data", "target"),
    "cols": ("data", "cols"), "date_col": ("data", "date_col"), "freq": ("data", "freq"),
    "fill": ("data", "fill"), "split": ("data", "split"), "seq_len": ("data", "seq_len"),
    "label_len": ("data", "label_len"), "pred_len": ("data", "pred_len"),
}
MODEL_FLAGS = {
    name: ("model", name)
    for name in ("d_model", "n_heads", "e_layers", "d_layers", "d_ff", "factor", "dropout", "attn", "embed",
                 "activation", "distil", "mix", "stack", "s_layers", "lazy_decoder")
}
TRAIN_FLAGS = {
    name: ("train", name)
    for name in ("epochs", "batch_size", "lr", "lradj", "patience", "loss", "seed", "itr", "device", "amp",
                 "num_workers", "checkpoint_activations")
}


def add_data_arguments(parser: argparse.ArgumentParser, *, with_data: bool = True) -> None:
    """The data flags shared by every subcommand that reads a series."""
    d = DataConfig()
    group = parser.add_argument_group("data")
    if with_data:
        group.add_argument("--data", help=f"bundled dataset name or CSV/Parquet path (default: {d.data})")
    group.add_argument("--features", choices=FEATURE_MODES,
                       help="M: all columns in and out; S: target only; MS: all in, target out (default: M)")
    group.add_argument("--target", help="target column (default: the dataset's, else the last column)")
    group.add_argument("--cols", type=_column_list, help="comma-separated columns to use (default: all)")
    group.add_argument("--date-col", help="name of the datetime column (default: date)")
    group.add_argument("--freq", help="frequency: pandas alias (15min, h, D) or paper letter (t, h, d, 15t); "
                                      "default: inferred")
    group.add_argument("--fill", choices=FILL_METHODS, help="repair missing/infinite values instead of refusing them")
    group.add_argument("--split", help="split preset: ett_hour, ett_minute, ratio or ratio:0.7,0.1,0.2 "
                                       "(default: the dataset's, else ratio)")
    group.add_argument("--seq-len", type=_positive_int, help=f"encoder input length (default: {d.seq_len})")
    group.add_argument("--label-len", type=_positive_int, help=f"decoder start length (default: {d.label_len})")
    group.add_argument("--pred-len", type=_positive_int, help=f"prediction length (default: {d.pred_len})")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    m = ModelConfig()
    group = parser.add_argument_group("model")
    group.add_argument("--d-model", type=_positive_int, help=f"model width (default: {m.d_model})")
    group.add_argument("--n-heads", type=_positive_int, help=f"attention heads (default: {m.n_heads})")
    group.add_argument("--e-layers", type=_positive_int, help=f"encoder layers (default: {m.e_layers})")
    group.add_argument("--d-layers", type=_positive_int, help=f"decoder layers (default: {m.d_layers})")
    group.add_argument("--d-ff", type=_positive_int, help=f"feed-forward width (default: {m.d_ff})")
    group.add_argument("--factor", type=_positive_int, help=f"ProbSparse sampling factor c (default: {m.factor})")
    group.add_argument("--dropout", type=float, help=f"dropout (default: {m.dropout})")
    group.add_argument("--attn", choices=ATTENTION_KINDS, help="prob: ProbSparse; full: canonical (default: prob)")
    group.add_argument("--embed", choices=EMBEDDINGS, help="time-feature embedding (default: timeF)")
    group.add_argument("--activation", choices=ACTIVATIONS, help="feed-forward activation (default: gelu)")
    group.add_argument("--distil", action=argparse.BooleanOptionalAction, help="self-attention distilling (default: on)")
    group.add_argument("--mix", action=argparse.BooleanOptionalAction,
                       help="published head/time re-view after decoder self-attention (default: on)")
    group.add_argument("--stack", action=argparse.BooleanOptionalAction, help="InformerStack encoder (default: off)")
    group.add_argument("--s-layers", type=_int_list, help="InformerStack encoder depths (default: 3,2,1)")
    group.add_argument("--lazy-decoder", choices=("cumsum", "cummean"),
                       help="what lazy decoder queries get: published cumsum or cummean (default: cumsum)")


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    t = TrainConfig()
    group = parser.add_argument_group("training")
    group.add_argument("--epochs", type=_positive_int, help=f"maximum epochs (default: {t.epochs})")
    group.add_argument("--batch-size", type=_positive_int, help=f"batch size (default: {t.batch_size})")
    group.add_argument("--lr", type=float, help=f"learning rate (default: {t.lr})")
    group.add_argument("--lradj", choices=LR_SCHEDULES,
                       help="type1: halve from epoch 3; type2: the published table (default: type1)")
    group.add_argument("--patience", type=_positive_int, help=f"early-stopping patience (default: {t.patience})")
    group.add_argument("--loss", choices=LOSSES, help="training loss (default: mse)")
    group.add_argument("--seed", type=int, help=f"random seed (default: {t.seed})")
    group.add_argument("--itr", type=_positive_int, help="repeat with seeds seed..seed+N-1, report mean and std")
    group.add_argument("--device", choices=DEVICES, help="auto: CUDA if available (default: auto)")
    group.add_argument("--amp", action=argparse.BooleanOptionalAction,
                       help="mixed precision: bf16 on CPU, fp16 on CUDA (default: off)")
    group.add_argument("--num-workers", type=int, help="data-loading worker processes (default: 0)")
    group.add_argument("--checkpoint-activations", action=argparse.BooleanOptionalAction,
                       help="recompute each block's activations in backward: far less memory for long "
                            "inputs, about a third more compute, same results (default: off)")
    group.add_argument("--config", metavar="FILE.toml", help="read settings from a TOML file ([data], [model], [train])")
    group.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override one setting, e.g. --set train.lr=5e-5 (repeatable)")


def run_config(args: argparse.Namespace, flags: dict, base: dict | None = None) -> RunConfig:
    """Defaults < --config file < explicit flags < --set overrides."""
    payload = {name: dict(values) for name, values in (base or {}).items()}
    if getattr(args, "config", None):
        payload = load_toml(args.config)
    for dest, (section, key) in flags.items():
        value = getattr(args, dest, None)
        if value is not None:
            payload.setdefault(section, {})[key] = value
    payload = apply_overrides(payload, getattr(args, "overrides", []))
    return RunConfig.from_dict(payload, source=getattr(args, "config", None) or "settings")


def data_config(args: argparse.Namespace, data: str | None = None) -> DataConfig:
    config = run_config(args, DATA_FLAGS)
    return replace(config.data, data=data) if data is not None else config.data


def cmd_datasets_list(args: argparse.Namespace) -> int:
    from informer.data.inspect import bundled_table

    rows = bundled_table()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = ("name", "rows", "columns", "freq", "target", "split", "description")
    table = [header] + [tuple(str(row[k]) for k in header) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    return 0


def cmd_datasets_show(args: argparse.Namespace) -> int:
    from informer.data.inspect import describe, format_description

    summary = describe(data_config(args, data=args.name))
    print(json.dumps(summary, indent=2) if args.json else format_description(summary))
    return 0


def _saved_checkpointing(run_dir: Path) -> bool:
    from informer.rundir import read_config

    try:
        return read_config(run_dir).config.train.checkpoint_activations
    except InformerError:  # resume() reports a damaged directory
        return False


def cmd_train(args: argparse.Namespace) -> int:
    from informer.run import resume, train
    from informer.rundir import default_run_name

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if args.resume:
        given = [dest for dest in (*DATA_FLAGS, *MODEL_FLAGS, *TRAIN_FLAGS, "config", "out")
                 if getattr(args, dest, None) is not None] + (["set"] if args.overrides else [])
        if given:
            flag = "--" + given[0].replace("_", "-")
            raise ConfigError(f"--resume continues with the settings in {args.resume}/config.json; drop {flag}")
        out = Path(args.resume)
        configure_allocator(low_memory=_saved_checkpointing(out))
        run = resume(out, progress=progress)
    else:
        config = run_config(args, {**DATA_FLAGS, **MODEL_FLAGS, **TRAIN_FLAGS})
        out = Path(args.out) if args.out else Path("runs") / default_run_name(config)
        configure_allocator(low_memory=config.train.checkpoint_activations)
        run = train(config, out=out, overwrite=args.overwrite, progress=progress)
    m = run.metrics
    print(f"run directory: {out}")
    print(f"test ({m['windows']['test']} windows, scaled): mse {m['mse']:.6f}  mae {m['mae']:.6f}  "
          f"(epochs {m['epochs']}, best {m['best_epoch']}, {m['train_seconds']:.1f} s)")
    if "mean" in m:
        print(f"over {len(m['runs'])} seeds: mse {m['mean']['mse']:.6f} +- {m['std']['mse']:.6f}  "
              f"mae {m['mean']['mae']:.6f} +- {m['std']['mae']:.6f}")
    return 0


def _metrics_table(metrics: dict) -> str:
    names = ("mse", "mae", "rmse", "mape", "mspe")
    lines = [f"{'':<16}" + "".join(f"{n:>14}" for n in names)]
    for label, values in (("scaled", metrics), ("original units", metrics["original_units"])):
        lines.append(f"{label:<16}" + "".join(f"{values[n]:>14.6g}" for n in names))
    return "\n".join(lines)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from informer.run import load_run

    configure_allocator(low_memory=False)
    run = load_run(args.run_dir, device=args.device)
    metrics = run.evaluate(args.split, data=args.data)
    if args.json:
        print(json.dumps(metrics, indent=2).replace("NaN", "null"))
    else:
        print(f"{args.split} split of {args.data or run.config.data.data}: {metrics['windows']} windows")
        print(_metrics_table(metrics))
    return 0


def cmd_forecast(args: argparse.Namespace) -> int:
    from informer.run import load_run

    configure_allocator(low_memory=False)
    run = load_run(args.run_dir, device=args.device)
    frame = run.forecast(args.data, at=args.at)
    if args.out == "-":
        frame.to_csv(sys.stdout, index=False)
        return 0
    from informer.rundir import atomic_write

    out = atomic_write(args.out, lambda tmp: frame.to_csv(tmp, index=False))
    first, last = frame.iloc[0, 0], frame.iloc[-1, 0]
    print(f"wrote {len(frame)} steps ({first} .. {last}) x {frame.shape[1] - 1} columns to {out}")
    return 0


def _write_json(path: str | None, payload: dict) -> None:
    from informer.rundir import write_json

    if path:
        write_json(path, payload, make_parents=True)


def cmd_bench_attention(args: argparse.Namespace) -> int:
    from informer.bench.report import attention_table, memory_exponents, plot_attention
    from informer.bench.suite import attention_suite, machine

    def show(row: dict) -> None:
        detail = (f"{row['median_s'] * 1e3:.1f} ms, +{row['extra_rss_mb']:.0f} MB" if "median_s" in row
                  else row.get("skipped") or row.get("error"))
        log.info("%s %s L=%d: %s", row["mode"], row["method"], row["length"], detail)

    rows = attention_suite(
        lengths=args.lengths, methods=args.methods.split(","), batch=args.batch, heads=args.heads,
        head_dim=args.head_dim, backward=args.backward, device=args.device, repeats=args.repeats,
        memory_limit_gb=args.memory_limit_gb, modes=args.modes.split(","), progress=show,
    )
    payload = {
        "benchmark": "attention",
        "command": "informer " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("informer") else None,
        "machine": machine(),
        "settings": {"batch": args.batch, "heads": args.heads, "head_dim": args.head_dim,
                     "backward": args.backward, "device": args.device, "repeats": args.repeats},
        "rows": rows,
        "memory_exponent_1024_8192": memory_exponents(rows),
    }
    _write_json(args.out, payload)
    if args.plot:
        kind = "forward + backward" if args.backward else "forward"
        plot_attention(rows, args.plot, title=f"attention {kind}, B={args.batch}, H={args.heads}, E={args.head_dim}")
    print(json.dumps(payload, indent=2) if args.json else attention_table(rows))
    return 0


def _bench_spec(args: argparse.Namespace) -> dict:
    config = run_config(args, {**DATA_FLAGS, **MODEL_FLAGS})
    data = {k: v for k, v in config.to_dict()["data"].items() if v is not None}
    return {"data": data, "model": config.to_dict()["model"], "batch_size": args.batch_size,
            "amp": args.amp, "device": args.device}


def cmd_bench_train(args: argparse.Namespace) -> int:
    from informer.bench.suite import machine, train_bench

    spec = {**_bench_spec(args), "steps": args.steps, "checkpoint_activations": args.checkpoint_activations}
    result = train_bench(spec)
    if "error" in result:
        raise InformerError(f"benchmark failed: {result['error']}")
    payload = {"benchmark": "train", "machine": machine(), "spec": spec, "result": result}
    _write_json(args.out, payload)
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        r = result
        precision = ("bf16 autocast" if args.amp else "fp32") + (
            ", activation checkpointing" if args.checkpoint_activations else "")
        print(f"training step ({precision}, batch {args.batch_size}): {r['median_s']:.3f} s median "
              f"(min {r['min_s']:.3f}), {r['samples_per_s']:.1f} samples/s")
        print(f"  {r['step_gflop']:.1f} GFLOP/step -> {r['achieved_gflops']:.0f} GFLOP/s = "
              f"{100 * r['matmul_efficiency']:.0f}% of this machine's matmul peak ({r['matmul_gflops']:.0f} GFLOP/s)")
        print(f"  eval forward of one batch: {r['eval_forward_median_s'] * 1e3:.0f} ms; "
              f"peak resident memory {r['peak_rss_mb']:.0f} MB; {r['parameters'] / 1e6:.2f} M parameters")
    return 0


def cmd_bench_forecast(args: argparse.Namespace) -> int:
    from informer.bench.suite import forecast_bench, machine

    spec = _bench_spec(args)
    result = forecast_bench(spec)
    if "error" in result:
        raise InformerError(f"benchmark failed: {result['error']}")
    payload = {"benchmark": "forecast", "machine": machine(), "spec": spec, "result": result}
    _write_json(args.out, payload)
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        one, many = result["batch_1"], result["batch_32"]
        print(f"forecast latency (batch 1): {one['median_s'] * 1e3:.1f} ms")
        print(f"throughput (batch 32): {many['forecasts_per_s']:.0f} forecasts/s "
              f"({many['median_s'] * 1e3:.0f} ms per batch); peak resident memory {result['peak_rss_mb']:.0f} MB")
    return 0


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="informer",
        description="Informer for long-sequence time-series forecasting.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"informer {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    datasets = commands.add_parser(
        "datasets",
        help="list the bundled datasets, or show one",
        description="List the bundled datasets, or show what a dataset gives for given window lengths.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    datasets.add_argument("--json", action="store_true", help="print JSON")
    datasets.set_defaults(handler=cmd_datasets_list)
    datasets_commands = datasets.add_subparsers(dest="datasets_command", metavar="show")
    show = datasets_commands.add_parser(
        "show",
        help="rows, columns, frequency, split borders and window counts of a dataset",
        description="Show what a user needs before training: rows, columns, inferred frequency, "
        "target, split borders and the number of windows in each split.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("name", metavar="NAME_OR_PATH", help="bundled dataset name or CSV/Parquet path")
    show.add_argument("--json", action="store_true", help="print one JSON object")
    add_data_arguments(show, with_data=False)
    show.set_defaults(handler=cmd_datasets_show)

    train = commands.add_parser(
        "train",
        help="train a model and write a run directory",
        description="Train Informer and write a run directory (config, weights, scaler, metrics, history, log).",
        epilog="""examples:
  informer train --data ETTh1
  informer train --data ETTh1 --features S --attn full --epochs 10 --out runs/etth1-s-full
  informer train --data meters.csv --target load --freq 15min --seq-len 192 --pred-len 96
  informer train --config settings.toml --set train.lr=5e-5 --itr 3
""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_data_arguments(train)
    add_model_arguments(train)
    add_train_arguments(train)
    group = train.add_argument_group("output")
    group.add_argument("--out", help="run directory (default: runs/<data>_<features>_sl.._ll.._pl.._<attn>_<time>)")
    group.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    group.add_argument("--resume", metavar="RUN_DIR",
                       help="continue a run that was stopped after one of its epochs (its settings are kept)")
    group.add_argument("--progress", action=argparse.BooleanOptionalAction,
                       help="progress bar (default: when stderr is a terminal)")
    train.set_defaults(handler=cmd_train)

    evaluate = commands.add_parser(
        "evaluate",
        help="recompute a run's metrics over every window of a split",
        description="Recompute the metrics of a run over every window of a split (scaled and original units).",
        epilog="""examples:
  informer evaluate runs/my-run
  informer evaluate runs/my-run --split val --json
  informer evaluate runs/my-run --data newer_data.csv
""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by informer train")
    evaluate.add_argument("--split", choices=("val", "test"), default="test", help="split to evaluate (default: test)")
    evaluate.add_argument("--data", help="another CSV/Parquet file with the run's columns (default: the run's data)")
    evaluate.add_argument("--device", choices=DEVICES, default="auto", help="device (default: auto)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    evaluate.set_defaults(handler=cmd_evaluate)

    forecast = commands.add_parser(
        "forecast",
        help="forecast the steps after the data, as a dated CSV in original units",
        description="Forecast pred_len steps after the last row of the data (or after --at), "
        "writing one row per future time step: the timestamp, then each predicted column.",
        epilog="""examples:
  informer forecast runs/my-run --out forecast.csv
  informer forecast runs/my-run --data latest_meters.csv --out next_day.csv
  informer forecast runs/my-run --at "2018-02-01 00:00" --out - 
""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    forecast.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by informer train")
    forecast.add_argument("--data", help="CSV/Parquet file with the run's columns (default: the run's data)")
    forecast.add_argument("--at", metavar="TIMESTAMP",
                          help="forecast from this (last observed) timestamp instead of the end of the data")
    forecast.add_argument("--out", default="forecast.csv", help="output CSV, or - for stdout (default: forecast.csv)")
    forecast.add_argument("--device", choices=DEVICES, default="auto", help="device (default: auto)")
    forecast.set_defaults(handler=cmd_forecast)

    bench = commands.add_parser("bench", help="benchmarks: attention, training step, forecast",
                                description="Benchmarks; each measurement runs in a fresh process.")
    bench_commands = bench.add_subparsers(dest="bench_command", metavar="KIND", required=True)
    attention = bench_commands.add_parser(
        "attention",
        help="time and memory of ProbSparse, full, SDPA and the published-style ProbSparse",
        epilog="""examples:
  informer bench attention --lengths 96,1024,4096 --backward
  informer bench attention --out benchmarks/results/attention.json --plot docs/img/attention.png
""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    attention.add_argument("--lengths", type=_int_list, default=(96, 192, 384, 768, 1536, 3072, 4096, 8192),
                           help="sequence lengths (default: 96,192,...,8192)")
    attention.add_argument("--batch", type=_positive_int, default=8)
    attention.add_argument("--heads", type=_positive_int, default=8)
    attention.add_argument("--head-dim", type=_positive_int, default=64)
    attention.add_argument("--backward", action="store_true", help="time forward + backward")
    attention.add_argument("--methods", default="prob,full,sdpa,published",
                           help="comma-separated subset of prob,full,sdpa,published")
    attention.add_argument("--modes", default="encoder,decoder", help="encoder (non-causal), decoder (causal)")
    attention.add_argument("--repeats", type=_positive_int, default=5, help="timed calls after one warm-up")
    attention.add_argument("--memory-limit-gb", type=float, default=12.0,
                           help="skip a method whose estimated memory exceeds this (default: 12)")
    attention.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    attention.add_argument("--json", action="store_true")
    attention.add_argument("--out", help="write the results as JSON here")
    attention.add_argument("--plot", help="write a PNG plot of time and memory against length here")
    attention.set_defaults(handler=cmd_bench_attention)

    for name, handler, summary in (("train", cmd_bench_train, "seconds per training step, GFLOP/s, memory"),
                                   ("forecast", cmd_bench_forecast, "forecast latency and throughput")):
        sub = bench_commands.add_parser(name, help=summary, description=summary,
                                        epilog=f"""examples:
  informer bench {name}
  informer bench {name} --amp
  informer bench {name} --seq-len 720 --label-len 336 --pred-len 720 --json
""", formatter_class=argparse.RawDescriptionHelpFormatter)
        add_data_arguments(sub)
        add_model_arguments(sub)
        sub.add_argument("--batch-size", type=_positive_int, default=32)
        if name == "train":
            sub.add_argument("--steps", type=_positive_int, default=10, help="timed steps after 2 warm-up steps")
            sub.add_argument("--checkpoint-activations", action="store_true",
                             help="recompute activations in backward (less memory, more compute)")
        sub.add_argument("--amp", action="store_true", help="bf16 autocast on CPU, fp16 on CUDA")
        sub.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
        sub.add_argument("--json", action="store_true")
        sub.add_argument("--out", help="write the result as JSON here")
        sub.set_defaults(handler=handler)
    return parser


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted (it may be replaced)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _console_logging(level: int) -> None:
    """Log the package's messages to stderr (once, however often main is called)."""
    logger = logging.getLogger("informer")
    logger.setLevel(level)
    if not any(isinstance(h, _StderrHandler) for h in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("informer: %(message)s"))
        logger.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    chatty = args.verbose or args.command in ("train", "bench")  # long work reports progress
    _console_logging(logging.INFO if chatty else logging.WARNING)
    if getattr(args, "handler", None) is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except NonFiniteLossError as error:
        print(f"informer: error: {error}", file=sys.stderr)
        return 3
    except InformerError as error:
        print(f"informer: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("informer: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `informer forecast RUN --out - | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
