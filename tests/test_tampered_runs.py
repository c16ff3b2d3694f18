"""A run directory is input: a config.json edited after training is refused from the weights
file's header, before a model of its size is built (no gigabytes allocated, no minutes spent)."""

from __future__ import annotations

import json

import pytest

from helpers import synthetic_frame
from informer.cli import main
from informer.rundir import RunDirectoryError
from informer.run import load_run

TINY = ["--seq-len", "24", "--label-len", "12", "--pred-len", "6", "--d-model", "16", "--n-heads", "2",
        "--d-ff", "32", "--batch-size", "16", "--epochs", "1", "--no-progress"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tampered")
    synthetic_frame(300, 2).to_csv(folder / "d.csv", index=False)
    assert main(["train", "--data", str(folder / "d.csv"), *TINY, "--out", str(folder / "run")]) == 0
    return folder / "run"


def _edited(run, tmp_path, **settings):
    copy = tmp_path / "copy"
    copy.mkdir()
    for item in run.iterdir():
        if item.is_file():
            (copy / item.name).write_bytes(item.read_bytes())
    saved = json.loads((copy / "config.json").read_text())
    saved["model"].update(settings)
    (copy / "config.json").write_text(json.dumps(saved))
    return copy


@pytest.mark.parametrize("settings, words", [
    ({"e_layers": 100_000}, "layers cannot be what the"),
    ({"d_model": 1_000_000, "n_heads": 2}, "d_model 1000000 is larger than any dimension"),
    ({"d_ff": 24}, "describes another model than model.safetensors holds"),
    ({"attn": "full", "d_layers": 2}, "describes another model"),
])
def test_an_edited_config_is_refused_from_the_weights_header(trained, tmp_path, capsys, settings, words):
    copy = _edited(trained, tmp_path, **settings)
    with pytest.raises(RunDirectoryError, match=words):
        load_run(copy)
    assert main(["evaluate", str(copy)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "config.json" in err and "Traceback" not in err


def test_an_unedited_run_still_loads(trained):
    assert load_run(trained).evaluate()["mse"] == pytest.approx(load_run(trained).metrics["mse"])


@pytest.mark.parametrize("section, key, value", [("data", "time_freq", "d"), ("data", "seq_len", 36),
                                                 ("data", "features", "S")])
def test_the_checksum_covers_the_data_settings_that_change_a_forecast(trained, tmp_path, capsys, section, key,
                                                                      value):
    copy = _edited(trained, tmp_path)
    saved = json.loads((copy / "config.json").read_text())
    saved["config"][section][key] = value
    (copy / "config.json").write_text(json.dumps(saved))
    with pytest.raises(RunDirectoryError, match="edited after training"):
        load_run(copy)


def test_weights_without_a_checksum_load_only_when_asked(trained, tmp_path, capsys):
    from safetensors.torch import load_file, save_file

    copy = tmp_path / "copy"
    copy.mkdir()
    for item in trained.iterdir():
        if item.is_file():
            (copy / item.name).write_bytes(item.read_bytes())
    save_file(load_file(str(copy / "model.safetensors")), str(copy / "model.safetensors"))  # no metadata
    with pytest.raises(RunDirectoryError, match="carries no checksum"):
        load_run(copy)
    assert main(["evaluate", str(copy)]) == 2
    err = capsys.readouterr().err
    assert "--unchecked-weights" in err and "Traceback" not in err
    assert load_run(copy, unchecked_weights=True).evaluate()["mse"] == pytest.approx(load_run(trained).metrics["mse"])
    assert main(["evaluate", str(copy), "--unchecked-weights"]) == 0
