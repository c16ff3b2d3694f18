"""The shared CLI pieces: argument types, flag maps, published spellings, help, parser errors."""

import argparse
import dataclasses

import pytest

from informer.cli import build_parser, main
from informer.cli.common import (
    DATA_FLAGS,
    MODEL_FLAGS,
    SETTING_FLAGS,
    TRAIN_FLAGS,
    column_list,
    int_list,
    normalise_argv,
    positive_int,
    run_config,
)
from informer.config import (
    AMP_MODES,
    DECIMAL_MARKS,
    LAZY_DECODERS,
    SECTIONS,
    SKIP_SPELLINGS,
    SKIPS,
    TRAIN_DEFAULTS,
    ModelConfig,
    TrainConfig,
)
from informer.errors import ConfigError


def parse(argv):
    parser = build_parser()
    return parser.parse_args(normalise_argv(parser, argv))


def subparsers(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def leaf_commands(parser, path=()):
    """Every (sub)command's words and parser, e.g. (("datasets", "show"), parser)."""
    for name, sub in subparsers(parser).items():
        yield (*path, name), sub
        yield from leaf_commands(sub, (*path, name))


def test_argument_types():
    assert positive_int("3") == 3
    assert int_list("3,2,1") == (3, 2, 1)
    assert column_list(" a, b ,,c") == ("a", "b", "c")
    for bad in ("0", "-1", "x"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_int(bad)
    with pytest.raises(argparse.ArgumentTypeError, match="comma-separated"):
        int_list("3,x")
    with pytest.raises(argparse.ArgumentTypeError):
        column_list(" , ")


def test_every_flag_names_a_real_setting_and_every_setting_flag_exists():
    assert SETTING_FLAGS == {**DATA_FLAGS, **MODEL_FLAGS, **TRAIN_FLAGS}
    for dest, (section, key) in SETTING_FLAGS.items():
        assert dest == key and key in {f.name for f in dataclasses.fields(SECTIONS[section])}
    train = subparsers(build_parser())["train"]
    dests = {action.dest for action in train._actions}
    assert set(SETTING_FLAGS) <= dests
    # the model and training settings all have a flag (data has no flag for nothing but itself)
    for section in ("model", "train"):
        assert {f.name for f in dataclasses.fields(SECTIONS[section])} <= dests


def test_precedence_defaults_kind_config_flags_set(tmp_path):
    assert run_config(parse(["train"]), SETTING_FLAGS).train.epochs == 6
    linear = run_config(parse(["train", "--model", "linear"]), SETTING_FLAGS)
    assert (linear.model.kind, linear.train.epochs, linear.train.lr) == ("linear", *TRAIN_DEFAULTS["linear"].values())
    toml = tmp_path / "s.toml"
    toml.write_text("[train]\nepochs = 3\n[model]\nkind = 'linear'\n")
    assert run_config(parse(["train", "--config", str(toml)]), SETTING_FLAGS).train.epochs == 3
    flags = parse(["train", "--config", str(toml), "--epochs", "4"])
    assert run_config(flags, SETTING_FLAGS).train.epochs == 4
    flags = parse(["train", "--config", str(toml), "--epochs", "4", "--set", "train.epochs=5"])
    config = run_config(flags, SETTING_FLAGS)
    assert config.train.epochs == 5 and config.train.lr == 0.005  # the kind's lr, from the file's kind


def test_model_flags():
    config = run_config(parse(["train", "--model", "linear", "--moving-avg", "7", "--individual"]), SETTING_FLAGS)
    assert (config.model.kind, config.model.moving_avg, config.model.individual) == ("linear", 7, True)
    stack = run_config(parse(["train", "--model", "informerstack"]), SETTING_FLAGS).model
    assert (stack.kind, stack.stack) == ("informer", True)
    with pytest.raises(ConfigError, match="--no-stack"):
        run_config(parse(["train", "--model", "informerstack", "--no-stack"]), SETTING_FLAGS)
    assert parse(["bench", "forecast", "--model", "repeat"]).kind == "repeat"


@pytest.mark.parametrize("argv, skip, gated", [
    ([], "none", False),
    (["--skip", "raw"], "raw", False),
    (["--skip", "normalised", "--skip-gated"], "normalised", True),
    (["--skip", "raw", "--no-skip-gated"], "raw", False),
    # the one-word spellings of 0.5-0.7 are still read
    (["--skip", "linear"], "normalised", False),
    (["--skip", "gated"], "normalised", True),
    (["--skip", "linear-raw"], "raw", False),
    (["--skip", "gated-raw"], "raw", True),
])
def test_skip_flags(argv, skip, gated):
    model = run_config(parse(["train", *argv]), SETTING_FLAGS).model
    assert (model.skip, model.skip_gated) == (skip, gated)


def test_skip_help_lists_todays_choices_and_says_the_old_ones_are_read():
    text = " ".join(subparsers(build_parser())["train"].format_help().split())
    assert "--skip {none,raw,normalised}" in text and "--skip-gated, --no-skip-gated" in text
    assert "old spellings linear, gated, linear-raw, gated-raw are still read" in text
    with pytest.raises(ConfigError, match="skip_gated"):
        run_config(parse(["train", "--skip-gated"]), SETTING_FLAGS)  # gating what? no skip


def test_choices_and_defaults_come_from_the_configuration():
    actions = subparsers(build_parser())["train"]._option_string_actions
    assert tuple(actions["--amp"].choices) == AMP_MODES and tuple(actions["--lazy-decoder"].choices) == LAZY_DECODERS
    assert tuple(actions["--decimal"].choices) == DECIMAL_MARKS
    assert tuple(actions["--skip"].choices) == (*SKIPS, *SKIP_SPELLINGS)
    assert f"(default: {TrainConfig().amp})" in actions["--amp"].help
    assert f"linear: {TRAIN_DEFAULTS['linear']['lr']})" in actions["--lr"].help
    assert f"(default: {','.join(map(str, ModelConfig().s_layers))})" in actions["--s-layers"].help


@pytest.mark.parametrize("published,ours", [
    (["--seq_len", "96"], ["--seq-len", "96"]),
    (["--label_len=48"], ["--label-len", "48"]),
    (["--d_model", "64", "--n_heads", "4", "--e_layers", "3"],
     ["--d-model", "64", "--n-heads", "4", "--e-layers", "3"]),
    (["--learning_rate", "1e-3"], ["--lr", "1e-3"]),
    (["--learning_rate=1e-3"], ["--lr", "1e-3"]),
    (["--train_epochs", "2"], ["--epochs", "2"]),
    (["--batch_size", "8"], ["--batch-size", "8"]),
    (["--use_amp"], ["--amp"]),
    (["--no_distil", "--moving_avg", "5"], ["--no-distil", "--moving-avg", "5"]),
    (["--target", "my_col", "--date_col", "time_stamp"], ["--target", "my_col", "--date-col", "time_stamp"]),
])
def test_published_underscore_spellings_mean_the_same(published, ours):
    def values(argv):  # each parse builds its own parser objects
        return {k: v for k, v in vars(parse(["train", *argv])).items() if k != "command_parser"}

    assert values(published) == values(ours)


def test_normalising_touches_only_known_options_before_the_equals_sign():
    parser = build_parser()
    assert normalise_argv(parser, ["train", "--set", "train.batch_size=8", "--out", "--odd_name"]) == [
        "train", "--set", "train.batch_size=8", "--out", "--odd_name"]
    assert normalise_argv(parser, ["train", "--cols=a_b,c_d"]) == ["train", "--cols=a_b,c_d"]
    assert normalise_argv(parser, ["train", "--", "--seq_len"]) == ["train", "--", "--seq_len"]
    # evaluate has no --lr, so the published name is not turned into one
    assert normalise_argv(parser, ["evaluate", "run", "--learning_rate", "1"])[-2] == "--learning_rate"
    assert normalise_argv(parser, ["datasets", "show", "x.csv", "--seq_len", "9"])[-2] == "--seq-len"
    assert normalise_argv(parser, ["bench", "train", "--use_amp"])[-1] == "--amp"


def test_help_shows_only_the_dashed_spelling(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "--seq-len" in out and "--seq_len" not in out and "--learning_rate" not in out


@pytest.mark.parametrize("words,sub", list(leaf_commands(build_parser())), ids=lambda x: " ".join(x) if
                         isinstance(x, tuple) else "")
def test_every_subcommand_help_ends_with_its_own_examples(words, sub):
    text = sub.format_help()
    assert "\nexamples:\n" in text, words
    examples = [line.strip() for line in text.split("\nexamples:\n")[1].splitlines() if line.strip()]
    assert 2 <= len(examples) <= 4, examples
    command = "informer " + " ".join(words)
    if words == ("bench",):  # the group's examples are one of each kind
        assert all(line.startswith("informer bench ") for line in examples)
    else:
        assert all(line.startswith(command) for line in examples), examples
    assert text.rstrip().endswith(examples[-1])


def test_train_help_shows_the_model_kinds(capsys):
    text = subparsers(build_parser())["train"].format_help()
    assert "--model {informer,linear,repeat}" in text
    assert "--model linear" in text and "--model repeat" in text


@pytest.mark.parametrize("argv,words", [
    (["train", "--seq-len", "0"], "informer train: error: argument --seq-len"),
    (["train", "--model", "transformer"], "invalid choice"),
    (["train", "--seq_lenn", "3"], "unrecognized arguments: --seq_lenn"),
    (["nonsense"], "informer: error: argument COMMAND"),
])
def test_parser_errors_are_one_line_exit_2(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert words in err and err.count("\n") == 1 and "usage:" not in err and "--help)" in err
