"""informer datasets: the bundled table and one dataset's summary."""

import json
import subprocess
import sys

import pytest

from helpers import synthetic_frame
from informer.cli import main


def test_datasets_lists_the_bundled_sets(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("ETTh1", "ETTh2", "ETTm1", "ETTm2", "WTH", "weather"):
        assert name in out
    assert "17420" in out and "WetBulbCelsius" in out


def test_datasets_list_as_json(capsys):
    assert main(["datasets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"ETTh1", "weather"} <= {row["name"] for row in rows}


@pytest.mark.parametrize("lengths", [["--seq-len", "96", "--label-len", "48", "--pred-len", "24"],
                                     ["--seq_len", "96", "--label_len=48", "--pred_len", "24"]])
def test_datasets_show_json_for_etth1(lengths, capsys):
    assert main(["datasets", "show", "ETTh1", *lengths, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 17420 and summary["columns"] == 7
    assert summary["freq"] == "h" and summary["target"] == "OT"
    assert summary["windows"] == {"train": 8521, "val": 2857, "test": 2857}


def test_datasets_show_a_user_file(capsys, write_csv):
    path = write_csv(synthetic_frame(400, 3, freq="D"))
    assert main(["datasets", "show", path, "--features", "MS", "--seq-len", "30", "--label-len", "10",
                 "--pred-len", "7"]) == 0
    out = capsys.readouterr().out
    assert "D" in out and "3 in, 1 out" in out


def test_bad_input_is_one_line_and_exit_code_2(write_csv):
    path = write_csv("date,a\n2021-01-01,1\n2021-01-01,2\n2021-01-03,3\n")
    result = subprocess.run([sys.executable, "-m", "informer.cli", "datasets", "show", path],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert "duplicate timestamp" in result.stderr and path in result.stderr


@pytest.mark.parametrize("argv", [["datasets", "show", "ETTh1", "--seq-len", "0"],
                                  ["datasets", "show", "ETTh1", "--features", "Q"],
                                  ["datasets", "show", "ETTh1", "--label-len", "200"]])
def test_bad_flags_exit_2(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse
        code = exit_.code
    assert code == 2
    assert capsys.readouterr().err.count("\n") == 1
