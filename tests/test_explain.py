"""informer explain: the trace is read from the real forward pass, and its numbers follow the paper."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch.utils.data import DataLoader

from informer.batches import eval_generator, run_batch
from informer.cli import main
from informer.config import DataConfig, ModelConfig
from informer.data.pipeline import prepare
from informer.explain import trace
from informer.model.forecaster import build_forecaster


@pytest.fixture(scope="module")
def etth1():
    return prepare(DataConfig(data="ETTh1"))


def model_and_batch(data, batch_size=32, **architecture):
    torch.manual_seed(0)
    model = build_forecaster(ModelConfig(**architecture), enc_in=7, c_out=7, seq_len=96, label_len=48, pred_len=24,
                             freq="h").eval()
    batch = next(iter(DataLoader(data.dataset("test"), batch_size=batch_size)))
    return model, batch


def by_name(stages, suffix):
    return [s for s in stages if s.name.endswith(suffix)]


def test_the_default_model_shows_the_published_shapes_and_counts(etth1):
    model, batch = model_and_batch(etth1)
    stages = trace(model, batch, features="M", keep_tensors=True)
    shapes = {s.shape for s in stages}
    for shape in [(32, 96, 512), (32, 8, 96, 64), (32, 8, 96, 25), (32, 8, 25, 96), (32, 48, 512), (32, 72, 512),
                  (32, 24, 7)]:
        assert shape in shapes
    encoder_kept = [s for s in by_name(stages, "kept queries") if s.name.startswith("encoder")]
    assert [s.facts["U"] for s in encoder_kept] == [25, 20]
    # the trace's tensors are the model's own
    out, _ = run_batch(model, batch, features="M", device=torch.device("cpu"), generator=eval_generator(
        torch.device("cpu"), 0))
    assert torch.equal(by_name(stages, "output")[-1].tensor, out)
    for stage, (name, kept) in zip(by_name(stages, "kept queries"), model.kept_queries().items()):
        assert torch.equal(stage.tensor, kept.float())
    decoder_input = by_name(stages, "decoder input")[0].tensor
    assert torch.equal(decoder_input[:, :48], batch[1][:, :48]) and not decoder_input[:, 48:].any()
    assert [s.name for s in stages][:2] == ["encoder input", "encoder time features"]


def check_counts(stages, factor):
    """S and U follow c * ceil(ln L) at every layer, and match the tensors' shapes."""
    for stage in by_name(stages, "sampled keys"):
        length = stage.facts["L"]
        assert stage.facts["S"] == min(factor * math.ceil(math.log(length)), length) == stage.shape[1]
    for stage in by_name(stages, "kept queries"):
        length = stage.facts["L"]
        assert stage.facts["U"] == min(factor * math.ceil(math.log(length)), length) == stage.shape[-1]
    assert by_name(stages, "kept queries")


def test_informer_stack_and_the_counts_at_every_layer(etth1):
    model, batch = model_and_batch(etth1, batch_size=4, d_model=32, n_heads=4, d_ff=32, stack=True,
                                   s_layers=(3, 2, 1), factor=3)
    stages = trace(model, batch, features="M", keep_tensors=True)
    check_counts(stages, 3)
    lengths = [s.facts["L"] for s in by_name(stages, "kept queries") if s.name.startswith("encoder")]
    assert lengths == [96, 48, 24, 48, 24, 24]  # encoder k reads the last 96 / 2**k steps, distilled in between
    stack = by_name(stages, "encoder stack output")[0]
    parts = [s for s in stages if s.name in ("encoder 1 output", "encoder 2 output", "encoder 3 output")]
    assert stack.shape == (4, 72, 32) and [p.shape[1] for p in parts] == [24, 24, 24]
    assert torch.equal(stack.tensor, torch.cat([p.tensor for p in parts], dim=1))


def test_full_attention_has_no_sampling_stages(etth1):
    model, batch = model_and_batch(etth1, batch_size=2, d_model=16, n_heads=2, d_ff=16, attn="full")
    stages = trace(model, batch, features="M")
    names = " ".join(s.name for s in stages)
    for sampling in ("sampled", "kept", "sparsity", "lazy"):
        assert sampling not in names
    assert (2, 2, 96, 96) in {s.shape for s in by_name(stages, "attention weights")}


def test_other_model_kinds_show_inputs_and_output(etth1):
    torch.manual_seed(0)
    model = build_forecaster(ModelConfig(kind="linear"), enc_in=7, c_out=7, seq_len=96, label_len=48, pred_len=24,
                             freq="h")
    batch = next(iter(DataLoader(etth1.dataset("test"), batch_size=2)))
    assert [s.name for s in trace(model, batch, features="M")] == ["encoder input", "decoder input", "output"]


def test_the_command_prints_json(capsys):
    code = main(["explain", "--data", "ETTh1", "--d-model", "16", "--n-heads", "2", "--d-ff", "16", "--batch-size",
                 "2", "--json"])
    stages = json.loads(capsys.readouterr().out)
    assert code == 0 and all({"name", "shape", "meaning"} <= set(s) for s in stages)
    assert stages[-1]["name"] == "output" and stages[-1]["shape"] == [2, 24, 7]


def test_a_composed_model_shows_each_part_on_the_way_in_and_out(etth1):
    data = prepare(DataConfig(data="ETTh1"), cycle=24)
    torch.manual_seed(0)
    model = build_forecaster(ModelConfig(d_model=16, n_heads=2, d_ff=16, norm="revin", norm_affine=True, cycle=24,
                                         skip="raw", skip_gated=True, channel_independent=True, patch_len=24),
                             enc_in=7, c_out=7, seq_len=96, label_len=48, pred_len=24, freq="h").eval()
    batch = next(iter(DataLoader(data.dataset("test"), batch_size=3)))
    stages = trace(model, batch, features="M", keep_tensors=True)
    names = [s.name for s in stages]
    parts_in = ["model input", "cycle removed", "normalised window", "RevIN affine", "linear skip forecast",
                "channels as samples", "patches"]
    parts_out = ["patches unrolled", "channels regrouped", "linear skip added", "RevIN affine undone",
                 "window's level restored", "cycle restored"]
    assert names[:len(parts_in)] == parts_in and names[-len(parts_out):] == parts_out
    shapes = {s.name: s.shape for s in stages}
    assert shapes["channels as samples"] == (21, 96, 1) and shapes["patches"] == (21, 4, 24)
    assert shapes["linear skip forecast"] == (3, 24, 7) and shapes["patches unrolled"] == (21, 24, 1)
    assert shapes["encoder input"] == (21, 4, 24)  # Informer sees tokens of 24 steps of one channel
    out, _ = run_batch(model, batch, features="M", device=torch.device("cpu"), generator=eval_generator(
        torch.device("cpu"), 0))
    assert torch.equal(stages[-1].tensor, out)  # the last part's output is the forecast
    # the window the parts were given is the batch's
    assert torch.equal(stages[0].tensor, batch[0])
    # the hooks are gone afterwards
    assert model.observer is None


def test_the_command_explains_the_modern_preset(capsys):
    code = main(["explain", "--data", "ETTh1", "--preset", "modern", "--d-model", "16", "--batch-size", "2"])
    text = capsys.readouterr().out
    assert code == 0
    for stage in ("cycle removed", "normalised window", "channels as samples", "patches", "linear skip added",
                  "window's level restored", "cycle restored"):
        assert stage in text
