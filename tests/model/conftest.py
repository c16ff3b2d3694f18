"""Tiny models and valid random inputs for the model tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from informer.model import Informer

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures"

TINY = dict(
    enc_in=3,
    dec_in=3,
    c_out=2,
    seq_len=24,
    label_len=12,
    pred_len=6,
    freq="h",
    d_model=16,
    n_heads=2,
    e_layers=2,
    d_layers=1,
    d_ff=32,
    factor=2,
    dropout=0.0,
)


def tiny_model(seed: int = 0, **overrides) -> Informer:
    torch.manual_seed(seed)
    return Informer(**{**TINY, **overrides})


def calendar_fields(batch: int, length: int, columns: int, generator: torch.Generator) -> torch.Tensor:
    """Valid calendar fields (month, day, weekday, hour, minute // 15) as float32 integers."""
    upper = ((1, 13), (1, 32), (0, 7), (0, 24), (0, 4))[:columns]
    fields = [torch.randint(low, high, (batch, length, 1), generator=generator) for low, high in upper]
    return torch.cat(fields, dim=-1).float()


def random_inputs(model: nn.Module, batch: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Inputs of the shapes the model describes, ``(x_enc, x_mark_enc, x_dec, x_mark_dec)``:
    values N(0, 1), valid time features. A model takes them as ``model(Batch(*inputs))``."""
    generator = torch.Generator().manual_seed(seed)
    shapes = model.input_shapes(batch)
    calendar = model.settings.get("embed", "timeF") != "timeF"
    inputs = []
    for name in ("x_enc", "x_mark_enc", "x_dec", "x_mark_dec"):
        shape = shapes[name]
        if name.startswith("x_mark") and calendar:
            inputs.append(calendar_fields(*shape, generator))
        elif name.startswith("x_mark"):
            inputs.append(torch.rand(shape, generator=generator) - 0.5)
        else:
            inputs.append(torch.randn(shape, generator=generator))
    return tuple(inputs)


@pytest.fixture
def fixture_path() -> Path:
    path = FIXTURES / "published_informer_full_timeF.npz"
    if not path.exists():
        pytest.skip(f"published reference outputs not found at {path} (expected in ../shared/fixtures)")
    return path


@pytest.fixture
def make_model():
    """``make_model(seed=0, **overrides)``: a tiny seeded Informer (d_model 16, 2 heads, 24 steps)."""
    return tiny_model


@pytest.fixture
def make_inputs():
    """``make_inputs(model, batch, seed=0)``: random inputs of the shapes the model describes."""
    return random_inputs


@pytest.fixture(autouse=True)
def one_thread():
    """Run on one thread: the models here are tiny, and on a shared 2-core machine a second
    thread per process makes concurrent test runs oversubscribe the cores and crawl."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
