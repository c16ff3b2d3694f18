"""informer bench train/forecast: the flags become the spec the child process builds its model from.

The benchmarks themselves run in tests/bench/test_bench.py; this checks only the CLI's part.
"""

from informer.cli import build_parser, main
from informer.cli.bench import _bench_spec
from informer.cli.common import normalise_argv


def spec(*argv):
    parser = build_parser()
    return _bench_spec(parser.parse_args(normalise_argv(parser, ["bench", *argv])))


def test_the_spec_carries_the_model_kind_and_its_settings():
    linear = spec("forecast", "--model", "linear", "--moving_avg", "5", "--individual", "--seq-len", "48")
    assert linear["model"]["kind"] == "linear" and linear["model"]["moving_avg"] == 5
    assert linear["model"]["individual"] is True and linear["data"]["seq_len"] == 48
    stacked = spec("train", "--model", "informerstack", "--use_amp", "--batch_size", "4")
    assert stacked["model"]["kind"] == "informer" and stacked["model"]["stack"] is True
    assert stacked["amp"] is True and stacked["batch_size"] == 4
    assert spec("forecast")["model"]["kind"] == "informer"


def test_the_repeat_baseline_has_no_training_step_to_time(capsys):
    assert main(["bench", "train", "--model", "repeat"]) == 2
    assert "bench forecast --model repeat" in capsys.readouterr().err
