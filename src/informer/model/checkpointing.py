"""Activation checkpointing: keep a block's input, recompute its activations in backward.

For long inputs most of a training step's memory is activations saved for the backward pass
(at 720/336/720 and batch 32, about 4 GB in fp32, half of it in the decoder). A checkpointed
block saves only its input and runs its forward pass a second time during backward, so memory
holds one block's activations at a time, for about a third more compute.

The recomputation must see the same random numbers as the first pass: torch's global
generator (dropout) is replayed by ``torch.utils.checkpoint``; a ``torch.Generator`` passed
to the block (ProbSparse's sampled keys) is replayed here from a copy of its state. Results
and gradients are the same as without checkpointing.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor
from torch.utils.checkpoint import checkpoint


def checkpointed(block: Callable[..., Tensor], *inputs: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """``block(*inputs)``, or ``block(*inputs, generator=generator)`` when a generator is given,
    with its activations recomputed in backward.

    ``generator`` ends in the state the block leaves it in, as if it had run once.
    """
    if generator is None:
        return checkpoint(block, *inputs, use_reentrant=False)
    start = generator.get_state()
    after: list[Tensor] = []

    def replay(*tensors: Tensor) -> Tensor:
        local = torch.Generator(device=generator.device)
        local.set_state(start)
        out = block(*tensors, generator=local)
        if not after:  # the first pass; a recomputation must not move the caller's generator
            after.append(local.get_state())
        return out

    out = checkpoint(replay, *inputs, use_reentrant=False)
    generator.set_state(after[0])
    return out


def set_activation_checkpointing(model: torch.nn.Module, enabled: bool) -> None:
    """Switch checkpointing on or off in every layer of ``model`` that supports it.

    It takes effect in training mode with gradients enabled; evaluation is unaffected.
    """
    for module in model.modules():
        if hasattr(module, "checkpoint_activations"):
            module.checkpoint_activations = enabled
