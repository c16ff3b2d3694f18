"""The forecaster contract, for every model kind: train -> save -> load -> evaluate -> forecast.

One test body runs for each entry of ``MODEL_KINDS`` (a new kind is covered by adding it there),
plus oracles that do not go through the package: the repeat baseline's metrics computed by hand
from the CSV, and a run directory written by informer 0.1.0 before other model kinds existed.
"""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import informer
from helpers import synthetic_frame
from informer.batches import Batch, run_batch
from informer.config import DataConfig, ModelConfig, RunConfig, TrainConfig
from informer.model import Composed
from informer.model.forecaster import MODEL_KINDS, Forecaster, build_forecaster, rebuild_forecaster
from informer.run import load_run

FIXTURES = Path(__file__).parent / "fixtures"
TINY = dict(d_model=16, n_heads=2, e_layers=1, d_layers=1, d_ff=32, dropout=0.0, moving_avg=5)


def tiny_config(csv: str, kind: str, features: str = "M", **train) -> RunConfig:
    return RunConfig(
        data=DataConfig(data=csv, features=features, target="b", seq_len=24, label_len=12, pred_len=6),
        model=ModelConfig(kind=kind, **TINY),
        train=TrainConfig(**{"epochs": 2, "batch_size": 16, "lr": 1e-3, "device": "cpu", **train}),
    )


@pytest.fixture(scope="module")
def csv(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("contract") / "meters.csv"
    synthetic_frame(300, 3, freq="h").to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("features", ["M", "MS", "S"])
@pytest.mark.parametrize("kind", list(MODEL_KINDS))
def test_every_kind_meets_the_contract(kind, features):
    enc_in = 1 if features == "S" else 3
    c_out = 3 if features == "M" else 1
    model = build_forecaster(ModelConfig(kind=kind, **TINY), enc_in=enc_in, c_out=c_out, seq_len=24,
                             label_len=12, pred_len=6, freq="h")
    assert type(model) is MODEL_KINDS[kind]  # no option: the forecaster itself
    _meets_the_contract(model, kind, c_out)


def _meets_the_contract(model, kind: str, c_out: int, **phases: torch.Tensor) -> None:
    assert isinstance(model, Forecaster) and model.kind == kind
    assert model.pred_len == 6
    json.dumps(model.settings)  # JSON-ready
    shapes = model.input_shapes(2)
    batch = Batch(*(torch.randn(shapes[name]) for name in ("x_enc", "x_mark_enc", "x_dec", "x_mark_dec")), **phases)
    out = model(batch, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 6, c_out)
    again = rebuild_forecaster(kind, model.settings)
    assert type(again) is type(model) and again.settings == model.settings
    again.load_state_dict(model.state_dict())
    model.eval(), again.eval()
    assert torch.equal(again(batch, generator=torch.Generator().manual_seed(0)),
                       model(batch, generator=torch.Generator().manual_seed(0)))
    assert model.trainable == any(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("kind, options", [
    ("informer", dict(norm="revin", norm_affine=True, skip="raw", skip_gated=True, channel_independent=True,
                      patch_len=4, cycle=24, cycle_norm=True)),
    ("linear", dict(cycle=24)),
])
@pytest.mark.parametrize("features", ["M", "MS"])
def test_a_composed_model_meets_the_contract_of_its_kind(kind, options, features):
    """A forecaster with parts around it is still a forecaster of its kind, rebuilt from its settings."""
    c_out = 3 if features == "M" else 1
    model = build_forecaster(ModelConfig(kind=kind, **{**TINY, **options}), enc_in=3, c_out=c_out, seq_len=24,
                             label_len=12, pred_len=6, freq="h")
    assert isinstance(model, Composed)
    steps = torch.arange(2)[:, None] * 5 + torch.arange(30)  # each window at another position in the cycle
    _meets_the_contract(model, kind, c_out, phase_enc=steps[:, :24] % 24, phase_dec=steps[:, 12:] % 24)


@pytest.mark.parametrize("kind", list(MODEL_KINDS))
def test_train_save_load_evaluate_forecast(kind, csv, tmp_path):
    run = informer.train(tiny_config(csv, kind, features="MS"), out=tmp_path / "run")
    expected_epochs = 2 if MODEL_KINDS[kind].trainable else 0
    assert run.metrics["epochs"] == expected_epochs and len(run.history) == expected_epochs
    assert {"config.json", "model.safetensors", "scaler.json", "history.csv", "metrics.json"} <= {
        p.name for p in (tmp_path / "run").iterdir()}
    assert json.loads((tmp_path / "run" / "config.json").read_text())["config"]["model"]["kind"] == kind

    loaded = load_run(tmp_path / "run")
    assert type(loaded.model) is type(run.model) and loaded.model.settings == run.model.settings
    for name, value in run.model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], value)
    metrics = loaded.evaluate("test")
    for key in ("mse", "mae", "rmse"):
        assert metrics[key] == pytest.approx(run.metrics[key], rel=1e-6)
        assert metrics["original_units"][key] == pytest.approx(run.metrics["original_units"][key], rel=1e-6)
    frame = loaded.forecast()
    assert list(frame.columns) == ["date", "b"] and len(frame) == 6
    pd.testing.assert_frame_equal(frame, run.forecast())
    last = pd.read_csv(csv, parse_dates=["date"])["date"].iloc[-1]
    assert frame["date"].iloc[0] == last + pd.Timedelta(hours=1)


