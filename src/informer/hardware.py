"""What this machine is and how fast it multiplies matrices.

Below both the training run (:mod:`informer.precision` measures whether bf16 pays here) and the
benchmarks (:mod:`informer.bench`, which record the machine beside their figures): neither
imports the other for these.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import torch


def machine() -> dict:
    """What the figures were measured on: CPU model, cores, torch and its threads, Python, GPU."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:  # not Linux: platform's coarser name
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def _sync(device: torch.device) -> None:
    """Wait for the device's queued work: CUDA calls return before they finish."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(call: Callable[[], object], *, warmup: int, repeats: int, device: torch.device) -> list[float]:
    """Seconds of each of ``repeats`` calls of ``call`` on ``device``, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        call()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def matmul_throughput(device: torch.device, dtype: torch.dtype, repeats: int = 10) -> dict:
    """The best GFLOP/s of torch.mm over shapes like the model's (M x K) @ (K x N)."""
    best, per_shape = 0.0, {}
    for m, k, n in ((3072, 512, 2048), (3072, 2048, 512), (2048, 2048, 2048)):
        a = torch.randn(m, k, device=device, dtype=dtype)
        b = torch.randn(k, n, device=device, dtype=dtype)
        seconds = statistics.median(timed(lambda: a @ b, warmup=3, repeats=repeats, device=device))
        rate = 2 * m * k * n / seconds / 1e9
        per_shape[f"{m}x{k}x{n}"] = rate
        best = max(best, rate)
    return {"gflops": best, "per_shape": per_shape, "dtype": str(dtype).removeprefix("torch.")}
