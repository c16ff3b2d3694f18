"""The attention figures draw what the traced forward pass computed, and only where it applies."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex

from informer.config import ModelConfig
from informer.explain import trace
from informer.model.forecaster import build_forecaster
from informer.plots import attention_figure, has_stages, lengths_figure, sparsity_figure
from informer.plots.attention import KEPT
from informer.report import png_bytes

SIZES = dict(enc_in=3, c_out=3, seq_len=24, label_len=12, pred_len=6, freq="h")


def traced(keep_tensors=True, batch_size=1, **architecture):
    torch.manual_seed(0)
    config = ModelConfig(**{"d_model": 16, "n_heads": 2, "d_ff": 16, "dropout": 0.0, "factor": 2, **architecture})
    model = build_forecaster(config, **SIZES).eval()
    generator = torch.Generator().manual_seed(0)
    batch = (torch.randn(batch_size, 24, 3, generator=generator), torch.randn(batch_size, 18, 3, generator=generator),
             torch.randn(batch_size, 24, 4, generator=generator), torch.randn(batch_size, 18, 4, generator=generator))
    return trace(model, batch, features="M", keep_tensors=keep_tensors)


def stage(stages, name):
    return next(s for s in stages if s.name == name)


def test_sparsity_figure_marks_exactly_the_kept_queries():
    stages = traced(batch_size=2)
    figure = sparsity_figure(stages, item=1)
    places = ["encoder, layer 1, self-attention", "encoder, layer 2, self-attention",
              "decoder, layer 1, masked self-attention"]
    axes = np.array(figure.axes).reshape(len(places), 2)  # layers x heads
    for row, place in enumerate(places):
        measure = stage(stages, f"{place}: sparsity").tensor[1]  # (H, L_Q)
        kept = stage(stages, f"{place}: kept queries").tensor[1].long()  # (H, U)
        for head in range(2):
            bars = axes[row][head].patches
            marked = sorted(round(b.get_x() + b.get_width() / 2) for b in bars if to_hex(b.get_facecolor()) == KEPT)
            assert marked == sorted(kept[head].tolist())
            heights = {round(b.get_x() + b.get_width() / 2): b.get_height() for b in bars}
            assert all(math.isclose(heights[q], float(value), rel_tol=1e-6) for q, value in enumerate(measure[head]))
    assert png_bytes(figure).startswith(b"\x89PNG")


def test_attention_figure_shows_the_kept_queries_weights_in_position_order():
    stages = traced()
    figure = attention_figure(stages)
    panel = figure.axes[0]  # encoder layer 1, head 1
    weights = stage(stages, "encoder, layer 1, self-attention: kept queries' weights").tensor[0, 0]  # (U, L_K)
    kept = stage(stages, "encoder, layer 1, self-attention: kept queries").tensor[0, 0].long()  # (U,)
    order = torch.argsort(kept, stable=True)
    assert np.allclose(panel.get_images()[0].get_array(), weights[order].numpy())
    decoder = stage(stages, "decoder, layer 1, masked self-attention: kept queries' weights").tensor[0]
    assert decoder.shape[-1] == 18  # every decoder step is a key, later ones masked
    png_bytes(figure)


def test_lengths_figure_follows_the_real_shapes_through_distilling():
    figure = lengths_figure(traced(keep_tensors=False, e_layers=3))
    bars = [round(b.get_width()) for b in figure.axes[0].patches]
    labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
    assert labels[:3] == ["embedding", "encoder, layer 1: attention", "encoder, distilling 1: output"]
    assert bars == [24, 24, 12, 12, 6, 6, 6, 6]  # 24 -> 12 -> 6, the encoder output, the decoder's keys
    stacked = lengths_figure(traced(keep_tensors=False, stack=True, s_layers=(2, 1)))
    widths = {t.get_text(): round(b.get_width()) for t, b in zip(stacked.axes[0].get_yticklabels(),
                                                                  stacked.axes[0].patches)}
    assert widths["encoder 1 output"] == 12 and widths["encoder 2 output"] == 12
    assert widths["encoder stack output"] == 24


def test_full_attention_has_weights_but_no_kept_queries():
    stages = traced(attn="full")
    assert not has_stages(stages, "sparsity") and has_stages(stages, "attention") and has_stages(stages, "lengths")
    with pytest.raises(ValueError, match="no ProbSparse attention"):
        sparsity_figure(stages)
    figure = attention_figure(stages)
    weights = stage(stages, "encoder, layer 1, self-attention: attention weights").tensor[0, 0]  # (L_Q, L_K)
    assert np.allclose(figure.axes[0].get_images()[0].get_array(), weights.numpy())


@pytest.mark.parametrize("kind", ["linear", "repeat"])
def test_models_without_attention_have_none_of_these_figures(kind):
    extra = {"moving_avg": 5} if kind == "linear" else {}
    torch.manual_seed(0)
    model = build_forecaster(ModelConfig(kind=kind, **extra), **SIZES)
    batch = (torch.randn(1, 24, 3), torch.randn(1, 18, 3), torch.randn(1, 24, 4), torch.randn(1, 18, 4))
    stages = trace(model, batch, features="M", keep_tensors=True)
    assert not any(has_stages(stages, name) for name in ("sparsity", "attention", "lengths"))
    for draw in (sparsity_figure, attention_figure, lengths_figure):
        with pytest.raises(ValueError, match="without attention"):
            draw(stages)


def test_a_trace_without_tensors_says_how_to_get_them():
    with pytest.raises(ValueError, match="keep_tensors=True"):
        sparsity_figure(traced(keep_tensors=False))
    with pytest.raises(ValueError, match="unknown figure"):
        has_stages([], "heatmap")


def test_a_layer_with_one_query_keeps_none_and_its_panels_say_so(recwarn):
    # 12-step patches: the encoder's second layer sees one token, and c * ceil(ln 1) = 0 queries are kept
    stages = traced(patch_len=12)
    assert stage(stages, "encoder, layer 2, self-attention: kept queries").tensor.shape[-1] == 0
    figure = attention_figure(stages)
    texts = [t.get_text() for ax in figure.axes for t in ax.texts]
    assert texts.count("no kept query\n(one query only)") == 2  # one panel per head
    assert png_bytes(figure).startswith(b"\x89PNG")
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
    for make in (sparsity_figure, lengths_figure):  # the other figures of a trace draw too
        assert png_bytes(make(stages)).startswith(b"\x89PNG")
