"""evaluate_model against a NumPy computation by hand: the Repeat baseline on a known array."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from informer.data.scaling import Scaler
from informer.data.windows import WindowDataset
from informer.evaluation.evaluate import evaluate_model
from informer.model.baselines import Repeat

CPU = torch.device("cpu")
SEQ_LEN, LABEL_LEN, PRED_LEN = 5, 2, 3
N, COLUMNS = 17, ("a", "b", "c")  # 17 - 5 - 3 + 1 = 10 windows


@pytest.fixture(scope="module")
def values() -> np.ndarray:
    """(N, 3) scaled values, float32 as the dataset holds them."""
    return np.random.default_rng(5).normal(size=(N, 3)).astype(np.float32)


@pytest.fixture(scope="module")
def scaler() -> Scaler:
    return Scaler(COLUMNS, mean=np.array([10.0, -3.0, 100.0]), std=np.array([2.0, 0.5, 40.0]))


def dataset(values: np.ndarray) -> WindowDataset:
    return WindowDataset(values, np.zeros((len(values), 4), np.float32), seq_len=SEQ_LEN, label_len=LABEL_LEN,
                         pred_len=PRED_LEN)


def by_hand(values: np.ndarray, columns: slice, mean: np.ndarray, std: np.ndarray) -> tuple[dict, dict]:
    """Every window: the forecast is the last encoder row, the truth the next PRED_LEN rows."""
    v = values.astype(np.float64)[:, columns]
    windows = N - SEQ_LEN - PRED_LEN + 1
    pred = np.stack([np.repeat(v[i + SEQ_LEN - 1][None], PRED_LEN, axis=0) for i in range(windows)])
    true = np.stack([v[i + SEQ_LEN : i + SEQ_LEN + PRED_LEN] for i in range(windows)])  # (W, pred_len, c)

    def scores(p, t):
        error = p - t
        return {"mse": np.mean(error**2), "mae": np.mean(np.abs(error)), "rmse": np.sqrt(np.mean(error**2)),
                "mape": np.mean(np.abs(error / t))}

    return scores(pred, true), scores(pred * std + mean, true * std + mean)


def evaluate(values, scaler, *, features="M", batch_size=4):
    c_out = 3 if features == "M" else 1
    model = Repeat(enc_in=3, c_out=c_out, seq_len=SEQ_LEN, pred_len=PRED_LEN, label_len=LABEL_LEN)
    return evaluate_model(model, dataset(values), features=features, scaler=scaler, batch_size=batch_size,
                          device=CPU, seed=0)


def assert_metrics(got: dict, want: dict) -> None:
    for name, value in want.items():
        assert got[name] == pytest.approx(value, rel=1e-9), name


def test_scaled_and_original_metrics_equal_a_computation_by_hand(values, scaler):
    got = evaluate(values, scaler)
    scaled, original = by_hand(values, slice(0, None), scaler.mean, scaler.std)
    assert_metrics(got, scaled)
    assert_metrics(got["original_units"], original)
    assert got["windows"] == len(dataset(values)) == 10
    # inverse scaling matters: with these stds the two differ by a lot
    assert got["original_units"]["mse"] > 10 * got["mse"]


@pytest.mark.parametrize("batch_size", [1, 3, 10, 64])
def test_every_window_counts_once_whatever_the_batch_size(values, scaler, batch_size):
    got = evaluate(values, scaler, batch_size=batch_size)
    reference = evaluate(values, scaler, batch_size=len(dataset(values)))
    assert got["windows"] == 10
    for name in ("mse", "mae", "rmse", "mape"):
        assert got[name] == pytest.approx(reference[name], rel=1e-12)
        assert got["original_units"][name] == pytest.approx(reference["original_units"][name], rel=1e-12)
    assert got["relative_excluded"] == 0
    assert got["original_units"]["relative_excluded"] == 0


def test_ms_scores_only_the_target_column(values, scaler):
    target = scaler.select(["c"])
    got = evaluate(values, target, features="MS")
    scaled, original = by_hand(values, slice(-1, None), target.mean, target.std)
    assert_metrics(got, scaled)
    assert_metrics(got["original_units"], original)
    assert got["windows"] == 10
    every_column, _ = by_hand(values, slice(0, None), scaler.mean, scaler.std)
    assert got["mse"] != pytest.approx(every_column["mse"])


def test_a_perfect_forecast_scores_zero(scaler):
    constant = np.tile(np.array([[0.5, -1.0, 2.0]], np.float32), (N, 1))  # Repeat is exact on a flat series
    got = evaluate(constant, scaler)
    assert got["mse"] == got["mae"] == got["rmse"] == 0.0
    assert got["original_units"]["mse"] == 0.0


def test_evaluation_leaves_the_model_in_its_mode(values, scaler):
    model = Repeat(enc_in=3, c_out=3, seq_len=SEQ_LEN, pred_len=PRED_LEN, label_len=LABEL_LEN).train()
    evaluate_model(model, dataset(values), features="M", scaler=scaler, batch_size=4, device=CPU, seed=0)
    assert model.training
