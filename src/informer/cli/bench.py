"""``informer bench``: attention kernels, a training step, forecast latency (each in a fresh process)."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from informer.cli.common import (
    DATA_FLAGS,
    MODEL_FLAGS,
    add_command,
    add_data_arguments,
    add_model_arguments,
    int_list,
    positive_int,
    run_config,
)
from informer.errors import ConfigError, InformerError

log = logging.getLogger("informer")


def _write_json(path: str | None, payload: dict) -> None:
    from informer.rundir import write_json

    if path:
        write_json(path, payload, make_parents=True)


def cmd_bench_attention(args: argparse.Namespace) -> int:
    """time and memory of ProbSparse, full, SDPA and the published-style ProbSparse

    Time and peak memory of each attention method over sequence lengths.

    examples:
      informer bench attention --lengths 96,1024,4096 --backward
      informer bench attention --out benchmarks/results/attention.json --plot docs/img/attention.png
    """
    from informer.bench.report import attention_table, memory_exponents, plot_attention
    from informer.bench.suite import attention_suite, machine

    def show(row: dict) -> None:
        detail = (f"{row['median_s'] * 1e3:.1f} ms, +{row['extra_rss_mb']:.0f} MB" if "median_s" in row
                  else row.get("skipped") or row.get("error"))
        log.info("%s %s L=%d: %s", row["mode"], row["method"], row["length"], detail)

    settings = dict(
        lengths=args.lengths, methods=args.methods.split(","), batch=args.batch, heads=args.heads,
        head_dim=args.head_dim, backward=args.backward, device=args.device, repeats=args.repeats,
        memory_limit_gb=args.memory_limit_gb, modes=args.modes.split(","), progress=show,
    )
    rows = attention_suite(**settings)
    busy = None
    if args.beside_training:
        from informer.bench.suite import competing_training

        log.info("again, beside one default-size training run in another process")
        with competing_training():
            busy = attention_suite(**settings)
    payload = {
        "benchmark": "attention",
        "command": "informer " + " ".join(sys.argv[1:]) if sys.argv and sys.argv[0].endswith("informer") else None,
        "machine": machine(),
        "settings": {"batch": args.batch, "heads": args.heads, "head_dim": args.head_dim,
                     "backward": args.backward, "device": args.device, "repeats": args.repeats},
        "rows": rows,
        "memory_exponent_1024_8192": memory_exponents(rows),
    }
    if busy is not None:
        payload["rows_beside_training"] = busy
    _write_json(args.out, payload)
    if args.plot:
        kind = "forward + backward" if args.backward else "forward"
        plot_attention(rows, args.plot, title=f"attention {kind}, B={args.batch}, H={args.heads}, E={args.head_dim}")
    if args.json:
        print(json.dumps(payload, indent=2))
    elif busy is None:
        print(attention_table(rows))
    else:
        print("idle:\n" + attention_table(rows))
        print("beside one default-size training run:\n" + attention_table(busy))
        for alone, shared in zip(rows, busy):
            if "median_s" in alone and "median_s" in shared:
                print(f"{alone['mode']} {alone['method']} L={alone['length']}: "
                      f"{shared['median_s'] / alone['median_s']:.1f}x its idle time")
    return 0


def _bench_spec(args: argparse.Namespace) -> dict:
    config = run_config(args, {**DATA_FLAGS, **MODEL_FLAGS}).to_dict()
    data = {k: v for k, v in config["data"].items() if v is not None}
    import torch

    return {"data": data, "model": config["model"], "batch_size": args.batch_size,
            "amp": args.amp, "device": args.device, "threads": torch.get_num_threads()}


def _record_result(args: argparse.Namespace, benchmark: str, spec: dict, result: dict) -> bool:
    """Check the measurement, write it to ``--out`` and, with ``--json``, print it (then True:
    nothing else to print).

    Raises:
        InformerError: if the measurement failed in its child process.
    """
    from informer.bench.suite import machine

    if "error" in result:
        raise InformerError(f"benchmark failed: {result['error']}")
    payload = {"benchmark": benchmark, "machine": machine(), "spec": spec, "result": result}
    _write_json(args.out, payload)
    if args.json:
        print(json.dumps(payload, indent=2))
    return args.json


def cmd_bench_train(args: argparse.Namespace) -> int:
    """seconds per training step, GFLOP/s, memory

    Time the training step of a model on real batches (median after warm-up), its FLOPs against
    this machine's matrix-multiply peak, one evaluation forward pass, and peak memory.

    examples:
      informer bench train
      informer bench train --amp --checkpoint-activations
      informer bench train --seq-len 720 --label-len 336 --pred-len 720 --json
    """
    from informer.bench.suite import train_bench

    spec = {**_bench_spec(args), "steps": args.steps, "checkpoint_activations": args.checkpoint_activations}
    if spec["model"]["kind"] == "repeat":
        raise ConfigError("the repeat baseline has no training step to time; "
                          "informer bench forecast --model repeat times its forecasts")
    if args.nproc:
        return _bench_train_processes(args, spec)
    result = train_bench(spec)
    if not _record_result(args, "train", spec, result):
        r = result
        precision = (f"{_half(args)} autocast" if args.amp else "fp32") + (
            ", activation checkpointing" if args.checkpoint_activations else "")
        print(f"training step ({precision}, batch {args.batch_size}): {r['median_s']:.3f} s median "
              f"(min {r['min_s']:.3f}), {r['samples_per_s']:.1f} samples/s")
        print(f"  {r['step_gflop']:.1f} GFLOP/step -> {r['achieved_gflops']:.0f} GFLOP/s = "
              f"{100 * r['matmul_efficiency']:.0f}% of this machine's matmul peak ({r['matmul_gflops']:.0f} GFLOP/s)")
        print(f"  eval forward of one batch: {r['eval_forward_median_s'] * 1e3:.0f} ms; "
              f"peak resident memory {r['peak_rss_mb']:.0f} MB; {r['parameters'] / 1e6:.2f} M parameters")
    return 0


def _half(args: argparse.Namespace) -> str:
    """What ``--amp`` means for a benchmark on ``--device``: the device's half precision."""
    return "fp16" if args.device == "cuda" else "bf16"


