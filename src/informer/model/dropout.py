"""Dropout with a faster mask on the CPU.

``torch.nn.functional.dropout`` draws one Bernoulli sample per element; on the CPU that is the
slowest operation of an Informer training step after the matrix products (about 12% of a
default step). Here the CPU mask comes from 64-bit random integers cut into four 15-bit
numbers each, a quarter of the draws; an element is kept when its number is at least
``round(p * 32768)``. The kept values are scaled by ``32768 / (32768 - threshold)``, so the
expectation is exact; the dropout probability is ``p`` rounded to a multiple of 1/32768 (0.05
becomes 0.049988). Other devices use ``torch.nn.functional.dropout`` unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_LEVELS = 1 << 15


def dropout(x: Tensor, p: float, *, training: bool = True, generator: torch.Generator | None = None) -> Tensor:
    """Zero each element of ``x`` with probability ``p`` and scale the rest; any shape."""
    if not training or p == 0.0:
        return x
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if x.device.type != "cpu":
        if generator is None:
            return F.dropout(x, p, training=True)
        keep = torch.empty_like(x).bernoulli_(1.0 - p, generator=generator)
        return x * keep / (1.0 - p)
    count = x.numel()
    words = torch.empty((count + 3) // 4, dtype=torch.int64).random_(generator=generator)  # [0, 2**63)
    numbers = words.view(torch.int16)[:count].view(x.shape) & (_LEVELS - 1)  # uniform on [0, 32768)
    threshold = round(p * _LEVELS)
    return torch.where(numbers >= threshold, x * (_LEVELS / (_LEVELS - threshold)), x.new_zeros(()))


class Dropout(nn.Module):
    """:func:`dropout` as a module (a drop-in for ``torch.nn.Dropout``)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return dropout(x, self.p, training=self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
