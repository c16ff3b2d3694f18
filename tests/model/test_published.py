"""Compatibility with the published implementation's weights and outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from informer.batches import Batch
from informer.model import Informer, from_published, to_published
from informer.model.embedding import sinusoid_table

# The fixture's model (see ../shared/fixtures/README.md).
FIXTURE_SETTINGS = dict(
    enc_in=7, dec_in=7, c_out=7, seq_len=96, label_len=48, pred_len=24, factor=5, d_model=32, n_heads=4,
    e_layers=2, d_layers=1, d_ff=64, dropout=0.0, attn="full", embed="timeF", freq="h", activation="gelu",
    distil=True, mix=True,
)


def load_fixture(path):
    arrays = np.load(path)
    state_dict = {name.removeprefix("param/"): torch.from_numpy(arrays[name]) for name in arrays.files if name.startswith("param/")}
    inputs = Batch(*(torch.from_numpy(arrays[name]) for name in ("x_enc", "x_mark_enc", "x_dec", "x_mark_dec")))
    return state_dict, inputs, torch.from_numpy(arrays["output"])


def test_published_weights_reproduce_the_published_output(fixture_path):
    state_dict, inputs, expected = load_fixture(fixture_path)
    model = from_published(state_dict, **FIXTURE_SETTINGS)
    assert not model.training
    with torch.no_grad():
        out = model(inputs)
    assert out.shape == (4, 24, 7)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)


def test_published_position_table_equals_ours(fixture_path):
    state_dict, _, _ = load_fixture(fixture_path)
    published = state_dict["enc_embedding.position_embedding.pe"]  # (1, 5000, 32)
    torch.testing.assert_close(published[0], sinusoid_table(5000, 32), atol=1e-6, rtol=0)


def test_our_weights_export_under_exactly_the_published_names(fixture_path):
    state_dict, _, _ = load_fixture(fixture_path)
    model = from_published(state_dict, **FIXTURE_SETTINGS)
    exported = to_published(model)
    assert set(exported) == set(state_dict)
    for name, tensor in state_dict.items():
        assert exported[name].shape == tensor.shape, name
        torch.testing.assert_close(exported[name], tensor, atol=0, rtol=0)


def test_a_data_parallel_prefix_and_output_attention_are_accepted(fixture_path):
    state_dict, inputs, expected = load_fixture(fixture_path)
    prefixed = {f"module.{name}": tensor for name, tensor in state_dict.items()}
    model = from_published(prefixed, output_attention=True, **FIXTURE_SETTINGS)
    with torch.no_grad():
        torch.testing.assert_close(model(inputs), expected, atol=1e-5, rtol=0)


SMALL = dict(enc_in=3, dec_in=3, c_out=2, seq_len=24, label_len=12, pred_len=6, d_model=16, n_heads=2, d_ff=32, factor=2, dropout=0.0)

# (our settings, the published settings, published names that only this configuration has).
OTHER_CONFIGS = {
    "fixed": (
        dict(embed="fixed"),
        dict(embed="fixed"),
        {"enc_embedding.temporal_embedding.hour_embed.emb.weight": (24, 16),
         "dec_embedding.temporal_embedding.month_embed.emb.weight": (13, 16)},
    ),
    "fixed-minutes": (
        dict(embed="fixed", freq="t"),
        dict(embed="fixed", freq="t"),
        {"enc_embedding.temporal_embedding.minute_embed.emb.weight": (4, 16)},
    ),
    "learned": (
        dict(embed="learned"),
        dict(embed="learned"),
        {"enc_embedding.temporal_embedding.day_embed.weight": (32, 16),
         "dec_embedding.temporal_embedding.weekday_embed.weight": (7, 16)},
    ),
    "mix-off-prob": (
        dict(mix=False, attn="prob"),
        dict(mix=False, attn="prob"),
        {"decoder.layers.0.self_attention.out_projection.weight": (16, 16)},
    ),
    "distil-off": (
        dict(distil=False, e_layers=3),
        dict(distil=False, e_layers=3),
        {"encoder.attn_layers.2.conv1.weight": (32, 16, 1)},
    ),
    "stack": (
        dict(stack=True, s_layers=(3, 2, 1)),
        dict(stack=True, e_layers=[3, 2, 1]),
        {"encoder.encoders.0.conv_layers.1.downConv.weight": (16, 16, 3),
         "encoder.encoders.1.conv_layers.0.norm.running_var": (16,),
         "encoder.encoders.2.attn_layers.0.conv2.weight": (16, 32, 1),
         "encoder.encoders.2.norm.bias": (16,)},
    ),
}


@pytest.mark.parametrize("name", OTHER_CONFIGS)
def test_other_published_configurations_load_and_run(name, make_inputs):
    ours, published_settings, distinctive = OTHER_CONFIGS[name]
    torch.manual_seed(0)
    original = Informer(**SMALL, **ours)
    with torch.no_grad():  # trained-looking BatchNorm statistics, so that loading them matters
        for module in original.modules():
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
    original.eval()
    published = to_published(original)
    for key, shape in distinctive.items():
        assert tuple(published[key].shape) == shape, key

    loaded = from_published(published, **SMALL, **published_settings)
    inputs = Batch(*make_inputs(loaded, 2))
    with torch.no_grad():
        expected = original(inputs, generator=torch.Generator().manual_seed(1))
        actual = loaded(inputs, generator=torch.Generator().manual_seed(1))
    assert actual.shape == (2, 6, 2)
    assert loaded.settings == original.settings
    torch.testing.assert_close(actual, expected, atol=0, rtol=0)


def test_unknown_parameter_names_are_rejected(fixture_path):
    state_dict, _, _ = load_fixture(fixture_path)
    state_dict["encoder.attn_layers.0.extra.weight"] = torch.zeros(1)
    with pytest.raises(ValueError, match="unknown parameter 'encoder.attn_layers.0.extra.weight'"):
        from_published(state_dict, **FIXTURE_SETTINGS)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(d_model=64), "do not fit|differs"),
        (dict(e_layers=3), "do not fit"),
        (dict(distil=False), "do not fit"),
        (dict(embed="fixed"), "lacks the table"),
        (dict(freq="t"), "do not fit"),
        (dict(e_layers=[2, 1]), "stack=True"),
        (dict(stack=True), "list of encoder depths"),
        (dict(batch_size=32), "unknown published setting 'batch_size'"),
    ],
)
def test_settings_that_do_not_match_the_weights_are_rejected(fixture_path, changes, message):
    state_dict, _, _ = load_fixture(fixture_path)
    with pytest.raises(ValueError, match=message):
        from_published(state_dict, **{**FIXTURE_SETTINGS, **changes})


def test_required_sizes_must_be_given():
    with pytest.raises(ValueError, match="needs enc_in"):
        from_published({}, dec_in=7, c_out=7, seq_len=96, label_len=48, pred_len=24)


def test_out_len_is_accepted_as_the_published_name_of_pred_len(fixture_path):
    state_dict, inputs, expected = load_fixture(fixture_path)
    settings = dict(FIXTURE_SETTINGS)
    settings["out_len"] = settings.pop("pred_len")
    with torch.no_grad():
        torch.testing.assert_close(from_published(state_dict, **settings)(inputs), expected, atol=1e-5, rtol=0)
