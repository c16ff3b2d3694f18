import math

import numpy as np
import pytest

from informer.evaluation.metrics import MetricAccumulator, metrics, summarise


def test_metrics_by_hand():
    pred = np.array([[1.0, 2.0], [3.0, 5.0]])
    true = np.array([[2.0, 2.0], [1.0, 4.0]])
    got = metrics(pred, true)
    assert got["mse"] == pytest.approx((1 + 0 + 4 + 1) / 4)
    assert got["mae"] == pytest.approx((1 + 0 + 2 + 1) / 4)
    assert got["rmse"] == pytest.approx(math.sqrt(6 / 4))
    assert got["mape"] == pytest.approx((0.5 + 0 + 2 + 0.25) / 4)
    assert got["mspe"] == pytest.approx((0.25 + 0 + 4 + 0.0625) / 4)


def test_streaming_equals_one_shot():
    rng = np.random.default_rng(3)
    pred, true = rng.normal(size=(2, 50, 7, 3))
    accumulator = MetricAccumulator()
    for start in range(0, 50, 16):  # uneven last batch
        accumulator.update(pred[start : start + 16], true[start : start + 16])
    streamed, whole = accumulator.result(), metrics(pred, true)
    for name in ("mse", "mae", "rmse", "mape", "mspe"):
        assert streamed[name] == pytest.approx(whole[name], rel=1e-12)


def test_zero_targets_are_left_out_of_relative_errors():
    got = metrics(np.array([1.0, 3.0]), np.array([0.0, 2.0]))
    assert got["mape"] == pytest.approx(0.5) and got["relative_excluded"] == 1
    assert math.isfinite(got["mspe"])


def test_shape_mismatch_and_empty():
    with pytest.raises(ValueError):
        metrics(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError):
        MetricAccumulator().result()


def test_summarise_mean_and_std():
    out = summarise([{"mse": 1.0, "mae": 2.0}, {"mse": 3.0, "mae": 2.0}])
    assert out["mean"] == {"mse": 2.0, "mae": 2.0}
    assert out["std"] == {"mse": 1.0, "mae": 0.0}