def _bench_train_processes(args: argparse.Namespace, spec: dict) -> int:
    """Training samples per second of one model trained by 1, 2, ... processes (DDP, gloo on the
    CPU), the machine's cores shared among them."""
    from informer.bench.suite import train_bench
    from informer.threads import available_cores

    if args.checkpoint_activations:
        raise ConfigError("--nproc times plain training steps; drop --checkpoint-activations")
    rows = []
    for n in args.nproc:
        if args.batch_size % n:
            raise ConfigError(f"--batch-size {args.batch_size} is the global batch and must split evenly among "
                              f"{n} processes")
        threads = args.threads or max(1, available_cores() // n)
        row_spec = {**spec, "nproc": n, "threads": threads}
        result = train_bench(row_spec)
        if "error" in result:
            raise InformerError(f"benchmark with {n} process(es) failed: {result['error']}")
        rows.append({"nproc": n, "threads_per_process": threads, **result})
    from informer.bench.suite import machine

    payload = {"benchmark": "train_processes", "machine": machine(), "spec": spec, "rows": rows}
    _write_json(args.out, payload)
    if args.json:
        print(json.dumps(payload, indent=2))
        return 0
    base = rows[0]["samples_per_s"]
    print(f"training, global batch {args.batch_size}{f' ({_half(args)} autocast)' if args.amp else ''}:")
    for row in rows:
        print(f"  {row['nproc']} process(es) x {row['threads_per_process']} thread(s): {row['median_s']:.3f} s per "
              f"step, {row['samples_per_s']:.1f} samples/s ({row['samples_per_s'] / base:.2f}x)")
    return 0


def cmd_bench_forecast(args: argparse.Namespace) -> int:
    """forecast latency and throughput

    Time one forecast (batch 1) and a batch of 32, after warm-up, and the peak memory.

    examples:
      informer bench forecast
      informer bench forecast --model linear
      informer bench forecast --seq-len 720 --label-len 336 --pred-len 720 --json
    """
    from informer.bench.suite import forecast_bench

    spec = _bench_spec(args)
    result = forecast_bench(spec)
    if not _record_result(args, "forecast", spec, result):
        one, many = result["batch_1"], result["batch_32"]
        print(f"forecast latency (batch 1): {one['median_s'] * 1e3:.1f} ms")
        print(f"throughput (batch 32): {many['forecasts_per_s']:.0f} forecasts/s "
              f"({many['median_s'] * 1e3:.0f} ms per batch); peak resident memory {result['peak_rss_mb']:.0f} MB")
    return 0


BENCH = """benchmarks: attention, training step, forecast

    Benchmarks; each measurement runs in a fresh process.

    examples:
      informer bench attention --lengths 96,1024,4096 --backward
      informer bench train --amp
      informer bench forecast --model linear --json
    """


def register(commands) -> None:
    bench = add_command(commands, "bench", None, text=BENCH)
    kinds = bench.add_subparsers(dest="bench_command", metavar="KIND", required=True)
    attention = add_command(kinds, "attention", cmd_bench_attention)
    attention.add_argument("--lengths", type=int_list, default=(96, 192, 384, 768, 1536, 3072, 4096, 8192),
                           help="sequence lengths (default: 96,192,...,8192)")
    attention.add_argument("--batch", type=positive_int, default=8)
    attention.add_argument("--heads", type=positive_int, default=8)
    attention.add_argument("--head-dim", type=positive_int, default=64)
    attention.add_argument("--backward", action="store_true", help="time forward + backward")
    attention.add_argument("--methods", default="prob,full,sdpa,published",
                           help="comma-separated subset of prob,full,sdpa,published")
    attention.add_argument("--modes", default="encoder,decoder", help="encoder (non-causal), decoder (causal)")
    attention.add_argument("--repeats", type=positive_int, default=5, help="timed calls after one warm-up")
    attention.add_argument("--memory-limit-gb", type=float, default=12.0,
                           help="skip a method whose estimated memory exceeds this (default: 12)")
    attention.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    attention.add_argument("--json", action="store_true")
    attention.add_argument("--out", help="write the results as JSON here")
    attention.add_argument("--plot", help="write a PNG plot of time and memory against length here")
    attention.add_argument("--beside-training", action="store_true",
                           help="measure again beside one default-size training run in another process "
                                "(two experiments on one machine) and report the slowdown")

    for name, handler in (("train", cmd_bench_train), ("forecast", cmd_bench_forecast)):
        sub = add_command(kinds, name, handler)
        add_data_arguments(sub)
        add_model_arguments(sub)
        sub.add_argument("--batch-size", type=positive_int, default=32)
        if name == "train":
            sub.add_argument("--steps", type=positive_int, default=10, help="timed steps after 2 warm-up steps")
            sub.add_argument("--checkpoint-activations", action="store_true",
                             help="recompute activations in backward (less memory, more compute)")
            sub.add_argument("--nproc", type=int_list, metavar="N[,N...]",
                             help="time DDP training with each of these numbers of processes on this machine "
                                  "(e.g. 1,2), the cores shared among them")
        sub.add_argument("--amp", action="store_true", help="bf16 autocast on CPU, fp16 on CUDA")
        sub.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
        sub.add_argument("--json", action="store_true")
        sub.add_argument("--out", help="write the result as JSON here")
