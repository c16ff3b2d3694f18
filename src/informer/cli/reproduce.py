"""``informer reproduce``: the Informer paper's experiments from the preset table."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from informer.cli.common import add_command, int_list, positive_int
from informer.config import ATTENTION_KINDS, DEVICES, FEATURE_MODES
from informer.errors import ConfigError


def _names(allowed: tuple[str, ...]):
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        unknown = [name for name in names if name not in allowed]
        if not names or unknown:
            raise argparse.ArgumentTypeError(f"expected a comma-separated subset of {','.join(allowed)}, got {text!r}")
        return names
    return parse


def cmd_reproduce(args: argparse.Namespace) -> int:
    """run the Informer paper's experiments and regenerate docs/results.md

    Run the published settings that match the filters (each seed, each model kind), append
    one JSON line per finished run, skip runs already recorded, resume an interrupted one,
    and regenerate the results table.

    examples:
      informer reproduce --dataset ETTh1 --features M --horizons 24,48 --seeds 3 --dry-run
      informer reproduce --dataset ETTh1 --features M --horizons 24 --seeds 3 --attn full --amp
      informer reproduce --dataset WTH --features S --seeds 5 --amp --device cuda
    """
    from informer.bench.presets import find_presets
    from informer.bench.reproduce import estimate_seconds, line_key, plan, read_lines, reproduce

    presets = find_presets(dataset=args.dataset, features=args.features, horizons=args.horizons)
    if not presets:
        raise ConfigError("no published setting matches `dataset`, `features` and `horizons`; "
                          "see docs/results.md for the list")
    jobs = plan(presets=presets, models=args.models, attns=args.attn, seeds=args.seeds, first_seed=args.first_seed,
                amp=args.amp, device=args.device, overrides=tuple(args.overrides))
    results = Path(args.results)
    if args.dry_run:
        done = {line_key(line) for line in read_lines(results)}
        total = 0.0
        estimates: dict[tuple, float] = {}
        for job in jobs:
            if job.key() in done:
                print(f"recorded  {job.label}")
                continue
            shared = job.key()[:-3] + job.key()[-2:]  # seeds cost the same
            if shared not in estimates:
                estimates[shared] = estimate_seconds(job)
            total += estimates[shared]
            print(f"to run    {job.label}  (at most {estimates[shared] / 60:.0f} min)")
        print(f"{sum(job.key() not in done for job in jobs)} of {len(jobs)} runs to go, at most "
              f"{total / 3600:.1f} h on this machine (every epoch; early stopping usually ends sooner)")
        return 0

    return run_and_report(reproduce, jobs, args)


def run_and_report(series, jobs: list, args: argparse.Namespace) -> int:
    """Run ``jobs`` with ``series`` (reproduce, benchmark) as the command's flags say, saying
    which run of how many starts, and what was added at the end."""

    def started(index: int, count: int, job) -> None:
        print(f"informer: run {index}/{count}: {job.label}", file=sys.stderr, flush=True)

    progress = sys.stderr.isatty() if args.progress is None else args.progress
    added = series(jobs, results=Path(args.results), runs_dir=Path(args.runs_dir),
                   doc=Path(args.doc) if args.doc else None, progress=progress, on_start=started)
    print(f"{len(added)} run{'s' if len(added) != 1 else ''} added to {args.results}"
          + (f"; {args.doc} regenerated" if args.doc else ""))
    return 0


def register(commands) -> None:
    from informer.bench.reproduce import MODELS

    parser = add_command(commands, "reproduce", cmd_reproduce)
    parser.add_argument("--dataset", help="ETTh1, ETTh2, ETTm1 or WTH (default: all)")
    parser.add_argument("--features", choices=FEATURE_MODES, help="M or S (default: both)")
    parser.add_argument("--horizons", type=int_list, help="pred_len values, e.g. 24,48 (default: all five)")
    parser.add_argument("--seeds", type=positive_int, default=1, help="seeds per setting (default: 1)")
    parser.add_argument("--first-seed", type=int, default=2021, help="the first seed (default: 2021)")
    parser.add_argument("--attn", type=_names(ATTENTION_KINDS), default=("prob",),
                        help="Informer's attention: prob, full or prob,full (default: prob)")
    parser.add_argument("--models", type=_names(MODELS), default=MODELS,
                        help="model kinds (default: informer,linear,repeat)")
    parser.add_argument("--amp", action="store_true",
                        help="Informer in mixed precision (bf16 on CPU, fp16 on CUDA); baselines stay fp32")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="device (default: auto)")
    parser.add_argument("--dry-run", action="store_true",
                        help="list the runs and estimate their time on this machine; train nothing")
    add_series_arguments(parser, results="benchmarks/results/reproduce.jsonl", doc="docs/results.md")


def add_series_arguments(parser: argparse.ArgumentParser, *, results: str, doc: str,
                         set_help: str = "recorded with the line, kept out of the table") -> None:
    """The flags of a series of recorded runs (reproduce, benchmark): changes, files, progress."""
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help=f"change a setting of every run ({set_help})")
    parser.add_argument("--results", default=results,
                        help=f"JSON-lines file of finished runs (default: {results})")
    parser.add_argument("--runs-dir", default="benchmarks/runs",
                        help="where each run's directory lives while and after it trains (default: benchmarks/runs)")
    parser.add_argument("--doc", default=doc,
                        help=f"markdown file whose generated table is rewritten (default: {doc}; '' for none)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction,
                        help="progress bar (default: when stderr is a terminal)")
