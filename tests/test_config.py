"""Configuration: validation with fixing hints, per-kind training defaults, TOML, --set overrides."""

from __future__ import annotations

import json

import pytest

from informer.config import (
    MODEL_KINDS,
    TRAIN_DEFAULTS,
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    apply_overrides,
    load_toml,
    replace,
)
from informer.errors import ConfigError, InformerError

# ---------------------------------------------------------------- sections


@pytest.mark.parametrize("kind", ["informer", "linear", "repeat"])
def test_every_model_kind_is_accepted(kind):
    assert ModelConfig(kind=kind).kind == kind
    assert kind in MODEL_KINDS and kind in TRAIN_DEFAULTS


@pytest.mark.parametrize("kind", ["transformer", "Linear", "", "dlinear"])
def test_an_unknown_model_kind_lists_the_kinds(kind):
    with pytest.raises(ConfigError, match="model.kind must be one of informer, linear, repeat"):
        ModelConfig(kind=kind)


@pytest.mark.parametrize("moving_avg", [0, -3, 2.5, True])
def test_moving_avg_must_be_a_positive_integer(moving_avg):
    with pytest.raises(ConfigError, match="model.moving_avg"):
        ModelConfig(kind="linear", moving_avg=moving_avg)


def test_moving_avg_of_one_is_allowed():
    assert ModelConfig(kind="linear", moving_avg=1).moving_avg == 1


@pytest.mark.parametrize("section, values, match", [
    (TrainConfig, {"epochs": "ten"}, "train.epochs must be int, got 'ten'"),
    (TrainConfig, {"epochs": True}, "train.epochs must be int"),
    (TrainConfig, {"amp": 1}, "train.amp must be str"),
    (TrainConfig, {"amp": "half"}, "train.amp must be one of off, auto, on, bf16, fp16"),
    (ModelConfig, {"d_model": 16.0}, "model.d_model must be int"),
    (ModelConfig, {"kind": 3}, "model.kind must be str"),
    (DataConfig, {"cols": "a,b"}, "data.cols must be a list"),
    (DataConfig, {"data": None}, "data.data must be set"),
    (ModelConfig, {"d_model": 10, "n_heads": 3}, "divisible by model.n_heads"),
    (ModelConfig, {"dropout": 1.0}, r"model.dropout must be in \[0, 1\)"),
    (TrainConfig, {"lr": 0}, "train.lr must be a positive number"),
    (TrainConfig, {"lradj": "cosine"}, "train.lradj must be one of type1, type2, constant"),
])  # fmt: skip
def test_type_and_range_errors_name_the_field(section, values, match):
    with pytest.raises(ConfigError, match=match):
        section(**values)


def test_an_int_is_a_float_where_a_float_is_expected():
    config = TrainConfig(lr=1)
    assert config.lr == 1.0 and isinstance(config.lr, float)


def test_label_len_may_not_exceed_seq_len():
    assert DataConfig(seq_len=24, label_len=24).label_len == 24
    with pytest.raises(ConfigError, match=r"data.label_len \(25\) must not exceed data.seq_len \(24\)"):
        DataConfig(seq_len=24, label_len=25)


def test_config_errors_are_value_errors():
    with pytest.raises(ValueError):
        ModelConfig(kind="nope")
    assert issubclass(ConfigError, InformerError)


# ---------------------------------------------------------------- RunConfig


def test_linear_gets_its_published_training_defaults():
    config = RunConfig.from_dict({"model": {"kind": "linear"}})
    assert (config.train.epochs, config.train.lr) == (10, 0.005)
    assert config.train.batch_size == TrainConfig().batch_size  # the rest stays


def test_a_payloads_train_values_override_the_kind_defaults():
    config = RunConfig.from_dict({"model": {"kind": "linear"}, "train": {"lr": 0.01, "patience": 5}})
    assert (config.train.epochs, config.train.lr, config.train.patience) == (10, 0.01, 5)
    config = RunConfig.from_dict({"model": {"kind": "linear"}, "train": {"epochs": 6}})
    assert (config.train.epochs, config.train.lr) == (6, 0.005)


