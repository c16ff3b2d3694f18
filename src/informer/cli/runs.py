"""``informer train``, ``evaluate`` and ``forecast``: a run directory written, scored, used."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from informer.allocator import configure_allocator
from informer.cli.common import (
    SETTING_FLAGS,
    add_command,
    add_data_arguments,
    add_model_arguments,
    add_train_arguments,
    add_unchecked_weights_argument,
    flag_spellings,
    positive_int,
    run_config,
    torchrun_rank,
)
from informer.config import DEVICES
from informer.errors import ConfigError, InformerError
from informer.threads import available_cores

# Forecasts are computed in float32: about 7 significant digits carry information.
FLOAT_FORMAT = "%.7g"


def _float_format(text: str) -> str:
    try:
        formatted = text % 1.5
        float(formatted)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"expected a printf-style number format such as %.7g, got {text!r}") from None
    return text


def _saved_checkpointing(run_dir: Path) -> bool:
    from informer.rundir import read_config

    try:
        return read_config(run_dir).config.train.checkpoint_activations
    except InformerError:  # resume() reports a damaged directory
        return False


def cmd_train(args: argparse.Namespace) -> int:
    """train a model and write a run directory

    Train a model (Informer, DLinear or the repeat baseline) and write a run directory
    (config, weights, scaler, metrics, history, log).

    examples:
      informer train --data ETTh1 --attn full --config settings.toml --set train.lr=5e-5 --itr 3
      informer train --data meters.csv --target load --freq 15min --model linear --individual
      informer train --data ETTh1 --model repeat --pred-len 96 --out runs/etth1-repeat
    """
    from informer.run import resume, train
    from informer.rundir import default_run_name

    if args.nproc is not None and torchrun_rank() is None and "TORCHELASTIC_RUN_ID" not in os.environ:
        return _launch(args, default_run_name)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    log_every = None if progress or args.log_every <= 0 else args.log_every
    if args.resume:
        given = [dest for dest in (*SETTING_FLAGS, "config", "out", "preset") if getattr(args, dest, None) is not None]
        given += ["overrides"] if args.overrides else []
        if given:
            flag = flag_spellings(args.command_parser)[given[0]][0]
            raise ConfigError(f"--resume continues with the settings in {args.resume}/config.json; drop {flag}")
        out = Path(args.resume)
        configure_allocator(low_memory=_saved_checkpointing(out))
        run = resume(out, progress=progress, log_every=log_every)
    else:
        config = run_config(args, SETTING_FLAGS)
        out = Path(args.out) if args.out else Path("runs") / default_run_name(config)
        configure_allocator(low_memory=config.train.checkpoint_activations)
        run = train(config, out=out, overwrite=args.overwrite, progress=progress, log_every=log_every)
    if torchrun_rank():  # rank 0 reports and writes the rest of the run directory
        return 0
    m = run.metrics
    if m["epochs"] == 0:
        fitting = f"no training: {run.config.model.kind} baseline"
    else:
        fitting = f"epochs {m['epochs']}, best {m['best_epoch']}, {m['train_seconds']:.1f} s"
    print(f"run directory: {out}")
    print(f"test ({m['windows']['test']} windows, scaled): mse {m['mse']:.6f}  mae {m['mae']:.6f}  ({fitting})")
    if "mean" in m:
        print(f"over {len(m['runs'])} seeds: mse {m['mean']['mse']:.6f} +- {m['std']['mse']:.6f}  "
              f"mae {m['mean']['mae']:.6f} +- {m['std']['mae']:.6f}")
    if args.original_units:
        o = m["original_units"]
        print(f"test (original units): mse {o['mse']:.6f}  mae {o['mae']:.6f}")
    if args.do_predict:
        from informer.forecasting import forecast_csv
        from informer.rundir import write_text

        frame = run.forecast()
        write_text(out / "forecast.csv", forecast_csv(frame, float_format=FLOAT_FORMAT))
        print(f"forecast of the {len(frame)} steps after the data: {out / 'forecast.csv'}")
    _write_report(run, out)
    return 0


def _launch(args: argparse.Namespace, default_run_name) -> int:
    """``informer train --nproc N ...``: the same command under torch's own launcher (what
    ``torchrun --standalone --nproc-per-node N -m informer train ...`` does), on this machine."""

    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    argv = _without_option(list(args.argv), "--nproc")
    out = args.resume or args.out
    if out is None:  # every process must agree on the directory, and this one names it at the end
        out = str(Path("runs") / default_run_name(run_config(args, SETTING_FLAGS)))
        argv += ["--out", out]
    if args.threads is None and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, available_cores() // args.nproc))
    launcher = get_args_parser().parse_args(
        ["--standalone", f"--nproc-per-node={args.nproc}", "--module", "informer", *argv])
    quiet = logging.getLogger("torch.distributed")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # its summary of a failure is a traceback; we say it in one line below
    try:
        run(launcher)
    except SignalException as error:  # Ctrl-C or a stop signal for the whole job
        resumable = Path(out, "resume.safetensors").exists()
        print(f"informer: interrupted ({error.sigval.name})"
              + (f"; continue with: informer train --nproc {args.nproc} --resume {out}" if resumable else ""),
              file=sys.stderr)
        return 130
    except ChildFailedError as error:
        failures = list(error.failures.values())
        killed = [f for f in failures if f.exitcode < 0 and f.signal_name() != "SIGTERM"]  # from outside
        said = sorted((f for f in failures if f.exitcode > 0), key=lambda f: f.local_rank)
        if said and not killed:
            return said[0].exitcode  # the failing processes have said why
        failure = min(killed or failures, key=lambda f: (f.timestamp, f.local_rank))
        rank = failure.local_rank
        how = f"was stopped by signal {failure.signal_name()}" if failure.exitcode < 0 else \
            f"failed with exit code {failure.exitcode}"
        resumable = Path(out, "resume.safetensors").exists()
        print(f"informer: error: training process {rank} of {args.nproc} {how}; the job ended"
              + (f"; continue it with: informer train --nproc {args.nproc} --resume {out}" if resumable else ""),
              file=sys.stderr)
        return 1
    finally:
        quiet.setLevel(level)
    return 0


def _without_option(argv: list[str], flag: str) -> list[str]:
    """``argv`` without ``flag VALUE`` or ``flag=VALUE``."""
    kept, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == flag:
            skip = True
        elif not token.startswith(flag + "="):
            kept.append(token)
    return kept


def _write_report(run, out: Path) -> None:
    """The run's report.html; a finished training never fails because of it, it warns."""
    from informer.cli.plot import write_report

    try:
        page = write_report(run, out)[-1]
    except Exception as error:  # noqa: BLE001 - the run directory is complete whatever happens here
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        logging.getLogger("informer").warning("report.html not written (%s); the run is saved, retry with: "
                                              "informer plot %s", reason, out)
        return
    print(f"report: {page}")


