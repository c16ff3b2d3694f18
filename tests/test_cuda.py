"""The CUDA path (issue 16): the same runs on a GPU. Skipped where torch sees none (the project's
own machines have none, so these run only where a user or a CI with a GPU runs them)."""

from __future__ import annotations

import json

import pytest
import torch

from helpers import synthetic_frame
from informer.cli import main

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.fixture(autouse=True)
def exact_float32():
    """No TF32 on Ampere and later: float32 on the GPU as on the CPU (ProbSparse's choice of
    queries is sensitive to the last digits)."""
    before = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before

TINY = ["--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--d-model", "16", "--n-heads", "2",
        "--d-ff", "32", "--epochs", "2", "--batch-size", "8"]


@pytest.fixture
def series_csv(tmp_path) -> str:
    path = tmp_path / "series.csv"
    synthetic_frame(n=300, columns=3).to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("amp", [[], ["--amp"]])
def test_a_run_trained_on_cuda_evaluates_the_same_on_the_cpu(series_csv, tmp_path, capsys, amp):
    out = tmp_path / "run"
    assert main(["train", "--data", series_csv, *TINY, "--device", "cuda", *amp, "--out", str(out)]) == 0
    trained = json.loads((out / "metrics.json").read_text())
    capsys.readouterr()
    assert main(["evaluate", str(out), "--device", "cpu", "--json"]) == 0
    on_cpu = json.loads(capsys.readouterr().out)
    tolerance = 5e-2 if amp else 1e-3  # fp16 autocast on the GPU against bf16 on the CPU; float32 both
    assert on_cpu["mse"] == pytest.approx(trained["mse"], rel=tolerance)


def test_forecast_on_cuda_matches_the_cpu(series_csv, tmp_path):
    from informer.run import load_run

    out = tmp_path / "run"
    assert main(["train", "--data", series_csv, *TINY, "--device", "cuda", "--out", str(out)]) == 0
    gpu = load_run(out, device="cuda").forecast()
    cpu = load_run(out, device="cpu").forecast()
    assert list(gpu["date"]) == list(cpu["date"])
    for column in gpu.columns[1:]:
        assert gpu[column].to_numpy() == pytest.approx(cpu[column].to_numpy(), rel=1e-3, abs=1e-4)


def test_modern_preset_trains_on_cuda(series_csv, tmp_path):
    out = tmp_path / "modern"
    assert main(["train", "--data", series_csv, *TINY, "--preset", "modern", "--device", "cuda",
                 "--out", str(out)]) == 0
    assert json.loads((out / "config.json").read_text())["config"]["preset"] == "modern"


def test_bench_train_on_cuda(tmp_path):
    out = tmp_path / "bench.json"
    assert main(["bench", "train", "--data", "ETTh1", *TINY[:8], "--steps", "2", "--device", "cuda",
                 "--out", str(out)]) == 0
    assert json.loads(out.read_text())["result"]["median_s"] > 0
