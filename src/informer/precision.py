"""Which precision a training computes in: chosen by the user, or measured on this machine.

``amp`` (``TrainConfig.amp``, ``--amp``):

* ``off`` (the default): float32.
* ``auto`` (``--amp`` alone): on CUDA, fp16 autocast; on the CPU, bf16 autocast only where a short
  measurement of this machine's matrix products shows bf16 faster than float32 (on an AMD EPYC
  bf16 was 1.8x faster; on an Intel Xeon without AMX it was 2x slower). The measurement takes a few
  seconds once and is kept per machine (CPU model, torch version, threads) in
  ``$INFORMER_CACHE_DIR`` (default ``~/.cache/informer``) ``/precision.json``.
* ``on``: the device's half precision (bf16 on the CPU, fp16 on CUDA), unmeasured.
* ``bf16`` or ``fp16``: that one.

:func:`resolve` turns the request into what the run computes in (``off``, ``bf16`` or ``fp16``)
and a sentence saying why; the run directory records both.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
from pathlib import Path

import torch

from informer.config import AMP_MODES
from informer.errors import ConfigError
from informer.hardware import machine, matmul_throughput

log = logging.getLogger(__name__)

# bf16 must be this much faster than float32 to be chosen: a tie is not worth the lost digits.
MARGIN = 1.1


def cache_path() -> Path:
    base = os.environ.get("INFORMER_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "informer"
    return Path(base) / "precision.json"


def machine_key() -> str:
    """The cache's key for this machine: CPU model, torch version and threads, which the figures depend on."""
    m = machine()
    return f"{m['cpu']} | torch {m['torch']} | {torch.get_num_threads()} threads"


def measure_cpu() -> dict:
    """float32 and bf16 matrix-product throughput of this CPU (GFLOP/s), a few seconds."""
    cpu = torch.device("cpu")
    return {"fp32_gflops": matmul_throughput(cpu, torch.float32, repeats=3)["gflops"],
            "bf16_gflops": matmul_throughput(cpu, torch.bfloat16, repeats=3)["gflops"],
            "measured": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def cpu_throughput() -> dict:
    """This machine's figures from the cache, measured (and cached) on first use."""
    path, key = cache_path(), machine_key()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = {}
    if not isinstance(cached, dict):
        cached = {}
    entry = cached.get(key)
    if not (isinstance(entry, dict) and all(isinstance(entry.get(name), (int, float))
                                            for name in ("fp32_gflops", "bf16_gflops"))):
        cached.pop(key, None)  # missing or damaged: measure again
    if key not in cached:
        log.info("measuring this CPU's float32 and bf16 matrix products (once per machine)")
        cached[key] = measure_cpu()
        try:
            from informer.rundir import write_json

            write_json(path, cached, make_parents=True)
        except OSError as error:  # a read-only home: measure again next time
            log.warning("cannot keep the precision measurement in %s (%s)", path, error)
    return cached[key]


def resolve(amp: str, device: torch.device) -> tuple[str, str]:
    """``(precision, reason)``: what a run asking for ``amp`` computes in on ``device``
    (``off``, ``bf16`` or ``fp16``) and why.

    Raises:
        ConfigError: for an unknown choice.
    """
    if amp not in AMP_MODES:
        raise ConfigError(f"`amp` must be one of {', '.join(AMP_MODES)}; got {amp!r}")
    if amp == "off":
        return "off", "float32 (amp off, the default)"
    if amp == "fp16" and device.type == "cpu":
        raise ConfigError("`amp=fp16` is for CUDA; on the CPU use `amp=bf16` (or `amp=auto`)")
    if amp in ("bf16", "fp16"):
        return amp, f"{amp} autocast, as asked"
    if device.type != "cpu":
        return "fp16", f"fp16 autocast on {device.type} (amp {amp})"
    if amp == "on":
        return "bf16", "bf16 autocast on the CPU (amp on)"
    figures = cpu_throughput()
    fp32, bf16 = figures["fp32_gflops"], figures["bf16_gflops"]
    measured = (f"this CPU's matrix products: bf16 {bf16:.0f} GFLOP/s, float32 {fp32:.0f} GFLOP/s "
                f"(measured {figures.get('measured', 'earlier')})")
    if bf16 >= MARGIN * fp32:
        return "bf16", f"bf16 autocast (amp auto: {measured})"
    return "off", f"float32 (amp auto: bf16 is not faster here; {measured})"