def _metrics_table(metrics: dict) -> str:
    names = ("mse", "mae", "rmse", "mape", "mspe")
    lines = [f"{'':<16}" + "".join(f"{n:>14}" for n in names)]
    for label, values in (("scaled", metrics), ("original units", metrics["original_units"])):
        lines.append(f"{label:<16}" + "".join(f"{values[n]:>14.6g}" for n in names))
    return "\n".join(lines)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """recompute a run's metrics over every window of a split

    Recompute the metrics of a run over every window of a split (scaled and original units).

    examples:
      informer evaluate runs/my-run
      informer evaluate runs/my-run --split val --json
      informer evaluate runs/my-run --data newer_data.csv
    """
    from informer.run import load_run

    configure_allocator(low_memory=False)
    run = load_run(args.run_dir, device=args.device, unchecked_weights=args.unchecked_weights)
    metrics = run.evaluate(args.eval_split, data=args.data)
    if args.json:
        print(json.dumps(metrics, indent=2).replace("NaN", "null"))
    else:
        print(f"{args.eval_split} split of {args.data or run.config.data.data}: {metrics['windows']} windows")
        print(_metrics_table(metrics))
    return 0


# What `informer plot` adds to a run directory (informer.report's names; that module needs matplotlib).
REPORT_FILES = ("report.html", "plots")


def _refuse_run_files(out: Path, run_dir: Path) -> None:
    """Refuse an ``--out`` that is one of the run's own files (its weights, config, scaler,
    metrics, history, log, report or plots): the forecast would replace it.

    Raises:
        ConfigError: naming the file.
    """
    from informer.rundir import LOCK_FILE, LOG_FILE, RESUME_FILE, RUN_FILES

    target, home = out.resolve(), run_dir.resolve()
    owned = [home / name for name in (*RUN_FILES, LOG_FILE, RESUME_FILE, LOCK_FILE, *REPORT_FILES)]
    if any(target == path or path in target.parents for path in owned):
        raise ConfigError(f"--out {out}: is the run's own {target.relative_to(home)}, which the forecast would "
                          f"overwrite; write it elsewhere, e.g. --out {run_dir / 'forecast.csv'}")


