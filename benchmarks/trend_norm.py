"""Where the forecast of a trending series starts, with and without RevIN (docs/benchmark.md).

The series is the one of tests/training/test_trend.py: 700 hourly steps of ``100 + 0.5 t`` plus a
daily sine of amplitude 5 and noise of std 0.5, so its test period lies far above the training
split's range. A tiny model (d_model 16, 2 heads, d_ff 32, one encoder and one decoder layer,
3 epochs, batch 16, look-back 48, label 24, horizon 12) is trained per setting and seed; each run
appends one JSON line: the first step of the forecast of the real future, the last observed value
and the test MSE (scaled).

    python benchmarks/trend_norm.py                      # the settings and seeds below
    python benchmarks/trend_norm.py --seeds 2021,2022,2023 --out /tmp/trend.jsonl

The settings: the ``modern`` preset as it is, the same with ``model.norm=none``, and the
``published`` preset.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from informer import __version__
from informer.bench.reproduce import append_line, git_commit
from informer.config import RunConfig, apply_overrides
from informer.run import train

SETTINGS = {"modern": ("modern", ()), "modern, --norm none": ("modern", ("model.norm=none",)),
            "published": ("published", ())}
TINY = {"d_model": 16, "n_heads": 2, "d_ff": 32, "e_layers": 1, "d_layers": 1}


def trend_frame(n: int = 700, seed: int = 0) -> pd.DataFrame:
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    values = 100 + 0.5 * t + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.5, n)
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq="h"), "value": values})


def measure(csv: Path, preset: str, overrides: tuple[str, ...], seed: int, out: Path) -> dict:
    payload = {
        "preset": preset,
        "data": {"data": str(csv), "features": "S", "seq_len": 48, "label_len": 24, "pred_len": 12},
        "model": dict(TINY),
        "train": {"epochs": 3, "batch_size": 16, "seed": seed, "device": "cpu"},
    }
    run = train(RunConfig.from_dict(apply_overrides(payload, list(overrides))), out=out)
    forecast = run.forecast()
    return {"first_step": float(forecast["value"].iloc[0]), "last_value": float(run.load_series().values[-1, -1]),
            "test_mse": run.metrics["mse"], "test_mae": run.metrics["mae"], "epochs": run.metrics["epochs"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="2021,2022", help="comma-separated seeds (default 2021,2022)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/trend_norm.jsonl"))
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        csv = Path(scratch) / "trend.csv"
        trend_frame().to_csv(csv, index=False)
        for name, (preset, overrides) in SETTINGS.items():
            for seed in seeds:
                figures = measure(csv, preset, overrides, seed, Path(scratch) / f"{preset}-{len(overrides)}-{seed}")
                line = {"setting": name, "preset": preset, "overrides": list(overrides), "seed": seed, **figures,
                        "version": __version__, "commit": git_commit(),
                        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
                append_line(args.out, line)
                print(f"{name:22s} seed {seed}: first step {figures['first_step']:.1f} "
                      f"(last value {figures['last_value']:.1f}), test MSE {figures['test_mse']:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