@pytest.mark.parametrize("payload", [{}, {"model": {"kind": "informer"}}, {"model": {"kind": "repeat"}}])
def test_informer_and_repeat_keep_the_train_config_defaults(payload):
    assert RunConfig.from_dict(payload).train == TrainConfig()


def test_for_model_builds_a_kind_with_its_defaults_and_the_data():
    data = DataConfig(data="series.csv", features="MS", cols=("a", "b"), seq_len=48, label_len=24, pred_len=12)
    config = RunConfig.for_model("linear", data=data, moving_avg=7, individual=True)
    assert config.data == data
    assert (config.model.kind, config.model.moving_avg, config.model.individual) == ("linear", 7, True)
    assert (config.train.epochs, config.train.lr) == (10, 0.005)
    informer = RunConfig.for_model("informer")
    assert informer.train == TrainConfig() and informer.data == DataConfig()
    with pytest.raises(ConfigError, match="model.kind must be one of"):
        RunConfig.for_model("lstm")
    with pytest.raises(ConfigError, match="did you mean 'moving_avg'"):
        RunConfig.for_model("linear", moving_avgs=7)


@pytest.mark.parametrize("payload, match", [
    ({"trian": {}}, "unknown section 'trian'; sections are data, model, train"),
    ({"train": {"lrr": 1e-3}}, "train: unknown key 'lrr' \\(did you mean 'lr'\\?\\)"),
    ({"model": {"dmodel": 8}}, "did you mean 'd_model'"),
    ({"data": {"zzz": 1}}, "unknown key 'zzz'; known keys: data, features"),
    ({"train": 5}, "section 'train' must be a table of keys"),
    ([("train", {})], "expected a table of sections"),
])  # fmt: skip
def test_structural_errors_name_the_source_and_the_fix(payload, match):
    with pytest.raises(ConfigError, match=match) as caught:
        RunConfig.from_dict(payload, source="my.toml")
    assert str(caught.value).startswith("my.toml: ")


@pytest.mark.parametrize("payload, match", [
    ({"train": {"epochs": "many"}}, "train.epochs must be int"),
    ({"data": {"seq_len": 8, "label_len": 9}}, "must not exceed data.seq_len"),
    ({"model": {"kind": "linear", "moving_avg": 0}}, "model.moving_avg must be a positive integer"),
])  # fmt: skip
def test_value_errors_name_the_section_and_field(payload, match):
    with pytest.raises(ConfigError, match=match):
        RunConfig.from_dict(payload, source="my.toml")


def test_to_dict_from_dict_round_trip():
    config = RunConfig(
        data=DataConfig(data="x.csv", features="MS", target="c", cols=("a", "c"), freq="15min", seq_len=32,
                        label_len=16, pred_len=8),
        model=ModelConfig(kind="linear", d_model=16, n_heads=2, s_layers=(2, 1), moving_avg=5),
        train=TrainConfig(epochs=6, lr=1e-4, batch_size=8, device="cpu"),  # not linear's defaults: kept
    )
    payload = config.to_dict()
    assert payload["data"]["cols"] == ["a", "c"] and payload["model"]["s_layers"] == [2, 1]
    assert RunConfig.from_dict(json.loads(json.dumps(payload))) == config
    assert RunConfig.from_dict(RunConfig().to_dict()) == RunConfig()


# ---------------------------------------------------------------- overrides and TOML


def test_overrides_are_parsed_as_toml_values_else_text():
    payload = {"train": {"epochs": 3}, "model": {"kind": "linear"}}
    result = apply_overrides(payload, ["train.lr=5e-5", "train.epochs = 4", "data.data=ETTh1", "model.distil=false",
                                       "data.cols=['a', 'b']", "data.target=\"OT\""])
    assert result["train"] == {"epochs": 4, "lr": 5e-5} and isinstance(result["train"]["lr"], float)
    assert result["data"] == {"data": "ETTh1", "cols": ["a", "b"], "target": "OT"}
    assert result["model"] == {"kind": "linear", "distil": False}
    assert payload == {"train": {"epochs": 3}, "model": {"kind": "linear"}}  # the input is not changed
    config = RunConfig.from_dict(result)
    assert (config.train.lr, config.train.epochs, config.data.cols) == (5e-5, 4, ("a", "b"))


