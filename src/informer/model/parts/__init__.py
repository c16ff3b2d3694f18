"""The modern options, each a part composed around a forecaster (:mod:`informer.model.compose`).

A part owns both of its steps: :meth:`encode` changes the :class:`~informer.batches.Batch` on the
way in and returns a state; :meth:`decode` takes the forecast of the model inside it on the way
out, with that state, and returns the forecast in the units the part was given. A part never
looks at another part: what one tells the ones inside it travels in named batch fields
(``loc`` and ``scale`` say how ``x_enc`` relates to the data's units; ``phase_enc`` and
``phase_dec`` carry each step's position in the cycle).

The parts nest in one fixed order, outermost first (each is optional)::

    Cycle                    the learned cycle, in the data's units        (CycleNet)
      InstanceNorm           RevIN's per-window normalisation, or the last value  (RevIN / NLinear)
        Cycle                the learned cycle, in the window's normalised units (cycle_norm)
          Affine             RevIN's learned per-channel scale and shift   (RevIN)
            LinearSkip       a DLinear forecast added to the output        (DLinear; gate: ReZero)
              ChannelIndependence   each channel its own sample          (PatchTST)
                Patches      P steps make one token                        (PatchTST)
                  forecaster Informer, or DLinear

Each part also says what the model inside it sees (:meth:`inner_sizes`: channels and lengths),
and which of its parameters are the linear kind that ``train.linear_lr`` trains
(:meth:`linear_parameters`).
Shapes follow the legend of :mod:`informer.model` (B batch, L steps, C channels, F time features).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import Tensor, nn

if TYPE_CHECKING:
    from informer.batches import Batch


@dataclass(frozen=True)
class Sizes:
    """The channels and lengths a model is built for."""

    enc_in: int
    dec_in: int
    c_out: int
    seq_len: int
    label_len: int
    pred_len: int

    def replace(self, **changes: int) -> "Sizes":
        return replace(self, **changes)


class Part(Protocol):
    def linear_parameters(self) -> list[nn.Parameter]: ...

    def inner_sizes(self, sizes: Sizes) -> Sizes: ...

    def encode(self, batch: Batch) -> tuple[Batch, Any]: ...

    def decode(self, out: Tensor, state: Any) -> Tensor: ...


def with_known(x_dec: Tensor, label_len: int, known: Tensor) -> Tensor:
    """``x_dec`` (B, label_len + pred_len, C) with its first ``label_len`` steps replaced by
    ``known`` (B, label_len, C); the placeholders behind stay as they are (zeros)."""
    return torch.cat([known, x_dec[:, label_len:]], dim=1)
