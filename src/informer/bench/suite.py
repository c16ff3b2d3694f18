"""Benchmark suites: run measurements in child processes and gather their results."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import numpy as np

# What the figures were measured on; the training's precision cache needs it too, so it lives below both.
from informer.hardware import machine  # noqa: F401 - informer.bench.suite.machine, as the commands import it

log = logging.getLogger(__name__)

ATTENTION_METHODS = ("prob", "full", "sdpa", "published")
DEFAULT_LENGTHS = (96, 192, 384, 768, 1536, 3072, 4096, 8192)


def run_child(spec: dict, *, timeout: float = 1800) -> dict:
    """Run one measurement in a fresh interpreter (``nproc`` > 1: in that many processes started
    by torch's launcher, with the cores shared among them); errors come back as ``{"error": ...}``."""
    command = [sys.executable, "-m", "informer.bench.measure", json.dumps(spec)]
    env = None
    nproc = spec.get("nproc", 1)
    if nproc > 1:
        command[1:2] = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}", "-m"]
        threads = spec.get("threads") or max(1, (os.cpu_count() or 1) // nproc)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if done.returncode != 0:
        lines = (done.stderr or "").strip().splitlines()
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        if done.returncode < 0:
            reason = f"killed by signal {-done.returncode} (out of memory?)"
        return {"error": reason}
    return json.loads(done.stdout.strip().splitlines()[-1])["result"]


def attention_bytes(method: str, *, batch: int, heads: int, length: int, head_dim: int, backward: bool,
                    factor: int = 5) -> float:
    """A rough estimate of the memory a method needs, to skip what cannot fit."""
    scale = 3 if backward else 1
    if method == "full":
        return 4.0 * batch * heads * length * length * 2 * scale
    if method == "published":
        sampled = min(length, factor * math.ceil(math.log(length)))
        return 4.0 * batch * heads * length * sampled * head_dim * scale
    return 4.0 * batch * heads * length * head_dim * 8 * scale


def attention_suite(
    *, lengths=DEFAULT_LENGTHS, methods=ATTENTION_METHODS, batch=8, heads=8, head_dim=64, backward=False,
    device="cpu", repeats=5, memory_limit_gb=12.0, modes=("encoder", "decoder"), progress=None,
) -> list[dict]:
    """Time and peak memory of each method, mode and length."""
    rows = []
    for mode in modes:
        for length in lengths:
            for method in methods:
                spec = {"kind": "attention", "method": method, "causal": mode == "decoder", "length": length,
                        "batch": batch, "heads": heads, "head_dim": head_dim, "backward": backward,
                        "device": device, "repeats": repeats}
                need = attention_bytes(method, batch=batch, heads=heads, length=length, head_dim=head_dim,
                                       backward=backward) / 1e9
                if need > memory_limit_gb:
                    result = {"skipped": f"needs about {need:.0f} GB (limit {memory_limit_gb:g} GB)"}
                else:
                    result = run_child(spec)
                rows.append({"mode": mode, "method": method, "length": length, **result})
                if progress is not None:
                    progress(rows[-1])
    return rows


@contextlib.contextmanager
def competing_training(*, warmup_s: float = 10.0) -> Iterator[None]:
    """One ordinary training run (the default ETTh1 model, all cores) in another process while
    inside: the situation of two experiments side by side on one machine."""
    spec = {"kind": "train", "data": {"data": "ETTh1"}, "model": {}, "batch_size": 32, "steps": 10**9,
            "warmup": 0}
    competitor = subprocess.Popen([sys.executable, "-m", "informer.bench.measure", json.dumps(spec)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(warmup_s)  # past its start-up, into its training steps
        if competitor.poll() is not None:
            raise RuntimeError(f"the competing training ended early (exit code {competitor.returncode})")
        yield
    finally:
        competitor.kill()
        competitor.wait()


def fitted_exponent(lengths: list[int], values: list[float]) -> float:
    """The slope of log(value) against log(length): value ~ length ** slope."""
    slope, _ = np.polyfit(np.log(lengths), np.log(values), 1)
    return float(slope)


def train_bench(spec: dict) -> dict:
    return run_child({"kind": "train", **spec})


def forecast_bench(spec: dict) -> dict:
    return run_child({"kind": "forecast", **spec})