def test_repeat_metrics_equal_a_computation_by_hand(csv, tmp_path):
    """The repeat forecast is the last observed value, so its metrics follow from the CSV alone:
    70/10/20 split (test = the last int(0.2 n) rows, with seq_len rows of look-back before),
    z-scores from the train rows (population std), every test window once."""
    run = informer.train(tiny_config(csv, "repeat", features="M"), out=tmp_path / "repeat")
    frame = pd.read_csv(csv)
    values = frame[["a", "c", "b"]].to_numpy(np.float64)  # the target (b) is moved last
    n, seq_len, pred_len = len(values), 24, 6
    train_rows = values[: int(0.7 * n)]
    mean, std = train_rows.mean(axis=0), train_rows.std(axis=0)
    test = values[n - int(0.2 * n) - seq_len :]
    errors = []
    for start in range(len(test) - seq_len - pred_len + 1):
        last = test[start + seq_len - 1]
        truth = test[start + seq_len : start + seq_len + pred_len]
        errors.append(truth - last)
    errors = np.stack(errors)  # (windows, pred_len, C)
    by_hand_mse = float(np.mean(errors**2))
    by_hand_scaled_mse = float(np.mean((errors / std) ** 2))
    by_hand_mae = float(np.mean(np.abs(errors)))

    assert run.metrics["windows"]["test"] == len(errors)
    for metrics in (run.metrics, load_run(tmp_path / "repeat").evaluate("test")):
        assert metrics["original_units"]["mse"] == pytest.approx(by_hand_mse, rel=1e-5)
        assert metrics["original_units"]["mae"] == pytest.approx(by_hand_mae, rel=1e-5)
        assert metrics["mse"] == pytest.approx(by_hand_scaled_mse, rel=1e-5)


def test_kind_defaults_apply_under_explicit_settings():
    linear = RunConfig.from_dict({"model": {"kind": "linear"}})
    assert (linear.train.lr, linear.train.epochs) == (0.005, 10)
    assert RunConfig.from_dict({"model": {"kind": "linear"}, "train": {"lr": 0.01}}).train.lr == 0.01
    assert RunConfig.from_dict({}).train.lr == TrainConfig().lr


def test_a_run_directory_from_informer_0_1_0_still_loads(tmp_path):
    """Written by informer 0.1.0 (before model kinds): no kind in config.json, same digest."""
    shutil.copytree(FIXTURES / "run_v0_1", tmp_path / "run")
    run = load_run(tmp_path / "run")
    assert run.config.model.kind == "informer"
    series = str(FIXTURES / "run_v0_1_series.csv")
    expected = pd.read_csv(FIXTURES / "run_v0_1_forecast.csv", parse_dates=["date"])
    frame = run.forecast(series)
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False, rtol=1e-6)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert run.evaluate("test", data=series)["mse"] == pytest.approx(saved["mse"], rel=1e-6)


