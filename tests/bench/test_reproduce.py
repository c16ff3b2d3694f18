"""The reproduction harness on a tiny preset: appends, skips what is recorded, resumes, and
regenerates the table; and the preset table itself against the published scripts."""

from __future__ import annotations

import json

import pytest

from helpers import synthetic_frame
from informer import rundir
from informer.bench import reproduce as harness
from informer.bench.presets import PRESETS, Preset, find_presets
from informer.cli import main

TINY = ("model.d_model=16", "model.n_heads=2", "model.d_ff=16", "model.dropout=0.0", "model.moving_avg=5",
        "train.epochs=1", "train.batch_size=16", "train.lr=0.001")


@pytest.fixture
def tiny(tmp_path):
    csv = tmp_path / "series.csv"
    synthetic_frame(300, 2).to_csv(csv, index=False)
    preset = Preset(str(csv), "M", 24, 12, 6, 1, 1, 3, paper_mse=0.5, paper_mae=0.5)
    return preset, tmp_path


def test_appends_skips_and_regenerates(tiny):
    preset, folder = tiny
    results, doc = folder / "reproduce.jsonl", folder / "results.md"
    doc.write_text("# Results\n\nhand-written intro\n\n" + harness.BEGIN + "\nold\n" + harness.END + "\n\nnotes\n")
    jobs = harness.plan(presets=[preset], seeds=2, device="cpu", overrides=TINY)
    assert [(j.model, j.seed) for j in jobs] == [("informer", 2021), ("informer", 2022), ("linear", 2021),
                                                 ("linear", 2022), ("repeat", 2021)]
    added = harness.reproduce(jobs, results=results, runs_dir=folder / "runs", doc=doc)
    lines = harness.read_lines(results)
    assert lines == added and len(lines) == 5
    line = lines[0]
    assert (line["dataset"], line["seq_len"], line["label_len"], line["pred_len"], line["factor"]) == (
        preset.dataset, 24, 12, 6, 3)
    assert line["precision"] == "fp32" and line["epochs"] == 1 and line["overrides"] == list(TINY)
    assert {"mse", "mae", "best_epoch", "train_seconds", "device", "version", "commit"} <= set(line)
    assert lines[0]["mse"] != lines[1]["mse"]  # two seeds, two runs
    assert harness.reproduce(jobs, results=results, runs_dir=folder / "runs", doc=doc) == []  # all recorded
    assert len(harness.read_lines(results)) == 5
    text = doc.read_text()
    assert text.startswith("# Results\n\nhand-written intro") and text.endswith("notes\n") and "\nold\n" not in text
    assert "5 recorded runs" not in text  # runs with overrides stay out of the published table


@pytest.mark.parametrize("cycle", ["0", "auto"])  # auto: the run directory records the cycle it resolved to
def test_an_interrupted_run_resumes_from_its_last_epoch(tiny, monkeypatch, cycle):
    preset, folder = tiny
    overrides = tuple(o for o in TINY if not o.startswith("train.epochs")) + (
        "train.epochs=2", "train.patience=5", f"model.cycle={cycle}")
    job = harness.Job(preset, "linear", seed=2021, device="cpu", overrides=overrides)
    original = rundir.history_csv
    calls = []

    def killed_after_first_epoch(history):
        calls.append(len(history))
        if len(calls) == 1:  # the first epoch's resume state is on disk by now
            raise KeyboardInterrupt
        return original(history)

    monkeypatch.setattr(rundir, "history_csv", killed_after_first_epoch)
    results = folder / "reproduce.jsonl"
    with pytest.raises(KeyboardInterrupt):
        harness.reproduce([job], results=results, runs_dir=folder / "runs")
    assert not results.exists() and (folder / "runs" / job.label / rundir.RESUME_FILE).exists()
    [line] = harness.reproduce([job], results=results, runs_dir=folder / "runs")
    assert line["resumed"] is True and line["epochs"] == 2

    monkeypatch.setattr(rundir, "history_csv", original)
    [fresh] = harness.reproduce([job], results=folder / "fresh.jsonl", runs_dir=folder / "fresh")
    assert fresh["resumed"] is False and fresh["mse"] == pytest.approx(line["mse"], rel=1e-6)