def test_a_path_with_an_equals_sign_keeps_everything_after_the_first():
    assert apply_overrides({}, ["data.data=/tmp/a=b.csv"]) == {"data": {"data": "/tmp/a=b.csv"}}


@pytest.mark.parametrize("assignment, match", [
    ("lr=5e-5", "expected section.key=value"),
    ("train.lr", "expected section.key=value"),
    ("train.=3", "expected section.key=value"),
    ("optim.lr=1e-3", "unknown section 'optim'; sections are data, model, train"),
])  # fmt: skip
def test_malformed_overrides(assignment, match):
    with pytest.raises(ConfigError, match=match) as caught:
        apply_overrides({}, [assignment])
    assert str(caught.value).startswith(f"override {assignment!r}: ")  # the library names no flag


def test_top_level_keys_are_refused_with_a_section_hint():
    with pytest.raises(ConfigError, match=r"belongs in a section.*\[train\]"):
        apply_overrides({"epochs": 10}, [])


def test_load_toml(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text('[train]\nlr = 1e-3\nepochs = 2\n[model]\nkind = "linear"\n')
    payload = load_toml(path)
    assert payload == {"train": {"lr": 1e-3, "epochs": 2}, "model": {"kind": "linear"}}
    assert RunConfig.from_dict(payload).train.epochs == 2


def test_load_toml_errors_name_the_file(tmp_path):
    missing = tmp_path / "missing.toml"
    with pytest.raises(ConfigError, match="cannot read config file") as caught:
        load_toml(missing)
    assert str(missing) in str(caught.value)
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nlr = \n")
    with pytest.raises(ConfigError, match="invalid TOML") as caught:
        load_toml(bad)
    assert str(bad) in str(caught.value)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_toml(binary)


def test_replace_validates_again_and_refuses_unknown_fields():
    config = replace(TrainConfig(), lr=0.5, epochs=2)
    assert (config.lr, config.epochs) == (0.5, 2)
    with pytest.raises(ConfigError, match="TrainConfig has no field 'lrr'"):
        replace(TrainConfig(), lrr=0.5)
    with pytest.raises(ConfigError, match="train.epochs must be a positive integer"):
        replace(TrainConfig(), epochs=0)


def test_the_modern_preset_sits_under_explicit_settings():
    from informer.config import PRESETS

    modern = RunConfig.from_dict({"preset": "modern", "model": {"d_model": 32}, "train": {"epochs": 4}})
    assert modern.preset == "modern" and modern.model.d_model == 32 and modern.train.epochs == 4
    for section in ("model", "train"):
        for key, value in PRESETS["modern"][section].items():
            if key not in ("d_model", "epochs"):
                assert getattr(getattr(modern, section), key) == value, key
    again = RunConfig.from_dict(modern.to_dict())
    assert again == modern
    published = RunConfig()
    assert "preset" not in published.to_dict() and published.model.norm == "none"


def test_a_saved_config_is_read_as_written_not_filled_from_todays_preset():
    # a run directory of an older version: the modern preset then had no patches and no skip
    saved = RunConfig.from_dict({"preset": "modern"}).to_dict()
    for key in ("patch_len", "skip"):
        del saved["model"][key]
    old = RunConfig.from_dict(saved, saved=True)
    assert old.preset == "modern" and old.model.patch_len == 1 and old.model.skip == "none"
    assert old.model.norm == "revin"  # what it did record stays
    assert RunConfig.from_dict(saved) != old  # read as new settings, today's preset fills the gaps


def test_a_preset_is_for_informer_only_and_must_exist():
    with pytest.raises(ConfigError, match="modern preset is an Informer configuration"):
        RunConfig.from_dict({"preset": "modern", "model": {"kind": "linear"}})
    for wrong in ("fancy", ["modern"]):
        with pytest.raises(ConfigError, match="preset must be one of published, modern"):
            RunConfig.from_dict({"preset": wrong})
