import json
import os
import sys

import pytest
import torch

from informer.bench.reference import materialised_prob_sparse_attention
from informer.bench.report import attention_table, memory_exponents
from informer.bench.suite import attention_bytes, fitted_exponent
from informer.cli import main
from informer.model.attention import prob_sparse_attention


@pytest.mark.parametrize("causal", [False, True])
def test_the_published_style_baseline_computes_the_same_attention(causal):
    q, k, v = (torch.randn(2, 3, 40, 8, generator=torch.Generator().manual_seed(i)) for i in range(3))
    ours, _ = prob_sparse_attention(q, k, v, factor=2, causal=causal, generator=torch.Generator().manual_seed(5))
    baseline = materialised_prob_sparse_attention(q, k, v, factor=2, causal=causal,
                                                  generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(baseline, ours, atol=1e-5, rtol=1e-5)


def test_fitted_exponent_and_memory_estimates():
    assert fitted_exponent([1024, 2048, 4096], [10.0, 20.0, 40.0]) == pytest.approx(1.0)
    assert fitted_exponent([1024, 2048], [1.0, 4.0]) == pytest.approx(2.0)
    full = attention_bytes("full", batch=8, heads=8, length=8192, head_dim=64, backward=False)
    prob = attention_bytes("prob", batch=8, heads=8, length=8192, head_dim=64, backward=False)
    assert full > 30e9 > prob


def test_attention_bench_runs_every_method_in_child_processes(tmp_path, capsys):
    out = tmp_path / "a.json"
    code = main(["bench", "attention", "--lengths", "16,32", "--batch", "1", "--heads", "2", "--head-dim", "4",
                 "--repeats", "1", "--modes", "decoder", "--out", str(out)])
    assert code == 0
    payload = json.loads(out.read_text())
    rows = payload["rows"]
    assert {r["method"] for r in rows} == {"prob", "full", "sdpa", "published"}
    assert all(r["median_s"] > 0 and r["peak_rss_mb"] > 0 for r in rows), rows
    assert "decoder" in attention_table(rows)
    assert memory_exponents(rows, low=16, high=32).keys() <= {f"decoder/{m}" for m in ("prob", "full", "sdpa", "published")}
    assert payload["machine"]["cores"] >= 1


def test_train_and_forecast_bench_report_their_figures(tmp_path, capsys):
    args = ["--data", "ETTh1", "--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--d-model", "16",
            "--n-heads", "2", "--d-ff", "32", "--batch-size", "8"]
    assert main(["bench", "train", *args, "--steps", "2", "--out", str(tmp_path / "t.json")]) == 0
    result = json.loads((tmp_path / "t.json").read_text())["result"]
    assert result["step_gflop"] > 0 and result["matmul_gflops"] > 0
    assert 0 < result["matmul_efficiency"] < 1.5
    assert main(["bench", "train", *args, "--steps", "2", "--checkpoint-activations",
                 "--out", str(tmp_path / "c.json")]) == 0
    recomputing = json.loads((tmp_path / "c.json").read_text())
    assert recomputing["spec"]["checkpoint_activations"] is True
    assert recomputing["result"]["step_gflop"] > result["step_gflop"]  # the forward pass runs twice
    if sys.platform.startswith("linux") and "INFORMER_MALLOC" not in os.environ:
        assert (result["allocator"], recomputing["result"]["allocator"]) == ("reuse", "lean")
    capsys.readouterr()
    assert main(["bench", "forecast", *args, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["result"]["batch_1"]["median_s"] > 0


def test_attention_plot_is_written_whole(tmp_path):
    pytest.importorskip("matplotlib")
    from informer.bench.report import plot_attention

    rows = [{"mode": "encoder", "method": m, "length": n, "median_s": n * 1e-5 * k, "extra_rss_mb": n / 10}
            for k, m in enumerate(("prob", "full"), start=1) for n in (96, 192, 384)]
    plot_attention(rows, tmp_path / "plots" / "attention.png", title="test")
    assert (tmp_path / "plots" / "attention.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in (tmp_path / "plots").iterdir()] == ["attention.png"]


def test_train_bench_with_one_and_two_processes(tmp_path, capsys):
    args = ["--data", "ETTh1", "--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--d-model", "16",
            "--n-heads", "2", "--d-ff", "32", "--batch-size", "8", "--steps", "2"]
    assert main(["bench", "train", *args, "--nproc", "1,2", "--out", str(tmp_path / "p.json")]) == 0
    rows = json.loads((tmp_path / "p.json").read_text())["rows"]
    assert [(r["nproc"], r["samples_per_s"] > 0) for r in rows] == [(1, True), (2, True)]
    assert rows[1]["processes"] == 2
    assert "2 process(es)" in capsys.readouterr().out
    assert main(["bench", "train", *args, "--nproc", "3"]) == 2  # 8 does not split among 3
