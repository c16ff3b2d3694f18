"""Our Informer against the published code (zhouhaoyi/Informer2020), side by side in one run.

The published code is not part of this project: check it out anywhere outside it and pass its
folder. Only its model is imported (``models.model.Informer``), so the published training step
runs in this environment; both sides train on the same ETTh1 windows, built by our pipeline
before the clock starts. Each measurement runs in a fresh process, and the two sides alternate
``--rounds`` times, so a machine that changes speed during the run affects both alike.

    git -C /work/.mirror/zhouhaoyi+Informer2020/repo archive HEAD | tar -x -C /tmp/Informer2020
    python benchmarks/published_side_by_side.py --published /tmp/Informer2020 \
        --setting default --precision fp32,bf16 --rounds 3 --out benchmarks/results/side_by_side.jsonl

The published step is its ``train()`` loop body (zero placeholders after the label steps, MSE,
Adam lr 1e-4), with ``torch.autocast(cpu, bfloat16)`` around the forward for bf16, the CPU form
of its ``--use_amp``. Ours is the training loop's own ``train_step`` with its allocator settings,
as ``informer train`` runs it. One JSON line per measurement, then a summary per setting.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

SETTINGS = {
    # the published defaults for ETTh1 M: 96/48/24, e_layers 2, d_layers 1, d_model 512, batch 32
    "default": {"seq_len": 96, "label_len": 48, "pred_len": 24, "e_layers": 2, "d_layers": 1},
    # the long-input line of the published ETTh1 script: 720/336/720 (as issue 16 measured it)
    "long": {"seq_len": 720, "label_len": 336, "pred_len": 720, "e_layers": 2, "d_layers": 1},
}


def _batches(setting: dict, count: int):
    """``count`` training batches of 32 ETTh1 windows (x, y, x_mark, y_mark), as float32 tensors."""
    import torch
    from torch.utils.data import DataLoader

    from informer.config import DataConfig
    from informer.data.pipeline import prepare

    config = DataConfig(data="ETTh1", seq_len=setting["seq_len"], label_len=setting["label_len"],
                        pred_len=setting["pred_len"])
    data = prepare(config, embed="timeF")
    loader = DataLoader(data.dataset("train"), batch_size=32, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(0))
    batches = []
    for batch in loader:
        batches.append(batch)
        if len(batches) == count:
            return batches
    return batches


def _published_child(spec: dict) -> dict:
    import torch

    sys.path.insert(0, spec["published"])
    from models.model import Informer as PublishedInformer  # noqa: E402  (the published code)

    from informer.bench.measure import peak_rss_mb, timed

    setting = SETTINGS[spec["setting"]]
    torch.manual_seed(0)
    model = PublishedInformer(7, 7, 7, setting["seq_len"], setting["label_len"], setting["pred_len"], factor=5,
                              d_model=512, n_heads=8, e_layers=setting["e_layers"], d_layers=setting["d_layers"],
                              d_ff=2048, dropout=0.05, attn="prob", embed="timeF", freq="h", activation="gelu",
                              output_attention=False, distil=True, mix=True, device=torch.device("cpu"))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    criterion = torch.nn.MSELoss()
    bf16 = spec["precision"] == "bf16"
    batches = _batches(setting, spec["warmup"] + spec["steps"])
    label_len, pred_len = setting["label_len"], setting["pred_len"]

    def forward(batch):
        x, y, x_mark, y_mark = (part.float() for part in batch)
        dec = torch.cat([y[:, :label_len], torch.zeros_like(y[:, -pred_len:])], dim=1)
        if bf16:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = model(x, x_mark, dec, y_mark)
        else:
            out = model(x, x_mark, dec, y_mark)
        return out, y[:, -pred_len:]

    position = iter(range(10**9))

    def step():
        batch = batches[next(position) % len(batches)]
        optimizer.zero_grad()
        out, true = forward(batch)
        loss = criterion(out.float(), true)
        loss.backward()
        optimizer.step()

    model.train()
    times = timed(step, warmup=spec["warmup"], repeats=spec["steps"], device=torch.device("cpu"))
    model.eval()
    with torch.no_grad():
        eval_times = timed(lambda: forward(batches[0]), warmup=2, repeats=spec["eval_repeats"],
                           device=torch.device("cpu"))
    return {"median_s": statistics.median(times), "times_s": times,
            "eval_forward_median_s": statistics.median(eval_times), "peak_rss_mb": peak_rss_mb(),
            "parameters": sum(p.numel() for p in model.parameters())}


def _ours_spec(spec: dict) -> dict:
    setting = SETTINGS[spec["setting"]]
    return {"kind": "train", "amp": "bf16" if spec["precision"] == "bf16" else False, "steps": spec["steps"],
            "warmup": spec["warmup"], "eval_repeats": spec["eval_repeats"],
            "data": {"data": "ETTh1", "seq_len": setting["seq_len"], "label_len": setting["label_len"],
                     "pred_len": setting["pred_len"]},
            "model": {"e_layers": setting["e_layers"], "d_layers": setting["d_layers"]}}


def _run(side: str, spec: dict) -> dict:
    if side == "ours":
        command = [sys.executable, "-m", "informer.bench.measure", json.dumps(_ours_spec(spec))]
    else:
        command = [sys.executable, __file__, "--child", json.dumps(spec)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side} {spec['setting']} {spec['precision']} failed:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result = result.get("result", result)  # informer.bench.measure wraps its figures
    result["wall_s"] = time.perf_counter() - started
    return result


def table(lines: list[dict]) -> str:
    """A markdown table per (setting, precision) of measurement lines: medians over rounds."""
    rows = ["| setting | precision | rounds | ours step (s) | published step (s) | speed-up | ours eval 32 (ms) | "
            "published eval 32 (ms) | speed-up | ours peak MB | published peak MB | ours / matmul floor |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    keys = list(dict.fromkeys((r["setting"], r["precision"]) for r in lines))
    for setting, precision in keys:
        sides = {side: [r for r in lines if (r["side"], r["setting"], r["precision"]) == (side, setting, precision)]
                 for side in ("ours", "published")}
        if not all(sides.values()):
            continue
        step = {s: statistics.median(r["median_s"] for r in sides[s]) for s in sides}
        ev = {s: statistics.median(r["eval_forward_median_s"] for r in sides[s]) for s in sides}
        mem = {s: max(r["peak_rss_mb"] for r in sides[s]) for s in sides}
        ours = sides["ours"]
        floor = ours[0]["step_gflop"] / statistics.median(r["matmul_gflops"] for r in ours)
        rows.append(f"| {setting} | {precision} | {len(ours)} | {step['ours']:.3f} | {step['published']:.3f} | "
                    f"{step['published'] / step['ours']:.2f}x | {ev['ours'] * 1000:.0f} | {ev['published'] * 1000:.0f} | "
                    f"{ev['published'] / ev['ours']:.2f}x | {mem['ours']:.0f} | {mem['published']:.0f} | "
                    f"{step['ours'] / floor:.2f}x (floor {floor:.3f} s) |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--published", help="folder of a zhouhaoyi/Informer2020 checkout")
    parser.add_argument("--setting", default="default", help=f"comma list of {', '.join(SETTINGS)}")
    parser.add_argument("--precision", default="fp32", help="comma list of fp32, bf16")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of the two sides")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per measurement")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--eval-repeats", type=int, default=10)
    parser.add_argument("--out", help="append one JSON line per measurement here")
    parser.add_argument("--table", metavar="JSONL", help="print the markdown table of a results file and stop")
    args = parser.parse_args(argv)
    if args.table:
        print(table([json.loads(line) for line in open(args.table) if line.strip()]))
        return 0
    if args.child:
        print(json.dumps(_published_child(json.loads(args.child))))
        return 0
    if not args.published or not (Path(args.published) / "models" / "model.py").is_file():
        parser.error("--published must be a folder holding the published code (models/model.py)")
    import torch

    from informer.bench.reproduce import git_commit  # marks a tree with local changes

    context = {"cpu": platform.processor() or platform.machine(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "commit": git_commit(),
               "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}
    try:
        context["cpu"] = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                              if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = []
    for setting in args.setting.split(","):
        for precision in args.precision.split(","):
            spec = {"published": str(Path(args.published).resolve()), "setting": setting, "precision": precision,
                    "steps": args.steps, "warmup": args.warmup, "eval_repeats": args.eval_repeats}
            for round_ in range(args.rounds):
                for side in ("ours", "published") if round_ % 2 == 0 else ("published", "ours"):
                    result = _run(side, spec)
                    line = {"side": side, "setting": setting, "precision": precision, "round": round_,
                            **SETTINGS[setting], **context, **{k: result[k] for k in (
                                "median_s", "times_s", "eval_forward_median_s", "peak_rss_mb", "parameters")},
                            **{k: result[k] for k in ("step_gflop", "matmul_gflops", "forward_gflop")
                               if k in result}}
                    lines.append(line)
                    print(f"{setting} {precision} round {round_ + 1}/{args.rounds} {side:9}: "
                          f"step {line['median_s']:.3f} s, eval {line['eval_forward_median_s'] * 1000:.0f} ms, "
                          f"peak {line['peak_rss_mb']:.0f} MB", flush=True)
                    if args.out:
                        with open(args.out, "a") as handle:
                            handle.write(json.dumps(line) + "\n")
    print()
    print(table(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
