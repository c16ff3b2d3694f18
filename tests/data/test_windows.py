import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from informer.data.windows import WindowDataset, decoder_input


@st.composite
def window_settings(draw):
    seq_len = draw(st.integers(1, 40))
    label_len = draw(st.integers(1, seq_len))
    pred_len = draw(st.integers(1, 30))
    n = draw(st.integers(seq_len + pred_len, seq_len + pred_len + 60))
    return n, seq_len, label_len, pred_len


def make(n, seq_len, label_len, pred_len, channels=2):
    # values encode their own row number, so slices can be checked exactly
    rows = np.arange(n, dtype=np.float32)[:, None]
    values = np.concatenate([rows, rows * 10][:channels], axis=1)
    marks = np.concatenate([rows, -rows], axis=1)
    return WindowDataset(values, marks, seq_len=seq_len, label_len=label_len, pred_len=pred_len)


@settings(max_examples=200, deadline=None)
@given(window_settings())
def test_window_arithmetic(params):
    n, seq_len, label_len, pred_len = params
    ds = make(*params)
    assert len(ds) == n - seq_len - pred_len + 1
    for i in {0, len(ds) // 2, len(ds) - 1}:
        x, y, x_mark, y_mark = ds[i]
        assert x.shape == (seq_len, 2) and y.shape == (label_len + pred_len, 2)
        assert x_mark.shape == (seq_len, 2) and y_mark.shape == (label_len + pred_len, 2)
        rows_x = x[:, 0].long().tolist()
        rows_y = y[:, 0].long().tolist()
        assert rows_x == list(range(i, i + seq_len))
        assert rows_y == list(range(i + seq_len - label_len, i + seq_len + pred_len))
        # every index in bounds, and the target overlaps the input by exactly label_len rows
        assert 0 <= rows_x[0] and rows_y[-1] < n
        assert len(set(rows_x) & set(rows_y)) == label_len
        assert torch.equal(x_mark[:, 0], x[:, 0]) and torch.equal(y_mark[:, 0], y[:, 0])
    # the last window ends exactly at the last row
    assert int(ds[len(ds) - 1][1][-1, 0]) == n - 1
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_items_are_views_not_copies():
    ds = make(50, 10, 5, 3)
    x, y, _, _ = ds[4]
    assert x.untyped_storage().data_ptr() == ds.values.untyped_storage().data_ptr()
    assert y.untyped_storage().data_ptr() == ds.values.untyped_storage().data_ptr()


def test_too_short_gives_no_windows():
    assert len(make(10, 8, 4, 5)) == 0


def test_decoder_input_keeps_label_rows_and_zeros_the_rest():
    y = torch.arange(2 * 7 * 3, dtype=torch.float32).reshape(2, 7, 3) + 1
    dec = decoder_input(y[:, :4], pred_len=3)
    assert dec.shape == (2, 7, 3)
    assert torch.equal(dec[:, :4], y[:, :4])
    assert torch.count_nonzero(dec[:, 4:]) == 0


def test_decoder_input_checks_shape():
    with pytest.raises(ValueError, match=r"\(B, label_len, C\)"):
        decoder_input(torch.zeros(6, 3), pred_len=3)
    with pytest.raises(ValueError, match="pred_len > 0"):
        decoder_input(torch.zeros(2, 4, 3), pred_len=0)


def test_every_window_reaches_the_loader_without_dropping():
    ds = make(100, 10, 5, 5)
    loader = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=False)
    assert sum(batch[0].shape[0] for batch in loader) == len(ds) == 86
