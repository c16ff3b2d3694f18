"""One measurement in a fresh process: ``python -m informer.bench.measure '<json spec>'``.

Prints one JSON object. ``peak_rss_mb`` is the process's peak resident memory;
``extra_rss_mb`` the part of it reached after the inputs were built (what the measured work
itself needed). Kinds: ``attention``, ``matmul``, ``train``, ``forecast``.
"""

from __future__ import annotations

import json
import math
import resource
import statistics
import sys
from collections.abc import Callable

import torch

from informer.allocator import configure_allocator
from informer.hardware import matmul_throughput, timed  # below both: the precision choice measures too


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _summary(times: list[float]) -> dict:
    return {"median_s": statistics.median(times), "min_s": min(times), "times_s": times}


def measure_attention(spec: dict) -> dict:
    from informer.bench.reference import materialised_prob_sparse_attention
    from informer.model.attention import full_attention, prob_sparse_attention

    device = torch.device(spec.get("device", "cpu"))
    b, h, length, e = spec["batch"], spec["heads"], spec["length"], spec["head_dim"]
    causal, backward, factor = spec["causal"], spec["backward"], spec.get("factor", 5)
    generator = torch.Generator(device=device).manual_seed(0)
    q, k, v = (torch.randn(b, h, length, e, device=device, requires_grad=backward) for _ in range(3))
    methods = {
        "prob": lambda: prob_sparse_attention(q, k, v, factor=factor, causal=causal, generator=generator)[0],
        "full": lambda: full_attention(q, k, v, causal=causal),
        "sdpa": lambda: torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal),
        "published": lambda: materialised_prob_sparse_attention(q, k, v, factor=factor, causal=causal,
                                                                generator=generator),
    }
    method = methods[spec["method"]]

    def call():
        if backward:
            method().sum().backward()
            for t in (q, k, v):
                t.grad = None
        else:
            with torch.no_grad():
                method()

    before = peak_rss_mb()
    times = timed(call, warmup=spec.get("warmup", 1), repeats=spec.get("repeats", 5), device=device)
    return {**_summary(times), "peak_rss_mb": peak_rss_mb(), "extra_rss_mb": peak_rss_mb() - before}


def _count_flops(step: Callable[[], object]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return counter.get_total_flops()


def _model_and_batches(spec: dict):
    from torch.utils.data import DataLoader

    from informer.config import DataConfig, ModelConfig, RunConfig
    from informer.data.pipeline import prepare_for
    from informer.model.compose import build_for

    config = RunConfig(data=DataConfig(**spec.get("data", {})), model=ModelConfig(**spec.get("model", {})))
    data = prepare_for(config)
    torch.manual_seed(0)
    model = build_for(config.model, data)
    loader = DataLoader(data.dataset("train"), batch_size=spec.get("batch_size", 32), shuffle=True,
                        drop_last=True, generator=torch.Generator().manual_seed(0))
    return model, data, loader


def measure_train_distributed(spec: dict) -> dict:
    """Training steps of one DDP model across the processes of a torchrun job (global batch
    ``batch_size``, split among them): each timed step ends when every process has finished it."""
    from torch.nn.parallel import DistributedDataParallel
    from torch.utils.data import DataLoader, DistributedSampler

    from informer import distributed

    device = torch.device(spec.get("device", "cpu"))
    job, device = distributed.setup(device)
    amp = spec.get("amp", False)
    model, data, _ = _model_and_batches(spec)
    model.to(device).train()
    net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    train_set = data.dataset("train")
    loader = DataLoader(train_set, batch_size=spec.get("batch_size", 32) // job.world_size, drop_last=True,
                        sampler=DistributedSampler(train_set, job.world_size, job.rank, seed=0, drop_last=True))
    one_step = _step(net, model, loader, data.config.features, device=device, amp=amp, seed=job.seed(1), job=job)

    def step():
        one_step()
        job.barrier()

    times = timed(step, warmup=spec.get("warmup", 2), repeats=spec.get("steps", 10), device=device)
    seconds = statistics.median(times)
    result = {
        **_summary(times),
        "samples_per_s": spec.get("batch_size", 32) / seconds,
        "processes": job.world_size,
        "threads_per_process": torch.get_num_threads(),
        "parameters": sum(p.numel() for p in model.parameters()),
        "peak_rss_mb": peak_rss_mb(),
    }
    distributed.shutdown()
    return result if job.main else {}


def _step(net, model, loader, features: str, *, device: torch.device, amp, seed: int, job=None) -> Callable[[], None]:
    """One training step of ``net`` (``model``, or its DDP wrapper) per call, cycling through
    ``loader``'s batches, as the training loop takes it."""
    from informer.batches import amp_dtype
    from informer.distributed import SINGLE
    from informer.training.loop import make_optimizer, train_step

    optimizer = make_optimizer(model, lr=1e-4)
    grad_scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype(device, amp) == torch.float16)
    criterion = torch.nn.MSELoss()
    generator = torch.Generator(device=device).manual_seed(seed)
    batches = iter(loader)

    def step() -> None:
        nonlocal batches
        try:
            batch = next(batches)
        except StopIteration:
            batches = iter(loader)
            batch = next(batches)
        train_step(net, batch, optimizer=optimizer, criterion=criterion, grad_scaler=grad_scaler, features=features,
                   device=device, generator=generator, amp=amp, job=job or SINGLE)

    return step


