"""``informer benchmark lookback96``: today's standard protocol, Informer next to its successors."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from informer.cli.common import add_command, int_list, positive_int
from informer.cli.reproduce import _names, add_series_arguments, run_and_report
from informer.config import DEVICES
from informer.errors import ConfigError

BENCHMARK = """standard forecasting benchmarks

    Standard benchmark protocols; each regenerates its table in the docs.

    examples:
      informer benchmark lookback96 --datasets ETTh1 --models modern,linear --seeds 3
      informer benchmark lookback96 --datasets ETTh1 --horizons 96 --set model.d_model=128 --doc ''
    """


def cmd_lookback96(args: argparse.Namespace) -> int:
    """look-back 96, horizons 96-720: modern and published Informer, DLinear

    Run the look-back-96 protocol (seq_len 96, label_len 48, features M, ETT splits 12/4/4 months,
    weather 70/10/20, every test window, scaled MSE/MAE) for the chosen data sets, horizons, models
    and seeds; append one JSON line per finished run, skip runs already recorded, resume an
    interrupted one, and regenerate the table in docs/benchmark.md. weather is the bundled
    21-variable, 10-minute set, read with its rows as published (a warning names each problem).

    examples:
      informer benchmark lookback96 --datasets ETTh1,ETTm1,weather --models modern,linear --seeds 3
      informer benchmark lookback96 --datasets ETTh1 --models informer --amp
      informer benchmark lookback96 --datasets ETTh1 --horizons 96 --dry-run
    """
    from informer.bench.lookback96 import DATASETS, benchmark, line_key, plan, read_lines

    unknown = [name for name in args.datasets if name not in DATASETS]
    if unknown:
        raise ConfigError(f"--datasets: {unknown[0]!r} is not part of this protocol; choose from {', '.join(DATASETS)}")
    bad = [h for h in args.horizons if h <= 0]
    if bad:
        raise ConfigError(f"--horizons: {bad[0]} is not a positive number of steps")
    jobs = plan(datasets=args.datasets, horizons=args.horizons, models=args.models, seeds=args.seeds,
                first_seed=args.first_seed, amp=args.amp, device=args.device, overrides=tuple(args.overrides))
    for job in jobs[:1]:
        job.config()  # bad --set values fail here, before anything runs
    results = Path(args.results)
    if args.dry_run:
        done = {line_key(line) for line in read_lines(results)}
        for job in jobs:
            print(f"{'recorded' if job.key() in done else 'to run':<9} {job.label}")
        print(f"{sum(job.key() not in done for job in jobs)} of {len(jobs)} runs to go")
        return 0

    return run_and_report(functools.partial(benchmark, search=args.search), jobs, args)


def register(commands) -> None:
    from informer.bench.lookback96 import MODELS

    benchmark = add_command(commands, "benchmark", None, text=BENCHMARK)
    kinds = benchmark.add_subparsers(dest="benchmark_command", metavar="PROTOCOL", required=True)
    parser = add_command(kinds, "lookback96", cmd_lookback96)
    parser.add_argument("--datasets", type=lambda text: tuple(p.strip() for p in text.split(",") if p.strip()),
                        default=("ETTh1", "ETTm1", "weather"), help="default: ETTh1,ETTm1,weather")
    parser.add_argument("--horizons", type=int_list, default=(96, 192, 336, 720), help="default: 96,192,336,720")
    parser.add_argument("--models", type=_names(tuple(MODELS)), default=("modern", "informer", "linear"),
                        help="modern (the modern preset), informer (published), linear (DLinear), repeat "
                             "(default: modern,informer,linear)")
    parser.add_argument("--seeds", type=positive_int, default=1, help="seeds per setting (default: 1)")
    parser.add_argument("--first-seed", type=int, default=2021, help="the first seed (default: 2021)")
    parser.add_argument("--amp", action="store_true", help="Informer models in mixed precision; baselines stay fp32")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="device (default: auto)")
    parser.add_argument("--dry-run", action="store_true", help="list the runs; train nothing")
    add_series_arguments(parser, results="benchmarks/results/lookback96.jsonl", doc="docs/benchmark.md",
                         set_help="recorded with the line; the modern preset with changes is a variant, with a "
                                  "row of its own, and the variant with the lowest validation MSE gets a column")
    parser.add_argument("--search", action="store_true",
                        help="the runs are a search (with --set changes; write them to their own file, e.g. "
                             "--results benchmarks/results/modern_search.jsonl): --doc gets only its search "
                             "table (ranked by validation MSE)")
