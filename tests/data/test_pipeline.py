import hashlib

import numpy as np
import pytest

from helpers import synthetic_frame
from informer.config import DataConfig
from informer.data.bundled import BUNDLED
from informer.data.pipeline import prepare

# sha256 of the published files, from the READMEs that came with them
SHA256 = {
    "ETTh1": "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
    "ETTh2": "a3dc2c597b9218c7ce1cd55eb77b283fd459a1d09d753063f944967dd6b9218b",
    "ETTm1": "6ce1759b1a18e3328421d5d75fadcb316c449fcd7cec32820c8dafda71986c9e",
    "ETTm2": "db973ca252c6410a30d0469b13d696cf919648d0f3fd588c60f03fdbdbadd1fd",
    "WTH": "153fead3ea2a83dc5c4127d3994af6b167322f6f5e292c99491f43a2caf14cd4",
    "weather": "34ee981d07313e51da2a50bb600072c8ae4a69cb4b0651f4cb93a069d7a2ba63",
}


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_files_are_byte_identical_and_attributed(name):
    dataset = BUNDLED[name]
    assert hashlib.sha256(dataset.path.read_bytes()).hexdigest() == SHA256[name]
    assert (dataset.path.parent / "README.md").is_file()
    if name.startswith("ETT"):
        assert (dataset.path.parent / "LICENSE").is_file()


def test_etth1_window_counts_match_the_paper():
    data = prepare(DataConfig(data="ETTh1", seq_len=96, label_len=48, pred_len=24))
    assert data.window_counts() == {"train": 8521, "val": 2857, "test": 2857}
    assert data.series.columns[-1] == "OT" and data.scaled.shape == (17420, 7)
    assert data.marks.shape == (17420, 4)


def test_scaler_uses_train_rows_only(write_csv):
    frame = synthetic_frame(400, 2)
    frame.loc[300:, "b"] += 1000.0  # a shift after the train rows must not move the statistics
    data = prepare(DataConfig(data=write_csv(frame), seq_len=12, label_len=6, pred_len=6))
    train_end = data.borders.train[1]
    np.testing.assert_allclose(data.scaler.mean, frame[["a", "b"]].to_numpy()[:train_end].mean(axis=0))
    np.testing.assert_allclose(data.scaled[:train_end].mean(axis=0), 0, atol=1e-5)


def test_test_split_first_target_is_the_first_test_row(write_csv):
    frame = synthetic_frame(500, 2)
    data = prepare(DataConfig(data=write_csv(frame), seq_len=24, label_len=12, pred_len=6))
    test = data.dataset("test")
    _, y, _, _ = test[0]
    first_target_row = int(500 * 0.7) + (500 - int(500 * 0.7) - int(500 * 0.2))
    np.testing.assert_allclose(y[12].numpy(), data.scaled[first_target_row], rtol=1e-6)
    assert len(test) == data.window_counts()["test"]


def test_fixed_embedding_gets_calendar_fields(write_csv):
    data = prepare(DataConfig(data=write_csv(synthetic_frame(200, 2, freq="15min")), seq_len=8, label_len=4, pred_len=4),
                   embed="fixed")
    assert data.marks.shape == (200, 5) and data.marks[:, 4].max() == 3
