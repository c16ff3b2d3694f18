"""Library messages name settings in backticks; the CLI spells them as the command's flags."""

import pytest

from helpers import synthetic_frame
from informer.cli import build_parser, main
from informer.cli.common import user_words
from informer.config import DataConfig
from informer.data.loading import load_series
from informer.errors import DataError


def command(*words):
    parser = build_parser()
    for word in words:
        parser = next(a for a in parser._actions if a.dest in ("command", "datasets_command", "bench_command")
                      ).choices[word]
    return parser


TRAIN, EVALUATE, FORECAST = command("train"), command("evaluate"), command("forecast")
SHOW = command("datasets", "show")


@pytest.mark.parametrize("parser,message,expected", [
    (FORECAST, "`at` '2018-13-01' is not a timestamp", "--at '2018-13-01' is not a timestamp"),
    (TRAIN, "no CUDA device; use `device=cpu`", "no CUDA device; use --device cpu"),
    (EVALUATE, "no CUDA device; use `device=cpu`", "no CUDA device; use --device cpu"),
    (TRAIN, "runs/x: run directory exists; pass `overwrite` or choose another `out`",
     "runs/x: run directory exists; pass --overwrite or choose another --out"),
    (TRAIN, "a learning rate too high (try `lr=1e-5`), or `amp` overflow",
     "a learning rate too high (try --lr 1e-5), or --amp overflow"),
    (TRAIN, "pass `date_col='Time'`", "pass --date-col 'Time'"),
    (TRAIN, "repair them with `fill=ffill` or `fill=interpolate`",
     "repair them with --fill ffill or --fill interpolate"),
    (TRAIN, "data.label_len (120) must not exceed data.seq_len (96): the decoder",
     "--label-len (120) must not exceed --seq-len (96): the decoder"),
    (TRAIN, "model.d_model (15) must be divisible by model.n_heads (2)",
     "--d-model (15) must be divisible by --n-heads (2)"),
    (TRAIN, "use `model.kind=linear` or `kind`; model.kind must be one of",
     "use --model linear or --model; --model must be one of"),
    (TRAIN, "`checkpoint_activations=true`, `distil=false`, `amp=bf16`", "--checkpoint-activations, --no-distil, --amp bf16"),
    (TRAIN, "look at train.lr.", "look at --lr."),
])
def test_settings_become_flags(parser, message, expected):
    assert user_words(message, parser) == expected


@pytest.mark.parametrize("parser,message,expected", [
    # settings the command has no flag for are spelled as `informer train` spells them
    (SHOW, "`at` '2018-13-01' is not a timestamp", "--at '2018-13-01' is not a timestamp"),
    (EVALUATE, "(try `lr=1e-5`)", "(try --lr 1e-5)"),
    (EVALUATE, "repair them with `fill=ffill`", "repair them with --fill ffill"),
    (None, "pass `overwrite` or data.seq_len", "pass --overwrite or data.seq_len"),
])
def test_settings_without_a_flag_here_are_spelled_as_train_spells_them(parser, message, expected):
    assert user_words(message, parser) == expected


@pytest.mark.parametrize("parser,message,expected", [
    (FORECAST, "runs/x: training stopped before it finished; continue it with `resume('runs/x')`",
     "runs/x: training stopped before it finished; continue it with informer train --resume runs/x"),
    (TRAIN, "stopped (KeyboardInterrupt); continue with `resume('my run')` in a job of 2 processes",
     "stopped (KeyboardInterrupt); continue with informer train --resume 'my run' in a job of 2 processes"),
    (None, "resume it with `resume()`", "resume it with informer train --resume"),
])
def test_library_functions_become_the_command_that_does_the_same(parser, message, expected):
    assert user_words(message, parser) == expected


@pytest.mark.parametrize("parser,message", [
    (EVALUATE, "the ett_hour split needs 17420 rows; use `split=ratio`"),  # evaluate's --split is val/test
    (TRAIN, "`nonsense` and `informer train` and `stack_depth=3`"),
    (TRAIN, "override 'train.lr=x': expected section.key=value, e.g. train.lr=5e-5"),
    (TRAIN, "see `explain()` and `resume(runs/x)`"),  # not a command's function; not a literal
    (TRAIN, "settings: model: unknown key 'lrr' (did you mean 'lr'?)"),
    (TRAIN, "runs/a/model.safetensors is damaged; see train.log and data.csv"),
    (TRAIN, "model.data: no such file; `train.target` is not a training setting"),
])
def test_other_words_stay_as_written(parser, message):
    assert user_words(message, parser) == message


def test_python_users_see_the_setting_names(write_csv):
    path = write_csv("date,a\n2021-01-01 00:00,1\n2021-01-01 01:00,\n2021-01-01 02:00,3\n")
    with pytest.raises(DataError, match="`fill=ffill`"):
        load_series(DataConfig(data=path))


def run(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse
        code = exit_.code
    return code, capsys.readouterr().err


def test_cli_errors_name_flags(write_csv, tmp_path, capsys):
    nan = write_csv("date,a\n2021-01-01 00:00,1\n2021-01-01 01:00,\n2021-01-01 02:00,3\n", name="nan.csv")
    code, err = run(["datasets", "show", nan], capsys)
    assert code == 2 and "repair them with --fill ffill or --fill interpolate" in err and "`" not in err
    no_date = write_csv("time,a\n2021-01-01 00:00,1\n", name="time.csv")
    code, err = run(["datasets", "show", no_date], capsys)
    assert code == 2 and "pass --date-col 'time'" in err
    code, err = run(["datasets", "show", "ETTh1", "--seq_len", "24", "--label-len", "30"], capsys)
    assert code == 2 and "--label-len (30) must not exceed --seq-len (24)" in err
    series = write_csv(synthetic_frame(300, 2), name="s.csv")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "something").write_text("")
    code, err = run(["train", "--data", series, "--out", str(tmp_path / "taken"), "--device", "cpu"], capsys)
    assert code == 2 and "pass --overwrite or choose another --out" in err
    assert err.count("\n") == 1


def test_log_messages_name_flags_too(write_csv, capsys):
    frame = synthetic_frame(200, 2).drop(index=[50, 120])  # two gaps: no regular frequency to infer exactly
    path = write_csv(frame)
    assert main(["datasets", "show", path, "--seq-len", "24", "--label-len", "12", "--pred-len", "6"]) == 0
    err = capsys.readouterr().err
    assert "pass --freq to override" in err and "`" not in err