def cmd_forecast(args: argparse.Namespace) -> int:
    """forecast the steps after the data, as a dated CSV in original units

    Forecast pred_len steps after the last row of the data (or after --at), writing one row
    per future time step: the timestamp, then each predicted column.

    examples:
      informer forecast runs/my-run --out forecast.csv
      informer forecast runs/my-run --data latest_meters.csv --out next_day.csv
      informer forecast runs/my-run --at "2018-02-01 00:00" --out -
    """
    from informer.forecasting import forecast_csv
    from informer.run import load_run
    from informer.rundir import write_text

    if args.out != "-":
        _refuse_run_files(Path(args.out), Path(args.run_dir))
    configure_allocator(low_memory=False)
    run = load_run(args.run_dir, device=args.device, unchecked_weights=args.unchecked_weights)
    frame = run.forecast(args.data, at=args.at)
    text = forecast_csv(frame, float_format=args.float_format)  # names that read as formulas get a '
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    out = write_text(args.out, text)
    first, last = frame.iloc[0, 0], frame.iloc[-1, 0]
    columns = frame.shape[1] - 1
    print(f"wrote {len(frame)} step{'s' * (len(frame) != 1)} ({first} .. {last}) x {columns} "
          f"column{'s' * (columns != 1)} to {out}")
    return 0


def register(commands) -> None:
    train = add_command(commands, "train", cmd_train)
    add_data_arguments(train)
    add_model_arguments(train)
    add_train_arguments(train)
    group = train.add_argument_group("output")
    group.add_argument("--out", help="run directory (default: runs/<data>_<features>_sl.._ll.._pl.._<model>_<time>)")
    group.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    group.add_argument("--resume", metavar="RUN_DIR",
                       help="continue a run that was stopped after one of its epochs (its settings are kept)")
    group.add_argument("--progress", action=argparse.BooleanOptionalAction,
                       help="progress bar (default: when stderr is a terminal)")
    group.add_argument("--nproc", type=positive_int, metavar="N",
                       help="train with N processes on this machine (torch.distributed.run, DDP; "
                            "see docs/distributed.md)")
    group.add_argument("--log-every", type=float, default=30.0, metavar="SECONDS",
                       help="without a progress bar (output to a file or pipe), log a progress line this often; "
                            "0: never (default: 30)")
    # What the published --do_predict and --inverse become (informer.cli.published).
    group.add_argument("--do-predict", action="store_true",
                       help="after training, write forecast.csv (the steps after the data) into the run directory")
    group.add_argument("--original-units", action="store_true", help="also print the test metrics in original units")

    evaluate = add_command(commands, "evaluate", cmd_evaluate)
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by informer train")
    # dest eval_split: this --split picks val or test, it is not the data's split preset
    evaluate.add_argument("--split", dest="eval_split", choices=("val", "test"), default="test",
                          help="split to evaluate (default: test)")
    evaluate.add_argument("--data", help="another CSV/Parquet file with the run's columns (default: the run's data)")
    evaluate.add_argument("--device", choices=DEVICES, default="auto", help="device (default: auto)")
    add_unchecked_weights_argument(evaluate)
    evaluate.add_argument("--json", action="store_true", help="print JSON")

    forecast = add_command(commands, "forecast", cmd_forecast)
    forecast.add_argument("run_dir", metavar="RUN_DIR", help="a directory written by informer train")
    forecast.add_argument("--data", help="CSV/Parquet file with the run's columns (default: the run's data)")
    forecast.add_argument("--at", metavar="TIMESTAMP",
                          help="forecast from this (last observed) timestamp instead of the end of the data")
    forecast.add_argument("--out", default="forecast.csv", help="output CSV, or - for stdout (default: forecast.csv)")
    forecast.add_argument("--device", choices=DEVICES, default="auto", help="device (default: auto)")
    add_unchecked_weights_argument(forecast)
    forecast.add_argument("--float-format", type=_float_format, default=FLOAT_FORMAT,
                          help=f"printf-style format of the values (default: {FLOAT_FORMAT.replace('%', '%%')}: "
                               "the about 7 significant digits a float32 model computes; %%.17g for every digit)")
