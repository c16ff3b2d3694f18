"""Issue 13, finding 9: messages in the user's words, counts, and forecast precision."""

from __future__ import annotations

import pandas as pd

from helpers import synthetic_frame
from informer.cli import main


def test_a_bad_set_key_is_blamed_on_the_override_not_on_the_file(tmp_path, capsys):
    (tmp_path / "settings.toml").write_text("[train]\nepochs = 2\n")
    code = main(["train", "--config", str(tmp_path / "settings.toml"), "--set", "train.learning_rate=1e-3"])
    err = capsys.readouterr().err
    assert code == 2 and "override 'train.learning_rate=1e-3': unknown key 'learning_rate'" in err
    assert "settings.toml" not in err and "did you mean" in err


def test_label_len_errors_name_the_flags(capsys):
    code = main(["train", "--data", "ETTh1", "--seq-len", "96", "--label-len", "120"])
    assert code == 2 and "--label-len (120) must not exceed --seq-len (96)" in capsys.readouterr().err


def test_a_one_column_forecast_is_counted_and_written_with_float32_digits(tmp_path, capsys):
    synthetic_frame(300, 2).to_csv(tmp_path / "d.csv", index=False)
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--features", "S", "--model", "linear", "--seq-len",
                 "24", "--label-len", "12", "--pred-len", "6", "--moving-avg", "5", "--epochs", "1", "--device",
                 "cpu", "--no-progress", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    assert main(["forecast", str(tmp_path / "run"), "--out", str(tmp_path / "f.csv")]) == 0
    assert "x 1 column to" in capsys.readouterr().out
    values = (tmp_path / "f.csv").read_text().splitlines()[1].split(",")[1]
    assert len(values.replace("-", "").replace(".", "").lstrip("0")) <= 7
    assert main(["forecast", str(tmp_path / "run"), "--out", str(tmp_path / "g.csv"), "--float-format",
                 "%.17g"]) == 0
    precise = pd.read_csv(tmp_path / "g.csv")["b"]
    assert (pd.read_csv(tmp_path / "f.csv")["b"] - precise).abs().max() <= 1e-6 * precise.abs().max()
