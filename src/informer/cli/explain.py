"""``informer explain``: every stage of one forward pass, with its shape and meaning."""

from __future__ import annotations

import argparse
import json

from informer.cli.common import (
    DATA_FLAGS,
    MODEL_FLAGS,
    add_command,
    add_data_arguments,
    add_model_arguments,
    add_unchecked_weights_argument,
    positive_int,
    run_config,
)
from informer.config import replace
from informer.errors import ConfigError


def explained_batch(args: argparse.Namespace):
    """The model (a run's, or a new one from the flags) and a real batch of its data's test windows."""
    import torch
    from torch.utils.data import DataLoader, Subset

    from informer.data.pipeline import prepare_for
    from informer.model.compose import build_for

    if args.run_dir:
        from informer.run import load_run

        run = load_run(args.run_dir, unchecked_weights=args.unchecked_weights)
        config, model, scaler = run.config, run.model, run.scaler
        data_config = replace(config.data, cols=run.columns, target=run.target, freq=run.freq)
        data = prepare_for(config, data=data_config, scaler=scaler, require=("test",))
    else:
        config = run_config(args, {**DATA_FLAGS, **MODEL_FLAGS})
        data = prepare_for(config, require=("test",))
        torch.manual_seed(config.train.seed)
        model = build_for(config.model, data)
    dataset = data.dataset("test")
    if not 0 <= args.window < len(dataset):
        raise ConfigError(f"`window` {args.window} is not a test window: there are {len(dataset)} (0..{len(dataset) - 1})")
    window = args.window
    windows = Subset(dataset, range(window, min(window + args.batch_size, len(dataset))))
    batch = next(iter(DataLoader(windows, batch_size=args.batch_size)))
    return config, model, batch


def cmd_explain(args: argparse.Namespace) -> int:
    """every stage of one forward pass: shapes, and what each one is

    Run one forward pass on a real batch of test windows and print every stage in order
    (inputs, embeddings, per-head Q/K/V, ProbSparse's sampled keys and kept queries,
    distilling, decoder, output) with its shape and meaning, read from hooks on the real
    model.

    examples:
      informer explain --data ETTh1
      informer explain --data ETTh1 --stack --s-layers 3,2,1 --json
      informer explain --run runs/etth1 --batch-size 4
    """
    from informer.explain import format_trace, trace

    config, model, batch = explained_batch(args)
    stages = trace(model, batch, features=config.data.features, seed=config.train.seed)
    if args.json:
        print(json.dumps([stage.to_dict() for stage in stages], indent=2))
    else:
        trained = "the run's trained weights" if args.run_dir else "freshly initialised weights"
        print(f"{config.model.kind} on {config.data.data}, {len(batch[0])} test windows from window {args.window}, "
              f"{trained}\n")
        print(format_trace(stages))
    return 0


def register(commands) -> None:
    parser = add_command(commands, "explain", cmd_explain)
    parser.add_argument("--run", dest="run_dir", metavar="RUN_DIR",
                        help="explain a trained run (its model, data and scaler) instead of the flags' model")
    add_unchecked_weights_argument(parser)
    parser.add_argument("--batch-size", type=positive_int, default=32, help="windows in the batch (default: 32)")
    parser.add_argument("--window", type=int, default=0, help="first test window of the batch (default: 0)")
    parser.add_argument("--json", action="store_true", help="a list of {name, shape, meaning, ...} objects")
    add_data_arguments(parser)
    add_model_arguments(parser)
