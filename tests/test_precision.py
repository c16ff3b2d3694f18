"""Precision from measurement (issue 16): ``--amp`` alone picks bf16 on a CPU only where it is faster."""

from __future__ import annotations

import json

import pytest
import torch

from informer import precision
from informer.config import RunConfig, TrainConfig
from informer.errors import ConfigError

CPU = torch.device("cpu")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("INFORMER_CACHE_DIR", str(tmp_path))
    return tmp_path / "precision.json"


def _measured(fp32: float, bf16: float, calls: list):
    def measure():
        calls.append(1)
        return {"fp32_gflops": fp32, "bf16_gflops": bf16, "measured": "2026-11-25T00:00:00+00:00"}
    return measure


def test_auto_picks_bf16_where_it_is_faster_and_keeps_the_measurement(cache, monkeypatch):
    calls = []
    monkeypatch.setattr(precision, "measure_cpu", _measured(100.0, 180.0, calls))
    chosen, reason = precision.resolve("auto", CPU)
    assert chosen == "bf16" and "bf16 180 GFLOP/s, float32 100 GFLOP/s" in reason
    assert precision.resolve("auto", CPU)[0] == "bf16"
    assert len(calls) == 1  # measured once, then read from the cache
    assert list(json.loads(cache.read_text()).values())[0]["bf16_gflops"] == 180.0


def test_auto_keeps_float32_where_bf16_is_slower(cache, monkeypatch):
    monkeypatch.setattr(precision, "measure_cpu", _measured(325.0, 165.0, []))
    chosen, reason = precision.resolve("auto", CPU)
    assert chosen == "off" and "not faster" in reason


def test_forced_and_default_choices_measure_nothing(cache, monkeypatch):
    monkeypatch.setattr(precision, "measure_cpu", lambda: pytest.fail("measured"))
    assert precision.resolve("off", CPU)[0] == "off"
    assert precision.resolve("bf16", CPU)[0] == "bf16"
    assert precision.resolve("on", CPU)[0] == "bf16"
    assert precision.resolve("auto", torch.device("cuda"))[0] == "fp16"
    with pytest.raises(ConfigError, match="amp"):
        precision.resolve("half", CPU)


def test_older_configs_with_a_boolean_amp_still_load():
    assert TrainConfig(amp=True).amp == "on" and TrainConfig(amp=False).amp == "off"
    assert RunConfig.from_dict({"train": {"amp": True}}).train.amp == "on"


def test_the_run_directory_records_the_precision_and_why(cache, monkeypatch, tmp_path):
    from helpers import synthetic_frame
    from informer.run import load_run, train

    monkeypatch.setattr(precision, "measure_cpu", _measured(100.0, 300.0, []))
    path = tmp_path / "series.csv"
    synthetic_frame(n=200, columns=2).to_csv(path, index=False)
    config = RunConfig.from_dict({
        "data": {"data": str(path), "seq_len": 24, "label_len": 12, "pred_len": 6},
        "model": {"d_model": 16, "n_heads": 2, "d_ff": 16},
        "train": {"epochs": 1, "amp": "auto"},
    })
    run = train(config, out=tmp_path / "run")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["precision"] == "bf16" and "amp auto" in metrics["precision_reason"]
    assert load_run(tmp_path / "run").config.train.amp == "bf16"  # evaluated and resumed as trained
    assert run.config.train.amp == "bf16"


def test_fp16_is_for_cuda_and_a_gpu_run_evaluates_in_bf16_on_a_cpu():
    from informer.batches import amp_dtype

    with pytest.raises(ConfigError, match="fp16` is for CUDA"):
        precision.resolve("fp16", CPU)
    assert amp_dtype(CPU, "fp16") == torch.bfloat16
    assert amp_dtype(torch.device("cuda"), "fp16") == torch.float16


def test_a_damaged_cache_entry_is_measured_again(cache, monkeypatch):
    calls = []
    cache.write_text(json.dumps({precision.machine_key(): {"fp32_gflops": "fast"}}))
    monkeypatch.setattr(precision, "measure_cpu", _measured(100.0, 50.0, calls))
    assert precision.resolve("auto", CPU)[0] == "off" and calls == [1]
