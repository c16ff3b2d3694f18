"""This package and the published code (zhouhaoyi/Informer2020) side by side, one piece at a time.

For a row of docs/results.md that is far from the paper, three checks narrow down where the two
programs differ, for one preset (a line of the published scripts, ETTh1 M 96/48/48 by default):

``init``
    Build both models after ``torch.manual_seed(S)``: are the initial weights identical? (The
    published program seeds nothing; ``benchmarks/published_runs.py --seed S`` seeds it first.)
``steps N``
    From identical initial weights, train both for ``N`` Adam steps on the same batches, with the
    same ProbSparse key samples (torch's global generator reseeded before each step of each
    model) and dropout off: the published training step written out as its ``_process_one_batch``
    does it, ours with this package's ``train_step``. Prints both losses per step and how far
    apart the weights are at the end. ``--double`` runs both in float64: if the two compute the
    same thing, their distance shrinks by orders of magnitude (float32's rounding differences,
    amplified by training, are then the only cause of the distance in float32).
``dropout N``
    With identical weights, run one batch ``N`` times through each model in training mode (new
    dropout masks and ProbSparse samples each time) and measure how far each output lies from
    the model's evaluation-mode output: the mean squared distance, with its standard error. Where
    the two models drop out the same activations at the same rate, the two means agree within
    their errors; a dropout missing or added anywhere would move one of them. ``--factor 25``
    makes ProbSparse keep every query (25 * ceil(ln 96) > 96), so that its random key samples
    change nothing and the distance is dropout's alone.
``evaluate CHECKPOINT``
    Load a checkpoint that the published program saved (``checkpoints/<setting>/checkpoint.pth``)
    into our model (``from_published``) and evaluate it with this package's data, windows, scaling
    and metrics over every validation and test window.

Each check appends one JSON line to ``benchmarks/results/published_parity.jsonl``. The published
code is not part of this project: check it out anywhere outside it and pass ``--published``; the
checks import its model from there (they need only torch).

    git -C /work/.mirror/zhouhaoyi+Informer2020/repo archive HEAD | tar -x -C /tmp/Informer2020
    python benchmarks/published_parity.py --published /tmp/Informer2020 --seed 2023 init
    python benchmarks/published_parity.py --published /tmp/Informer2020 --seed 2023 steps 100
    python benchmarks/published_parity.py --published /tmp/Informer2020 --seed 2023 dropout 100
    python benchmarks/published_parity.py --published /tmp/Informer2020 evaluate \\
        /tmp/Informer2020/checkpoints/informer_ETTh1_ftM_sl96_ll48_pl48_..._0/checkpoint.pth
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import torch

from informer.batches import Batch
from informer.bench.presets import PRESETS
from informer.bench.reproduce import Job
from informer.data.pipeline import prepare
from informer.evaluation.evaluate import evaluate_model
from informer.model.forecaster import build_forecaster
from informer.model.published import from_published, to_published
from informer.training.loop import train_step

OUT = Path(__file__).parent / "results" / "published_parity.jsonl"


def _preset(dataset: str, features: str, pred_len: int):
    matches = [p for p in PRESETS if (p.dataset, p.features, p.pred_len) == (dataset, features, pred_len)]
    if not matches:
        raise SystemExit(f"no published script line for {dataset} {features} horizon {pred_len}")
    return matches[0]


def _setup(preset, *, seed: int, attn: str, dropout: float | None = None, factor: int | None = None):
    """Our config, prepared data and the published constructor's arguments for ``preset``."""
    overrides = () if dropout is None else (f"model.dropout={dropout}",)
    overrides += () if factor is None else (f"model.factor={factor}",)
    config = Job(preset, seed=seed, attn=attn, overrides=overrides).config()
    data = prepare(config.data, embed=config.model.embed, cycle=config.model.cycle)
    m = config.model
    sizes = dict(enc_in=data.n_columns, dec_in=data.n_columns, c_out=len(data.output_columns),
                 seq_len=preset.seq_len, label_len=preset.label_len, out_len=preset.pred_len)
    settings = dict(factor=m.factor, d_model=m.d_model, n_heads=m.n_heads, e_layers=m.e_layers,
                    d_layers=m.d_layers, d_ff=m.d_ff, dropout=m.dropout, attn=m.attn, embed=m.embed,
                    freq=preset.time_freq or "h", activation=m.activation, distil=m.distil, mix=m.mix)
    return config, data, sizes, settings


