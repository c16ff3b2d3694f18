import pytest
import torch

from informer.model.dropout import Dropout, dropout


@pytest.mark.parametrize("p", [0.05, 0.1, 0.5])
def test_cpu_mask_drops_the_right_share_and_keeps_the_expectation(p):
    torch.manual_seed(0)
    x = torch.ones(200_000)
    y = dropout(x, p)
    dropped = (y == 0).float().mean().item()
    assert dropped == pytest.approx(p, abs=0.005)
    assert y.mean().item() == pytest.approx(1.0, abs=0.01)
    kept = y[y != 0]
    assert torch.allclose(kept, kept[0].expand_as(kept))  # one scale for every kept value


def test_identity_when_not_training_or_p_zero():
    x = torch.randn(4, 5)
    assert dropout(x, 0.3, training=False) is x
    assert dropout(x, 0.0) is x
    module = Dropout(0.3).eval()
    assert module(x) is x


def test_generator_makes_masks_repeatable_and_gradients_follow_the_mask():
    x = torch.randn(3, 7, 11, requires_grad=True)
    a = dropout(x, 0.2, generator=torch.Generator().manual_seed(5))
    b = dropout(x, 0.2, generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.shape == x.shape
    a.sum().backward()
    assert torch.equal(x.grad == 0, a == 0)


def test_odd_sizes_and_bf16():
    x = torch.randn(3, 5, dtype=torch.bfloat16)
    y = dropout(x, 0.5, generator=torch.Generator().manual_seed(1))
    assert y.dtype == torch.bfloat16 and y.shape == (3, 5)


def test_bad_probability():
    with pytest.raises(ValueError):
        Dropout(1.0)
