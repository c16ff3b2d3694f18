import numpy as np
import pytest

from informer.data.scaling import Scaler, fit_scaler, inverse_scale, scale
from informer.errors import DataError


def test_round_trip_is_exact_to_float64():
    rng = np.random.default_rng(1)
    values = rng.normal(5, 3, size=(200, 4)) * [1, 10, 1000, 0.01]
    scaler = fit_scaler(values[:100], ["a", "b", "c", "d"])
    np.testing.assert_allclose(inverse_scale(scale(values, scaler), scaler), values, rtol=1e-12, atol=1e-12)


def test_statistics_come_from_the_given_rows_with_population_std():
    values = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 40.0], [100.0, -7.0]])
    scaler = fit_scaler(values[:3], ["a", "b"])
    np.testing.assert_allclose(scaler.mean, [3.0, 20.0])
    np.testing.assert_allclose(scaler.std, [np.sqrt(8 / 3), np.sqrt(200.0)])  # ddof=0
    scaled = scale(values[:3], scaler)
    np.testing.assert_allclose(scaled.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(axis=0), 1)


def test_constant_column_maps_to_zero_without_nan():
    values = np.column_stack([np.full(10, 0.1), np.arange(10.0)])
    scaler = fit_scaler(values, ["flat", "ramp"])
    scaled = scale(values, scaler)
    assert np.isfinite(scaled).all()
    np.testing.assert_allclose(scaled[:, 0], 0.0, atol=1e-15)
    np.testing.assert_allclose(inverse_scale(scaled, scaler), values)


def test_overflowing_values_are_refused():
    values = np.array([[1e308], [-1e308], [1e308]])
    with pytest.raises(DataError, match="too large"):
        fit_scaler(values, ["huge"])


def test_select_and_serialise():
    scaler = fit_scaler(np.arange(12.0).reshape(4, 3) ** 2, ["a", "b", "c"])
    target = scaler.select(["c"])
    assert target.columns == ("c",) and target.mean[0] == scaler.mean[2]
    again = Scaler.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(again.mean, scaler.mean)
    np.testing.assert_array_equal(again.std, scaler.std)
    with pytest.raises(ValueError):
        Scaler.from_dict({"columns": ["a"], "mean": [0.0, 1.0], "std": [1.0]})