# The names a model goes by where it is called (``model(batch)``, ``self.model(...)``, a composed
# model's ``core(...)``, ``m.forward(...)``).
MODEL_NAMES = {"model", "forecaster", "core", "forward"}


def direct_model_calls(text: str) -> list[int]:
    """The lines of ``text`` that call a model: a call of something named as in :data:`MODEL_NAMES`,
    of a call's result (``unwrap(model)(batch)``), or any call handed a ``Batch(...)`` built in place."""
    lines = []
    for node in ast.walk(ast.parse(text)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        builds_a_batch = any(isinstance(arg, ast.Call) and isinstance(arg.func, (ast.Name, ast.Attribute))
                             and (getattr(arg.func, "id", None) or getattr(arg.func, "attr", None)) == "Batch"
                             for arg in node.args)
        if name in MODEL_NAMES or isinstance(func, ast.Call) or builds_a_batch:
            lines.append(node.lineno)
    return lines


def test_the_scan_for_model_calls_finds_them():
    calls = """
out = model(batch, generator=g)
out = self.model(inputs)
out = unwrap(run.model)(batch)
out = net(Batch(x, x_mark, x_dec, y_mark))
out = forecaster.forward(batch)
"""
    assert direct_model_calls(calls) == [2, 3, 4, 5, 6]
    assert direct_model_calls("model = build_forecaster(config)\nrun_batch(model, batch, features='M')\n") == []
    batches = Path(informer.__file__).parent / "batches.py"
    assert direct_model_calls(batches.read_text())  # run_batch itself


def test_run_batch_is_the_only_caller_of_models():
    """Outside the model package, nothing but informer.batches calls a forecaster directly."""
    source = Path(informer.__file__).parent
    callers = []
    for path in source.rglob("*.py"):
        relative = path.relative_to(source)
        if relative.as_posix() == "batches.py" or relative.parts[0] == "model":
            continue
        callers += [f"{relative.as_posix()}:{line}" for line in direct_model_calls(path.read_text())]
    assert callers == []


def test_run_batch_reads_only_the_known_decoder_steps():
    model = build_forecaster(ModelConfig(kind="informer", **TINY), enc_in=3, c_out=3, seq_len=24, label_len=12,
                             pred_len=6, freq="h").eval()
    shapes = model.input_shapes(2)
    x, x_mark, y_mark = torch.randn(shapes["x_enc"]), torch.randn(shapes["x_mark_enc"]), torch.randn(shapes["x_mark_dec"])
    y = torch.randn(2, 18, 3)
    garbage = y.clone()
    garbage[:, 12:] = float("nan")
    kwargs = dict(features="M", device=torch.device("cpu"))
    with torch.no_grad():
        full, truth = run_batch(model, (x, y, x_mark, y_mark), generator=torch.Generator().manual_seed(1), **kwargs)
        known, none = run_batch(model, (x, y[:, :12], x_mark, y_mark), generator=torch.Generator().manual_seed(1),
                                **kwargs)
        masked, _ = run_batch(model, (x, garbage, x_mark, y_mark), generator=torch.Generator().manual_seed(1),
                              **kwargs)
    assert torch.equal(full, known) and torch.equal(full, masked)
    assert torch.equal(truth, y[:, 12:]) and none is None


def test_the_tables_of_kinds_agree():
    from informer.config import MODEL_KINDS as CONFIG_KINDS
    from informer.config import TRAIN_DEFAULTS

    assert list(MODEL_KINDS) == list(CONFIG_KINDS) == list(TRAIN_DEFAULTS)
    for kind, cls in MODEL_KINDS.items():
        assert cls.kind == kind
        assert set(cls.config_fields) <= {f for f in ModelConfig.__dataclass_fields__} - {"kind"}


def test_settings_a_kind_does_not_read_are_reported(csv, tmp_path, caplog):
    config = tiny_config(csv, "linear", epochs=1)
    with caplog.at_level("WARNING", logger="informer"):
        informer.train(config)  # TINY sets d_model, n_heads... which DLinear does not read
    assert "the linear model does not read `d_model`, `n_heads`" in caplog.text
    with pytest.raises(informer.ConfigError, match="repetitions would be identical"):
        informer.train(tiny_config(csv, "repeat", itr=3), out=tmp_path / "never")
    assert not (tmp_path / "never").exists()