def test_a_finished_but_unrecorded_run_is_recorded_without_training(tiny):
    preset, folder = tiny
    job = harness.Job(preset, "repeat", device="cpu", overrides=TINY)
    [first] = harness.reproduce([job], results=folder / "a.jsonl", runs_dir=folder / "runs")
    [again] = harness.reproduce([job], results=folder / "b.jsonl", runs_dir=folder / "runs")
    assert again["mse"] == first["mse"] and again["finished"] >= first["finished"]


def test_the_table_compares_with_the_paper():
    preset = find_presets(dataset="ETTh1", features="M", horizons=(24,))[0]
    base = {"dataset": "ETTh1", "features": "M", "seq_len": 48, "label_len": 48, "pred_len": 24, "e_layers": 2,
            "d_layers": 1, "factor": 3, "attn": "prob", "model": "informer", "precision": "bf16",
            "train_seconds": 600.0, "epochs": 5, "device": "cpu"}
    lines = [dict(base, seed=2021, mse=0.5, mae=0.5), dict(base, seed=2022, mse=0.7, mae=0.6),
             dict(base, seed=2021, mse=0.62, mae=0.58, attn="full"),
             dict(base, seed=2021, mse=0.4, mae=0.42, model="linear", attn=None, precision="fp32")]
    table = harness.results_table(lines, presets=[preset])
    row = table.splitlines()[-1]
    assert "0.577 / 0.549" in row and "0.600 ± 0.100 / 0.550 ± 0.050 (2, bf16)" in row
    assert "+4%" in row and "0.620 / 0.580 (1; paper 0.620 / 0.577)" in row and "0.400 / 0.420" in row
    assert "10 min (5/5)" in row


def test_the_preset_table_holds_every_published_line():
    assert len(PRESETS) == 40 and len({p.name for p in PRESETS}) == 40
    for dataset in ("ETTh1", "ETTh2", "ETTm1", "WTH"):
        for features in ("M", "S"):
            assert len(find_presets(dataset=dataset, features=features)) == 5
    horizons = [p.pred_len for p in find_presets(dataset="ETTm1", features="M")]
    assert horizons == [24, 48, 96, 288, 672]
    wth = find_presets(dataset="WTH", features="M")
    assert [(p.e_layers, p.d_layers) for p in wth] == [(3, 2), (2, 1), (3, 2), (3, 2), (3, 2)]
    assert all(p.time_freq == "h" for p in find_presets(dataset="ETTm1"))
    assert [p.factor for p in PRESETS if p.factor != 5] == [3, 3]
    config = find_presets(dataset="ETTm1", features="S", horizons=(24,))[0].config()
    assert (config.data.time_freq, config.data.seq_len, config.model.d_model, config.train.epochs) == ("h", 96, 512, 6)


def test_dry_run_lists_and_estimates(tiny, capsys):
    preset, folder = tiny
    code = main(["reproduce", "--dataset", "ETTh2", "--features", "S", "--horizons", "24", "--models", "repeat",
                 "--dry-run", "--results", str(folder / "none.jsonl"), "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0 and "to run    ETTh2_S_48-48-24_e2d1_f3_repeat_fp32_seed2021" in out
    assert "1 of 1 runs to go" in out


def test_a_broken_results_file_is_named(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"a": 1}) + "\n{oops\n")
    with pytest.raises(Exception, match=r"r.jsonl, line 2"):
        harness.read_lines(path)


def test_trial_settings_get_their_own_run_directory_and_stale_ones_are_retrained(tiny):
    preset, folder = tiny
    trial = harness.Job(preset, "repeat", device="cpu", overrides=TINY)
    other = harness.Job(preset, "repeat", device="cpu", overrides=TINY + ("train.batch_size=8",))
    assert trial.label != other.label
    [first] = harness.reproduce([trial], results=folder / "a.jsonl", runs_dir=folder / "runs")
    (folder / "runs" / other.label).parent.mkdir(exist_ok=True)
    import shutil

    shutil.copytree(folder / "runs" / trial.label, folder / "runs" / other.label)  # stale: other settings
    [line] = harness.reproduce([other], results=folder / "b.jsonl", runs_dir=folder / "runs")
    config = json.loads((folder / "runs" / other.label / "config.json").read_text())
    assert config["config"]["train"]["batch_size"] == 8 and line["overrides"][-1] == "train.batch_size=8"
