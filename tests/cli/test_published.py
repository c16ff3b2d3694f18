"""Command lines written for the published main_informer.py run through ``informer train``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import synthetic_frame
from informer.cli import main
from informer.cli.published import is_published, translate
from informer.errors import ConfigError


def test_a_published_script_line_runs_with_its_published_meaning(tmp_path, capsys):
    """A line of the published scripts, with its sizes shrunk; only the program name changed."""
    synthetic_frame(300, 3).to_csv(tmp_path / "meters.csv", index=False)
    line = (f"--model informer --data custom --root_path {tmp_path}/ --data_path meters.csv --features MS "
            "--target c --freq h --seq_len 24 --label_len 12 --pred_len 6 --e_layers 1 --d_layers 1 --factor 3 "
            "--d_model 16 --n_heads 2 --d_ff 16 --attn prob --des Exp --itr 1 --train_epochs 1 --batch_size 16 "
            "--learning_rate 1e-3 --distil --do_predict --inverse --use_gpu True --gpu 0 --enc_in 3 --dec_in 3 "
            "--c_out 1")
    code = main(["train", *line.split(), "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "published main_informer.py meanings" in captured.err and "no effect here: --des" in captured.err
    assert "test (original units)" in captured.out
    config = json.loads((tmp_path / "run" / "config.json").read_text())["config"]
    assert config["model"]["distil"] is False and config["model"]["mix"] is True  # --distil switched it off
    assert (config["data"]["time_freq"], config["data"]["target"], config["data"]["features"]) == ("h", "c", "MS")
    assert (config["train"]["epochs"], config["train"]["lr"], config["train"]["itr"]) == (1, 1e-3, 1)
    forecast = pd.read_csv(tmp_path / "run" / "forecast.csv")
    assert list(forecast.columns) == ["date", "c"] and len(forecast) == 6


def test_published_datasets_resolve_to_the_file_or_the_bundled_copy(tmp_path):
    args, notes = translate(["--data", "ETTh1", "--root_path", str(tmp_path), "--data_path", "ignored.csv"])
    assert args[args.index("--data") + 1] == "ETTh1" and "using the bundled ETTh1" in " ".join(notes)
    (tmp_path / "ETTm1.csv").write_text("date,OT\n")
    args, _ = translate(["--data", "ETTm1", f"--root_path={tmp_path}"])
    assert args[args.index("--data") + 1] == str(tmp_path / "ETTm1.csv")
    assert args[args.index("--split") + 1] == "ett_minute" and args[args.index("--time-freq") + 1] == "h"
    args, _ = translate(["--data", "WTH", "--des", "x"])
    assert args[args.index("--target") + 1] == "WetBulbCelsius" and args[args.index("--itr") + 1] == "2"
    with pytest.raises(ConfigError, match="ECL.csv: missing"):
        translate(["--data", "ECL", "--root_path", str(tmp_path)])


def test_published_flags_with_other_meanings():
    args, _ = translate(["--data", "ETTh1", "--mix", "--cols", "a", "b", "c", "--des", "Exp", "--itr", "3"])
    assert "--no-mix" in args and args[args.index("--cols") + 1] == "a,b,c" and args[args.index("--itr") + 1] == "3"
    for line, message in ((["--padding", "1"], "--padding 1"), (["--use_multi_gpu"], "--use_multi_gpu"),
                          (["--gpu", "2"], "CUDA_VISIBLE_DEVICES=2")):
        with pytest.raises(ConfigError, match=message):
            translate(["--data", "ETTh1", *line])
    assert translate(["--padding", "0", "--data", "ETTh1"])[0].count("--padding") == 0


def test_our_own_vocabulary_is_not_read_as_published():
    assert not is_published(["--data", "ETTh1", "--distil", "--seq_len", "96", "--model", "informerstack"])
    assert is_published(["--seq-len", "96", "--des", "Exp"])
    assert not is_published(["--train_epochs", "1", "--learning_rate", "1e-3", "--use_amp"])


def test_unsupported_published_options_are_one_line_errors(capsys):
    assert main(["train", "--data", "ETTh1", "--use_multi_gpu", "--devices", "0,1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--use_multi_gpu" in err[0]


def test_this_projects_spellings_of_published_flags_mark_nothing():
    assert not is_published(["--data", "ETTh1", "--do-predict", "--original-units", "--distil"])
    assert is_published(["--data", "ETTh1", "--do_predict"])