def _ours(config, data, preset, seed: int) -> torch.nn.Module:
    """Our model as our training builds it with ``seed``."""
    torch.manual_seed(seed)
    return build_forecaster(data.resolved(config.model), enc_in=data.n_columns, c_out=len(data.output_columns),
                            seq_len=preset.seq_len, label_len=preset.label_len, pred_len=preset.pred_len,
                            freq=data.series.letter)


def _published(published_model, sizes: dict, settings: dict, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return published_model(**sizes, **settings, device=torch.device("cpu"))


def _largest_difference(ours: torch.nn.Module, published: torch.nn.Module) -> tuple[float, str]:
    mine, theirs = to_published(ours), published.state_dict()
    if set(mine) != set(theirs):
        raise SystemExit(f"parameter names differ: {sorted(set(mine) ^ set(theirs))[:3]}")
    return max(((mine[k].double() - theirs[k].double()).abs().max().item(), k)
               for k in mine if mine[k].dtype.is_floating_point)


def _update_difference(ours: torch.nn.Module, published: torch.nn.Module, initial: dict) -> float:
    """||ours - published|| / ||published - initial|| over all weights: how far apart the two
    trainings moved, relative to how far the published one moved."""
    mine, theirs = to_published(ours), published.state_dict()
    names = [k for k in theirs if theirs[k].dtype.is_floating_point]
    apart = sum(float((mine[k].double() - theirs[k].double()).pow(2).sum()) for k in names)
    moved = sum(float((theirs[k].double() - initial[k].double()).pow(2).sum()) for k in names)
    return (apart / moved) ** 0.5 if moved else 0.0


def check_init(published_model, preset, args) -> dict:
    config, data, sizes, settings = _setup(preset, seed=args.seed, attn=args.attn)
    difference, name = _largest_difference(_ours(config, data, preset, args.seed),
                                           _published(published_model, sizes, settings, args.seed))
    print(f"seed {args.seed}: largest difference between the initial weights {difference:.3g} ({name})")
    return {"check": "init", "seed": args.seed, "largest_difference": difference, "where": name}


def check_steps(published_model, preset, args) -> dict:
    config, data, sizes, settings = _setup(preset, seed=args.seed, attn=args.attn, dropout=0.0)
    dtype = torch.float64 if args.double else torch.float32
    ours = _ours(config, data, preset, args.seed).train().to(dtype)
    published = _published(published_model, sizes, settings, args.seed).train().to(dtype)
    initial = {k: v.clone() for k, v in published.state_dict().items()}
    loader = torch.utils.data.DataLoader(data.dataset("train"), batch_size=config.train.batch_size, shuffle=True,
                                         drop_last=True, generator=torch.Generator().manual_seed(args.seed))
    lr = config.train.lr
    ours_optimizer, published_optimizer = (torch.optim.Adam(m.parameters(), lr=lr) for m in (ours, published))
    criterion = torch.nn.MSELoss()
    no_scaling = torch.amp.GradScaler("cuda", enabled=False)
    label_len, pred_len = preset.label_len, preset.pred_len
    f_dim = -1 if preset.features == "MS" else 0
    losses = []
    for step, batch in enumerate(loader, start=1):
        if step > args.count:
            break
        batch = tuple(t.to(dtype) for t in batch)
        torch.manual_seed(args.seed * 1000 + step)  # the same ProbSparse samples in both
        ours_loss = train_step(ours, batch, optimizer=ours_optimizer, criterion=criterion, grad_scaler=no_scaling,
                               features=preset.features, device=torch.device("cpu"), generator=None, amp=False)
        x, y, x_mark, y_mark = batch
        torch.manual_seed(args.seed * 1000 + step)
        published_optimizer.zero_grad()
        # the published training step (exp_informer._process_one_batch with padding 0)
        dec_inp = torch.cat([y[:, :label_len], torch.zeros_like(y[:, -pred_len:])], dim=1)
        loss = criterion(published(x, x_mark, dec_inp, y_mark), y[:, -pred_len:, f_dim:])
        loss.backward()
        published_optimizer.step()
        losses.append([round(float(loss), 7), round(ours_loss, 7)])
        print(f"step {step}: loss published {float(loss):.6f}, ours {ours_loss:.6f}", flush=True)
    difference, name = _largest_difference(ours, published)
    gap = max(abs(a - b) / a for a, b in losses)
    update = _update_difference(ours, published, initial)
    print(f"after {len(losses)} steps: largest weight difference {difference:.3g} ({name}); the two updates "
          f"(weights minus initial weights) differ by {update:.2e} of the published one's norm; largest "
          f"relative loss difference {gap:.2g}")
    return {"check": "steps", "seed": args.seed, "steps": len(losses), "lr": lr, "dropout": 0.0,
            "dtype": str(dtype).removeprefix("torch."),
            "losses_published_ours": losses, "largest_relative_loss_difference": gap,
            "largest_weight_difference": difference, "where": name, "relative_update_difference": update}


def check_dropout(published_model, preset, args) -> dict:
    config, data, sizes, settings = _setup(preset, seed=args.seed, attn=args.attn, factor=args.factor)
    ours = _ours(config, data, preset, args.seed)
    published = _published(published_model, sizes, settings, args.seed)
    loader = torch.utils.data.DataLoader(data.dataset("train"), batch_size=config.train.batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(args.seed))
    x, y, x_mark, y_mark = (t.float() for t in next(iter(loader)))
    dec_inp = torch.cat([y[:, :preset.label_len], torch.zeros_like(y[:, -preset.pred_len:])], dim=1)
    result = {"check": "dropout", "seed": args.seed, "draws": args.count, "dropout": settings["dropout"],
              "factor": settings["factor"]}
    with torch.no_grad():
        for name, model in (("published", published), ("ours", ours)):
            inputs = (x, x_mark, dec_inp, y_mark) if name == "published" else (Batch(x, x_mark, dec_inp, y_mark),)
            model.eval()
            torch.manual_seed(0)
            reference = model(*inputs)
            model.train()
            distances = []
            for draw in range(args.count):
                torch.manual_seed(draw + 1)
                distances.append(float((model(*inputs) - reference).pow(2).mean()))
            values = torch.tensor(distances, dtype=torch.float64)
            mean, error = float(values.mean()), float(values.std() / len(values) ** 0.5)
            result[name] = {"mean_squared_distance": mean, "standard_error": error}
            print(f"{name}: training-mode outputs lie {mean:.4g} +- {error:.2g} (mean squared distance) from the "
                  f"evaluation-mode output, over {args.count} draws")
    return result


def check_evaluate(published_model, preset, args) -> dict:
    config, data, sizes, settings = _setup(preset, seed=args.seed, attn=args.attn)
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    sizes = {("pred_len" if k == "out_len" else k): v for k, v in sizes.items()}
    model = from_published(state, **sizes, **settings)
    result = {"check": "evaluate", "checkpoint": str(args.checkpoint)}
    for split in ("val", "test"):
        metrics = evaluate_model(model, data.dataset(split), features=preset.features, scaler=data.scaler,
                                 batch_size=config.train.batch_size, device=torch.device("cpu"), seed=args.seed)
        result[split] = {"mse": metrics["mse"], "mae": metrics["mae"], "windows": metrics["windows"]}
        print(f"{split}: mse {metrics['mse']:.4f}, mae {metrics['mae']:.4f} over {metrics['windows']} windows")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--published", type=Path, required=True, help="a checkout of zhouhaoyi/Informer2020")
    parser.add_argument("--dataset", default="ETTh1")
    parser.add_argument("--features", default="M")
    parser.add_argument("--pred-len", type=int, default=48)
    parser.add_argument("--attn", default="prob", choices=("prob", "full"))
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--out", type=Path, default=OUT, help=f"JSON-lines file (default: {OUT})")
    checks = parser.add_subparsers(dest="check", required=True)
    checks.add_parser("init", help="identical initial weights from the same seed?")
    steps = checks.add_parser("steps", help="the same training steps from the same weights?")
    steps.add_argument("count", type=int, help="Adam steps")
    steps.add_argument("--double", action="store_true", help="both in float64 (rounding differences shrink)")
    dropout = checks.add_parser("dropout", help="the same dropout, measured by its effect on the outputs?")
    dropout.add_argument("count", type=int, help="forward passes in training mode per model")
    dropout.add_argument("--factor", type=int, help="ProbSparse's factor (25 keeps every query of 96 steps: "
                         "no sampling noise, only dropout's)")
    evaluate = checks.add_parser("evaluate", help="a published checkpoint evaluated by this package")
    evaluate.add_argument("checkpoint", type=Path)
    args = parser.parse_args(argv)

    sys.path.insert(0, str(args.published.resolve()))
    from models.model import Informer as published_model  # the published code, imported from its checkout

    preset = _preset(args.dataset, args.features, args.pred_len)
    started = time.perf_counter()
    check = {"init": check_init, "steps": check_steps, "dropout": check_dropout,
             "evaluate": check_evaluate}[args.check]
    line = {"preset": preset.name, "attn": args.attn, **check(published_model, preset, args),
            "threads": torch.get_num_threads(), "seconds": round(time.perf_counter() - started, 1),
            "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
