"""The data figures: the sliding window, a forecast, training curves; shapes checked, PNGs rendered."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from informer.data.splits import Borders
from informer.plots import forecast_figure, training_figure, window_figure
from informer.report import png_bytes

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def rendered(figure: Figure) -> np.ndarray:
    """The figure as a PNG, decoded: (height, width, channels)."""
    from PIL import Image

    image = png_bytes(figure)
    assert image.startswith(PNG_SIGNATURE)
    return np.asarray(Image.open(io.BytesIO(image)))


def series(n=120):
    dates = pd.date_range("2021-01-01", periods=n, freq="h")
    return dates, np.sin(np.arange(n) / 5.0) * 3 + 10


def test_window_figure_marks_the_spans_of_one_window():
    dates, values = series()
    borders = Borders(train=(0, 80), val=(56, 100), test=(76, 120))
    figure = window_figure(dates, values, borders=borders, encoder=slice(80, 104), target=slice(92, 110), column="a")
    overview, zoom = figure.axes
    texts = " ".join(t.get_text() for t in zoom.texts)
    assert "seq_len = 24" in texts and "label_len = 12" in texts and "pred_len = 6" in texts
    assert [t.get_text() for t in overview.get_legend().get_texts()][:3] == ["train: rows 0..79", "val: rows 56..99",
                                                                          "test: rows 76..119"]
    assert rendered(figure).shape[0] > 100


@pytest.mark.parametrize("encoder, target", [(slice(80, 104), slice(92, 130)), (slice(80, 104), slice(70, 110)),
                                             (slice(80, 104), slice(92, 104))])
def test_window_figure_refuses_slices_that_are_no_window(encoder, target):
    dates, values = series()
    borders = Borders(train=(0, 80), val=(56, 100), test=(76, 120))
    with pytest.raises(ValueError, match="expected encoder rows"):
        window_figure(dates, values, borders=borders, encoder=encoder, target=target, column="a")
    with pytest.raises(ValueError, match=r"expected values of shape \(120,\)"):
        window_figure(dates, values[:, None], borders=borders, encoder=slice(0, 24), target=slice(12, 30), column="a")


def test_forecast_figure_has_a_panel_per_column_and_draws_the_values_given():
    dates = pd.date_range("2021-01-01", periods=18, freq="h")
    truth = np.stack([np.arange(18.0), -np.arange(18.0)], axis=1)  # (T, K)
    forecast = truth[12:] + 1.0  # (pred_len, K)
    figure = forecast_figure(dates, truth, forecast, columns=("a", "b"), label_len=12)
    assert len(figure.axes) == 2
    for index, panel in enumerate(figure.axes):
        truth_line, forecast_line = [line for line in panel.get_lines() if line.get_label() in ("truth", "forecast")]
        assert np.array_equal(truth_line.get_ydata(), truth[:, index])
        assert np.array_equal(forecast_line.get_xdata(), np.arange(12, 18))
        assert np.array_equal(forecast_line.get_ydata(), forecast[:, index])
        assert "mean absolute error 1 " in panel.get_title(loc="left")
    rendered(figure)
    with pytest.raises(ValueError, match="expected truth"):
        forecast_figure(dates, truth, forecast[:, :1], columns=("a", "b"), label_len=12)


def test_training_figure_reads_history_rows_as_written_and_refuses_none():
    history = [{"epoch": "1", "train_loss": "0.9", "val_loss": "1.0", "test_loss": "", "lr": "0.001"},
               {"epoch": "2", "train_loss": "0.7", "val_loss": "0.8", "test_loss": "", "lr": "0.0005"}]
    figure = training_figure(history, best_epoch=2)
    losses = figure.axes[0]
    labels = [line.get_label() for line in losses.get_lines()]
    assert labels[:2] == ["train", "validation"] and "test" not in labels  # a blank column is not drawn
    assert np.allclose(losses.get_lines()[0].get_ydata(), [0.9, 0.7])
    rendered(figure)
    with pytest.raises(ValueError, match="no epochs"):
        training_figure([])
