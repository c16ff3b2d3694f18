"""benchmarks/published_runs.py reads the published program's output as it prints it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "published_runs.py"


@pytest.fixture(scope="module")
def published_runs():
    spec = importlib.util.spec_from_file_location("published_runs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


OUTPUT = """Use CPU
>>>>>>>start training : informer_ETTh1_ftM_sl96_ll48_pl48_dm512>>>>>>>>>>>>>>>>>>>>>>>>>>
train 8497
	iters: 100, epoch: 1 | loss: 0.4163239
Epoch: 1 cost time: 930.1
Epoch: 1, Steps: 265 | Train Loss: 0.4560466 Vali Loss: 0.8841712 Test Loss: 0.6561708
Validation loss decreased (inf --> 0.884171).  Saving model ...
Epoch: 2, Steps: 265 | Train Loss: 0.2937905 Vali Loss: 0.8396153 Test Loss: 0.6654988
Epoch: 3, Steps: 265 | Train Loss: 0.2261725 Vali Loss: 0.8711743 Test Loss: 0.6692871
EarlyStopping counter: 1 out of 3
Epoch: 4, Steps: 265 | Train Loss: 0.2000000 Vali Loss: 0.8396153 Test Loss: 0.7000000
>>>>>>>testing : informer_ETTh1<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<
test shape: (2816, 48, 7) (2816, 48, 7)
mse:0.6654987931251526, mae:0.5912345051765442
"""


def test_parses_epochs_and_final_metrics(published_runs):
    run = published_runs.parse(OUTPUT)
    assert run["mse"] == pytest.approx(0.6654987931) and run["mae"] == pytest.approx(0.5912345052)
    assert run["epochs"] == 4 and [r["val_loss"] for r in run["history"]][:2] == [0.8841712, 0.8396153]
    assert run["best_epoch"] == 2  # a tie later does not replace the kept checkpoint


def test_an_unfinished_run_is_refused(published_runs):
    with pytest.raises(ValueError, match="no finished run"):
        published_runs.parse(OUTPUT.split(">>>>>>>testing")[0])


FAKE_PROGRAM = """import sys, torch
value = float(torch.rand(()))  # the first draw of torch's global generator
print("Epoch: 1, Steps: 1 | Train Loss: %.7f Vali Loss: 0.5 Test Loss: 0.25" % value)
print("flags", " ".join(sys.argv[1:]))
print("mse:%.7f, mae:0.5" % value)
"""


def test_seed_starts_the_program_from_that_generator_state(published_runs, tmp_path):
    """--seed S: the program's first random number is the one torch.manual_seed(S) gives, run
    after run (S, S+1); its flags pass through and its output is kept in --log-dir."""
    program = tmp_path / "published"
    program.mkdir()
    (program / "main_informer.py").write_text(FAKE_PROGRAM)
    out = tmp_path / "runs.jsonl"
    code = published_runs.main(["--published", str(program), "--python", sys.executable, "--seed", "7",
                                "--runs", "2", "--log-dir", str(tmp_path / "logs"), "--out", str(out), "--commit",
                                "abc", "--", "--data", "ETTh1"])
    assert code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    expected = [float(torch.manual_seed(seed) and torch.rand(())) for seed in (7, 8)]
    assert [line["seed"] for line in lines] == [7, 8]
    assert [line["mse"] for line in lines] == pytest.approx(expected, abs=1e-7)
    assert lines[0]["mse"] != pytest.approx(lines[1]["mse"])
    logs = sorted((tmp_path / "logs").iterdir())
    assert len(logs) == 2 and "flags --data ETTh1 --itr 1" in logs[0].read_text()
