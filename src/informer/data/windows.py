"""Sliding windows over one split, and the decoder input built from a target window.

Window ``i`` of a split with rows ``[0, n)`` (relative to the split start):

* encoder input ``x``: rows ``[i, i + seq_len)``;
* target ``y``: rows ``[i + seq_len - label_len, i + seq_len + pred_len)``: the last
  ``label_len`` input rows (the decoder's known start) followed by the ``pred_len`` rows to
  predict;
* ``x_mark`` and ``y_mark``: the time features of the same rows;
* with cycle positions, ``x_phase`` and ``y_phase``: each of those rows' position in the cycle.

There are ``n - seq_len - pred_len + 1`` windows. Items are slices (views) of one tensor per
split, never copies of the whole array.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


class WindowDataset(Dataset):
    """All windows of one split.

    Args:
        values: (N, C) scaled values of the split, target last.
        marks: (N, F) time features of the same rows.
        seq_len, label_len, pred_len: window lengths (label_len <= seq_len).
        phase: (N,) each row's position in a cycle (a model with a learned cycle), or None.

    Each item is ``(x (seq_len, C), y (label_len + pred_len, C), x_mark (seq_len, F),
    y_mark (label_len + pred_len, F))``, float32 tensors, followed with ``phase`` by
    ``(x_phase (seq_len,), y_phase (label_len + pred_len,))``, int64.
    """

    def __init__(
        self,
        values: np.ndarray | torch.Tensor,
        marks: np.ndarray | torch.Tensor,
        *,
        seq_len: int,
        label_len: int,
        pred_len: int,
        phase: np.ndarray | torch.Tensor | None = None,
    ) -> None:
        values = torch.as_tensor(values, dtype=torch.float32)
        marks = torch.as_tensor(marks, dtype=torch.float32)
        if values.ndim != 2 or marks.ndim != 2 or values.shape[0] != marks.shape[0]:
            raise ValueError(
                f"expected values (N, C) and marks (N, F) with the same N, got "
                f"{tuple(values.shape)} and {tuple(marks.shape)}"
            )
        if min(seq_len, label_len, pred_len) <= 0 or label_len > seq_len:
            raise ValueError(f"need 0 < label_len <= seq_len and pred_len > 0, got {seq_len}/{label_len}/{pred_len}")
        if phase is not None:
            phase = torch.as_tensor(phase, dtype=torch.int64)
            if phase.shape != (values.shape[0],):
                raise ValueError(f"expected phase (N,) = ({values.shape[0]},), got {tuple(phase.shape)}")
        self.values = values
        self.marks = marks
        self.phase = phase
        self.seq_len = seq_len
        self.label_len = label_len
        self.pred_len = pred_len

    def __len__(self) -> int:
        return max(0, self.values.shape[0] - self.seq_len - self.pred_len + 1)

    def bounds(self, index: int) -> tuple[slice, slice]:
        """Row slices of the encoder input and of the target window ``index``."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"window {index} out of range for {len(self)} windows")
        index %= len(self)
        encoder_end = index + self.seq_len
        return slice(index, encoder_end), slice(encoder_end - self.label_len, encoder_end + self.pred_len)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        encoder, target = self.bounds(index)
        window = (self.values[encoder], self.values[target], self.marks[encoder], self.marks[target])
        if self.phase is None:
            return window
        return (*window, self.phase[encoder], self.phase[target])


def window_shapes(batch_size: int, *, seq_len: int, label_len: int, pred_len: int, enc_in: int, dec_in: int,
                  marks: int) -> dict[str, tuple[int, ...]]:
    """The shapes of a model's four inputs for a batch of windows (``marks``: time-feature columns)."""
    decoder_len = label_len + pred_len
    return {
        "x_enc": (batch_size, seq_len, enc_in),
        "x_mark_enc": (batch_size, seq_len, marks),
        "x_dec": (batch_size, decoder_len, dec_in),
        "x_mark_dec": (batch_size, decoder_len, marks),
    }


def decoder_input(known: torch.Tensor, *, pred_len: int) -> torch.Tensor:
    """The decoder's input: the ``label_len`` known steps, then ``pred_len`` zeros.

    Args:
        known: (B, label_len, C) the known start (the first ``label_len`` rows of a target window).

    Returns:
        (B, label_len + pred_len, C): the known start followed by zero placeholders.

    Raises:
        ValueError: if ``known`` is not (B, label_len, C) or ``pred_len`` is not positive.
    """
    if known.ndim != 3 or pred_len <= 0:
        raise ValueError(f"expected known steps of shape (B, label_len, C) and pred_len > 0, got "
                         f"{tuple(known.shape)} and {pred_len}")
    return torch.cat([known, known.new_zeros(known.shape[0], pred_len, known.shape[2])], dim=1)
