"""Embeddings: circular value convolution, sinusoid tables, time features."""

from __future__ import annotations

import math

import pytest
import torch

from informer.data.timefeatures import TIMEF_FEATURES, timef_width
from informer.model.embedding import DataEmbedding, ValueEmbedding, sinusoid_table


def test_value_embedding_is_a_circular_convolution_over_three_steps():
    torch.manual_seed(0)
    embedding = ValueEmbedding(c_in=3, d_model=5)
    x = torch.randn(2, 7, 3)
    weight, bias = embedding.conv.weight, embedding.conv.bias  # (D, C, 3), (D,)
    expected = torch.empty(2, 7, 5)
    for t in range(7):
        window = [x[:, (t - 1) % 7], x[:, t], x[:, (t + 1) % 7]]  # wraps around the window
        expected[:, t] = bias + sum(window[j] @ weight[:, :, j].T for j in range(3))
    torch.testing.assert_close(embedding(x), expected)


def test_value_embedding_uses_kaiming_normal_fan_in_leaky_relu():
    torch.manual_seed(0)
    weight = ValueEmbedding(c_in=7, d_model=512).conv.weight
    fan_in = 7 * 3
    expected_std = math.sqrt(2.0 / fan_in)
    # leaky_relu with the default slope argument 0 has gain sqrt(2); PyTorch's default Conv1d
    # init would give std 1 / sqrt(3 * fan_in), about 0.13 here instead of 0.31.
    assert weight.std().item() == pytest.approx(expected_std, rel=0.05)
    assert weight.mean().item() == pytest.approx(0.0, abs=0.02)


def test_sinusoid_table_follows_the_transformer_formula():
    table = sinusoid_table(100, 16)
    for position in (0, 1, 7, 99):
        for i in range(8):
            angle = position / 10000 ** (2 * i / 16)
            assert table[position, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-5)
            assert table[position, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-5)


def test_position_embedding_restarts_at_zero_and_is_not_a_parameter():
    embedding = DataEmbedding(c_in=2, d_model=8, embed="timeF", freq="h")
    assert embedding.position(5).shape == (5, 8)
    torch.testing.assert_close(embedding.position(5), sinusoid_table(5, 8))
    names = {name for name, _ in embedding.named_parameters()}
    assert not any(name.startswith("position") for name in names)
    assert "position.table" not in embedding.state_dict()


@pytest.mark.parametrize("letter", sorted(TIMEF_FEATURES))
def test_timef_embedding_reads_as_many_columns_as_the_frequency_has_features(letter):
    embedding = DataEmbedding(c_in=2, d_model=8, embed="timeF", freq=letter)
    assert embedding.n_features == timef_width(letter)
    out = embedding(torch.randn(3, 6, 2), torch.rand(3, 6, timef_width(letter)) - 0.5)
    assert out.shape == (3, 6, 8)


def calendar(length, minute_values):
    month = torch.full((1, length, 1), 3.0)
    day = torch.arange(1, length + 1, dtype=torch.float32).view(1, length, 1)
    weekday = torch.full((1, length, 1), 2.0)
    hour = torch.arange(length, dtype=torch.float32).view(1, length, 1) % 24
    minute = torch.tensor(minute_values, dtype=torch.float32).view(1, length, 1)
    return torch.cat([month, day, weekday, hour, minute], dim=-1)


@pytest.mark.parametrize("embed", ["fixed", "learned"])
def test_calendar_embeddings_read_the_minute_column_only_for_minute_data(embed):
    x = torch.randn(1, 4, 2)
    marks = calendar(4, [0, 1, 2, 3])
    other_minutes = calendar(4, [3, 3, 0, 1])
    torch.manual_seed(0)
    hourly = DataEmbedding(c_in=2, d_model=8, embed=embed, freq="h")
    torch.testing.assert_close(hourly(x, marks), hourly(x, other_minutes))
    torch.testing.assert_close(hourly(x, marks), hourly(x, marks[:, :, :4]))  # published hourly: 4 columns
    torch.manual_seed(0)
    minutely = DataEmbedding(c_in=2, d_model=8, embed=embed, freq="t")
    assert not torch.allclose(minutely(x, marks), minutely(x, other_minutes))


def test_fixed_calendar_tables_are_frozen_sinusoids_and_learned_ones_train():
    fixed = DataEmbedding(c_in=2, d_model=8, embed="fixed", freq="t")
    assert not any(name.startswith("temporal") for name, _ in fixed.named_parameters())
    for field, rows in (("month", 13), ("day", 32), ("weekday", 7), ("hour", 24), ("minute", 4)):
        torch.testing.assert_close(getattr(fixed.temporal, field).table, sinusoid_table(rows, 8))
    learned = DataEmbedding(c_in=2, d_model=8, embed="learned", freq="h")
    shapes = {name: tuple(p.shape) for name, p in learned.named_parameters() if name.startswith("temporal")}
    assert shapes == {
        "temporal.month.weight": (13, 8),
        "temporal.day.weight": (32, 8),
        "temporal.weekday.weight": (7, 8),
        "temporal.hour.weight": (24, 8),
    }


def test_fixed_calendar_embedding_sums_one_table_row_per_field():
    embedding = DataEmbedding(c_in=1, d_model=8, embed="fixed", freq="h")
    marks = calendar(3, [0, 0, 0])
    out = embedding.temporal(marks)
    for t in range(3):
        month, day, weekday, hour = (int(v) for v in marks[0, t, :4])
        expected = (
            sinusoid_table(13, 8)[month]
            + sinusoid_table(32, 8)[day]
            + sinusoid_table(7, 8)[weekday]
            + sinusoid_table(24, 8)[hour]
        )
        torch.testing.assert_close(out[0, t], expected)


def test_embedding_dropout_applies_in_training_only():
    embedding = DataEmbedding(c_in=2, d_model=64, embed="timeF", freq="h", dropout=0.5)
    x, marks = torch.randn(2, 10, 2), torch.rand(2, 10, 4) - 0.5
    embedding.eval()
    evaluated = embedding(x, marks)
    embedding.train()
    trained = embedding(x, marks)
    zeros = (trained == 0).float().mean().item()
    assert 0.3 < zeros < 0.7
    kept = trained != 0
    torch.testing.assert_close(trained[kept], 2 * evaluated[kept])
