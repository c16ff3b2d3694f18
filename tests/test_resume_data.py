"""Resume checks the data: a run records a fingerprint of what it trained on, and resuming on data
that changed since (rows appended, values edited) stops with one line instead of re-fitting the
scaler and moving the splits silently."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import informer
from helpers import interrupted_run, synthetic_frame
from informer.cli import main
from informer.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from informer.data.pipeline import fingerprint_change, prepare
from informer.errors import DataError


def _config(path) -> RunConfig:
    return RunConfig(data=DataConfig(data=str(path), seq_len=24, label_len=12, pred_len=6),
                     model=ModelConfig(d_model=16, n_heads=2, d_ff=32),
                     train=TrainConfig(epochs=2, batch_size=16, patience=5))


def _interrupted(config: RunConfig, out) -> None:
    """Train ``config`` into ``out`` and stop it in its second epoch: the first one is resumable."""
    interrupted_run(config, out, steps=(int(300 * 0.7) - 24 - 6 + 1) // 16)
    assert (out / "resume.safetensors").exists()


def test_the_run_records_the_fingerprint_of_its_data(tmp_path):
    frame = synthetic_frame(300, 2)
    frame.to_csv(tmp_path / "d.csv", index=False)
    run = informer.train(_config(tmp_path / "d.csv"), out=tmp_path / "run")
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["data"]["fingerprint"]
    assert recorded == prepare(_config(tmp_path / "d.csv").data).fingerprint()
    assert recorded["rows"] == 300 and recorded["borders"]["train"] == [0, 210]
    assert informer.load_run(tmp_path / "run").data_fingerprint == run.data_fingerprint == recorded
    # the same rows under another name are the same data; one changed value is not
    frame.to_csv(tmp_path / "moved.csv", index=False)
    assert fingerprint_change(recorded, prepare(DataConfig(data=str(tmp_path / "moved.csv"), seq_len=24, label_len=12,
                                                           pred_len=6)).fingerprint()) is None


@pytest.mark.parametrize("change", ["appended", "edited"])
def test_resume_refuses_data_that_changed_and_continues_once_it_is_restored(tmp_path, monkeypatch, capsys, change):
    frame = synthetic_frame(300, 2)
    frame.to_csv(tmp_path / "d.csv", index=False)
    config = _config(tmp_path / "d.csv")
    expected = informer.train(config).metrics
    _interrupted(config, tmp_path / "run")
    if change == "appended":
        more = synthetic_frame(324, 2)
        more.to_csv(tmp_path / "d.csv", index=False)
    else:
        edited = frame.copy()
        edited.iloc[5, 1] += 1.0
        edited.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match="changed since the run"):
        informer.run.resume(tmp_path / "run")
    code = main(["train", "--resume", str(tmp_path / "run"), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    message = [line for line in err.splitlines() if "changed since" in line]
    assert len(message) == 1
    assert ("300 rows then, 324 now" if change == "appended" else "other timestamps or values") in message[0]
    assert (tmp_path / "run" / "resume.safetensors").exists()  # nothing lost: it can still be resumed
    frame.to_csv(tmp_path / "d.csv", index=False)
    assert informer.run.resume(tmp_path / "run").metrics["mse"] == expected["mse"]


def test_a_run_without_a_fingerprint_resumes_with_a_warning(tmp_path, monkeypatch, caplog):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    config = _config(tmp_path / "d.csv")
    _interrupted(config, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    del saved["data"]["fingerprint"]  # as 0.7 wrote it
    (tmp_path / "run" / "config.json").write_text(json.dumps(saved))
    with caplog.at_level("WARNING", logger="informer"):
        informer.run.resume(tmp_path / "run")
    assert "recorded no fingerprint" in caplog.text
    assert pd.read_csv(tmp_path / "run" / "history.csv").shape[0] == 2
