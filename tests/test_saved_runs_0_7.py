"""Run directories written by 0.7 load, evaluate and forecast as they did under 0.7.

tests/fixtures/runs_0_7 holds four tiny runs trained by 0.7 (main d5d09a0) on a synthetic hourly
series (series.csv): the published preset, the modern preset (with 12-step patches), the modern
preset with RevIN's affine, the cycle inside RevIN and the gated raw skip (MS), and DLinear with a
learned cycle. expected.json holds what 0.7 computed from them: metrics, forecasts and state-dict
keys.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from informer.rundir import read_config
from informer.run import load_run

FIXTURES = Path(__file__).parent / "fixtures" / "runs_0_7"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text())
DATA = str(FIXTURES / "series.csv")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_run_of_0_7_evaluates_and_forecasts_as_it_did(name):
    expected = EXPECTED[name]
    run = load_run(FIXTURES / name)
    assert sorted(run.model.state_dict()) == expected["state_dict_keys"]
    for split in ("val", "test"):
        metrics = run.evaluate(split, data=DATA)
        for key in ("mse", "mae"):
            assert metrics[key] == pytest.approx(expected["evaluate"][split][key], rel=1e-6, abs=1e-8)
            assert metrics["original_units"][key] == pytest.approx(
                expected["evaluate"][split]["original_units"][key], rel=1e-6, abs=1e-8)
    frame = run.forecast(DATA)
    assert [str(d) for d in frame.iloc[:, 0]] == expected["forecast_dates"]
    np.testing.assert_allclose(frame.iloc[:, 1:].to_numpy(), np.array(expected["forecast"]), rtol=1e-5, atol=1e-5)
    earlier = run.forecast(DATA, at="2020-01-20 05:00")
    np.testing.assert_allclose(earlier.iloc[:, 1:].to_numpy(), np.array(expected["forecast_at"]), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_run_of_0_7_keeps_its_settings_and_their_checksum(name):
    info = read_config(FIXTURES / name)
    run = load_run(FIXTURES / name)
    assert run.model.settings == info.settings  # as saved, old spellings included
    with safe_open(str(FIXTURES / name / "model.safetensors"), framework="pt") as handle:
        assert handle.metadata()["settings_sha256"] == info.digest()


def test_a_run_of_0_7_saved_again_writes_the_same_state_dict_keys(tmp_path):
    run = load_run(FIXTURES / "variants-0.7")
    run.save(tmp_path / "again")
    with safe_open(str(tmp_path / "again" / "model.safetensors"), framework="pt") as handle:
        assert sorted(handle.keys()) == EXPECTED["variants-0.7"]["state_dict_keys"]
    assert "skip_gate" in EXPECTED["variants-0.7"]["state_dict_keys"]
