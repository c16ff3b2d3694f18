"""Training-step time of the composed model against 0.7's single model class, alternated in one run.

Both models are built from the same settings with the same weights (0.7's forward is the frozen
copy in tests/model/legacy_0_7.py) and take the same ETTh1 batches; each round times one step of
each, in alternating order, so a change of machine speed during the run hits both alike. Prints
one JSON line per configuration with the median step times and their ratio.

    python benchmarks/compose_speed.py --rounds 40 >> benchmarks/results/compose_speed.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from model.legacy_0_7 import LegacyInformer  # noqa: E402

from informer.batches import model_batch  # noqa: E402
from informer.config import PRESETS, SKIP_SPELLINGS, DataConfig, ModelConfig, RunConfig  # noqa: E402
from informer.data.pipeline import prepare_for  # noqa: E402
from informer.model.compose import build_for, rebuild_forecaster  # noqa: E402

CONFIGS = {
    "published": {},
    "modern": PRESETS["modern"]["model"],
}


def legacy_settings(settings: dict) -> dict:
    """0.7's spelling of the settings (its skip was one word)."""
    spelled = dict(settings)
    if "skip" in spelled:
        old = {today: old for old, today in SKIP_SPELLINGS.items()}
        spelled["skip"] = old[(spelled["skip"], spelled.pop("skip_gated", False))]
    return spelled


def step(model, optimizer, args, target):
    optimizer.zero_grad(set_to_none=True)
    start = time.perf_counter()
    out = model(*args, generator=torch.Generator().manual_seed(0))
    torch.nn.functional.mse_loss(out, target).backward()
    optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated: published,modern")
    args = parser.parse_args()
    for name in args.configs.split(","):
        options = CONFIGS[name]
        config = RunConfig(data=DataConfig(data="ETTh1", seq_len=96, label_len=48, pred_len=96),
                           model=ModelConfig(**options))
        data = prepare_for(config)
        torch.manual_seed(0)
        new = build_for(config.model, data).train()
        legacy = LegacyInformer(**legacy_settings(new.settings)).train()
        legacy.load_state_dict(new.state_dict())
        assert rebuild_forecaster("informer", legacy.settings).settings == legacy.settings
        windows = [data.dataset("train")[i] for i in range(args.batch_size)]
        stacked = [torch.stack([w[k] for w in windows]) for k in range(len(windows[0]))]
        batch, y = model_batch(stacked, pred_len=96, device=torch.device("cpu"))
        target = y[:, 48:]
        marks_enc, marks_dec = batch.x_mark_enc, batch.x_mark_dec
        if batch.phase_enc is not None:  # 0.7 took the cycle's positions as a last time-feature column
            marks_enc = torch.cat([marks_enc, batch.phase_enc[..., None].float()], dim=2)
            marks_dec = torch.cat([marks_dec, batch.phase_dec[..., None].float()], dim=2)
        runs = {"0.7": (legacy, (batch.x_enc, marks_enc, batch.x_dec, marks_dec)), "composed": (new, (batch,))}
        optimizers = {key: torch.optim.Adam(model.parameters(), lr=1e-4) for key, (model, _) in runs.items()}
        times: dict[str, list[float]] = {key: [] for key in runs}
        for round_ in range(args.rounds + 3):
            order = list(runs) if round_ % 2 == 0 else list(reversed(runs))
            for key in order:
                model, inputs = runs[key]
                seconds = step(model, optimizers[key], inputs, target)
                if round_ >= 3:  # warm-up rounds are not timed
                    times[key].append(seconds)
        medians = {key: statistics.median(values) for key, values in times.items()}
        print(json.dumps({"config": name, "rounds": args.rounds, "batch_size": args.batch_size,
                          "threads": torch.get_num_threads(), "torch": torch.__version__,
                          "median_seconds": {k: round(v, 5) for k, v in medians.items()},
                          "composed_over_0_7": round(medians["composed"] / medians["0.7"], 4)}), flush=True)


if __name__ == "__main__":
    main()