def measure_train(spec: dict) -> dict:
    from informer.batches import amp_dtype, run_batch
    from informer.model import set_activation_checkpointing

    device = torch.device(spec.get("device", "cpu"))
    amp = spec.get("amp", False)
    model, data, loader = _model_and_batches(spec)
    model.to(device).train()
    set_activation_checkpointing(model, spec.get("checkpoint_activations", False))
    features = data.config.features
    generator = torch.Generator(device=device).manual_seed(1)
    step = _step(model, model, loader, features, device=device, amp=amp, seed=1)

    one = next(iter(loader))

    def forward():
        return run_batch(model, one, features=features, device=device, generator=generator, amp=amp)

    step_flops = _count_flops(step)
    model.eval()
    with torch.no_grad():
        forward_flops = _count_flops(forward)
        eval_times = timed(forward, warmup=2, repeats=spec.get("eval_repeats", 10), device=device)
    model.train()
    times = timed(step, warmup=spec.get("warmup", 2), repeats=spec.get("steps", 10), device=device)
    machine = matmul_throughput(device, amp_dtype(device, amp) or torch.float32)
    seconds = statistics.median(times)
    batch_size = spec.get("batch_size", 32)
    achieved = step_flops / seconds / 1e9
    return {
        **_summary(times),
        "samples_per_s": batch_size / seconds,
        "step_gflop": step_flops / 1e9,
        "forward_gflop": forward_flops / 1e9,
        "achieved_gflops": achieved,
        "matmul_gflops": machine["gflops"],
        "matmul_efficiency": achieved / machine["gflops"],
        "eval_forward_median_s": statistics.median(eval_times),
        "parameters": sum(p.numel() for p in model.parameters()),
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_forecast(spec: dict) -> dict:
    from informer.batches import run_batch

    device = torch.device(spec.get("device", "cpu"))
    amp = spec.get("amp", False)
    model, data, _ = _model_and_batches(spec)
    model.to(device).eval()
    dataset = data.dataset("test")
    generator = torch.Generator(device=device).manual_seed(0)
    result = {}
    for batch_size in (1, 32):
        batch = tuple(torch.stack(parts) for parts in zip(*(dataset[i] for i in range(batch_size))))
        with torch.no_grad():
            times = timed(lambda: run_batch(model, batch, features=data.config.features, device=device,
                                            generator=generator, amp=amp),
                          warmup=3, repeats=spec.get("repeats", 20), device=device)
        seconds = statistics.median(times)
        result[f"batch_{batch_size}"] = {"median_s": seconds, "forecasts_per_s": batch_size / seconds}
    result["peak_rss_mb"] = peak_rss_mb()
    return result


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    if "threads" in spec:
        torch.set_num_threads(spec["threads"])
    kind = spec["kind"]
    allocator = "system"  # the attention benchmark measures the algorithms' own memory
    if kind in ("train", "forecast"):  # as `informer train`, `evaluate` and `forecast` do
        allocator = configure_allocator(low_memory=spec.get("checkpoint_activations", False))
    if kind == "attention":
        result = measure_attention(spec)
    elif kind == "matmul":
        result = matmul_throughput(torch.device(spec.get("device", "cpu")),
                                   torch.bfloat16 if spec.get("dtype") == "bf16" else torch.float32)
    elif kind == "train" and spec.get("nproc", 1) > 1:
        result = measure_train_distributed(spec)
        if not result:  # not rank 0: rank 0 reports
            return 0
    elif kind == "train":
        result = measure_train(spec)
    elif kind == "forecast":
        result = measure_forecast(spec)
    else:
        raise SystemExit(f"unknown kind {kind!r}")
    result = {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in result.items()}
    result["allocator"] = allocator
    print(json.dumps({"spec": spec, "result": result}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
