"""Weights of the published implementation (zhouhaoyi/Informer2020) in this package's model.

Our modules have their own, more descriptive names (``feed_forward.expand`` for ``conv1``,
``distil_layers`` for ``conv_layers``, ...). :data:`RULES` maps every published state_dict
name to ours, both ways. Two kinds of published entries are not parameters here:

* the sinusoid tables (``position_embedding.pe`` and the ``fixed`` calendar tables), which we
  recompute instead of saving; on loading they are checked against ours, not copied;
* the feed-forward ``Conv1d(kernel_size=1)`` weights (out, in, 1), which are our
  ``nn.Linear`` weights (out, in) with a trailing axis.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from informer.model.informer import Informer

logger = logging.getLogger(__name__)

_PLACEHOLDERS = {
    "side": r"enc|dec",
    "encoder": r"encoder(?:\.encoders\.\d+)?",
    "i": r"\d+",
    "proj": r"query|key|value|out",
    "field": r"month|day|weekday|hour|minute",
    "kind": r"self|cross",
    "p": r"weight|bias",
    "bn": r"weight|bias|running_mean|running_var|num_batches_tracked",
}


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{\w+\})", template)
    pattern = "".join(
        f"(?P<{part[1:-1]}>{_PLACEHOLDERS[part[1:-1]]})" if part.startswith("{") else re.escape(part)
        for part in parts
    )
    return re.compile(pattern)


@dataclass(frozen=True)
class Rule:
    """One published name pattern and ours.

    ``layout``: ``"same"``; ``"conv1x1"`` (published (out, in, 1), ours (out, in)); or
    ``"batched"`` (published (1, N, D), ours (N, D)). ``recomputed``: a fixed table we do not
    save (a non-persistent buffer), checked rather than loaded.
    """

    published: str
    ours: str
    layout: str = "same"
    recomputed: bool = False

    def to_ours(self, tensor: Tensor) -> Tensor:
        if self.layout == "conv1x1":
            return tensor.squeeze(-1)
        if self.layout == "batched":
            return tensor.squeeze(0)
        return tensor

    def to_published(self, tensor: Tensor) -> Tensor:
        if self.layout == "conv1x1":
            return tensor.unsqueeze(-1)
        if self.layout == "batched":
            return tensor.unsqueeze(0)
        return tensor


RULES = (
    Rule("{side}_embedding.value_embedding.tokenConv.{p}", "{side}_embedding.value.conv.{p}"),
    Rule("{side}_embedding.position_embedding.pe", "{side}_embedding.position.table", "batched", True),
    Rule("{side}_embedding.temporal_embedding.embed.{p}", "{side}_embedding.temporal.linear.{p}"),
    Rule(
        "{side}_embedding.temporal_embedding.{field}_embed.emb.weight",
        "{side}_embedding.temporal.{field}.table",
        recomputed=True,
    ),
    Rule("{side}_embedding.temporal_embedding.{field}_embed.weight", "{side}_embedding.temporal.{field}.weight"),
    Rule(
        "{encoder}.attn_layers.{i}.attention.{proj}_projection.{p}",
        "{encoder}.layers.{i}.attention.{proj}_projection.{p}",
    ),
    Rule("{encoder}.attn_layers.{i}.conv1.weight", "{encoder}.layers.{i}.feed_forward.expand.weight", "conv1x1"),
    Rule("{encoder}.attn_layers.{i}.conv1.bias", "{encoder}.layers.{i}.feed_forward.expand.bias"),
    Rule("{encoder}.attn_layers.{i}.conv2.weight", "{encoder}.layers.{i}.feed_forward.contract.weight", "conv1x1"),
    Rule("{encoder}.attn_layers.{i}.conv2.bias", "{encoder}.layers.{i}.feed_forward.contract.bias"),
    Rule("{encoder}.attn_layers.{i}.norm1.{p}", "{encoder}.layers.{i}.attention_norm.{p}"),
    Rule("{encoder}.attn_layers.{i}.norm2.{p}", "{encoder}.layers.{i}.feed_forward_norm.{p}"),
    Rule("{encoder}.conv_layers.{i}.downConv.{p}", "{encoder}.distil_layers.{i}.conv.{p}"),
    Rule("{encoder}.conv_layers.{i}.norm.{bn}", "{encoder}.distil_layers.{i}.norm.{bn}"),
    Rule("{encoder}.norm.{p}", "{encoder}.norm.{p}"),
    Rule(
        "decoder.layers.{i}.{kind}_attention.{proj}_projection.{p}",
        "decoder.layers.{i}.{kind}_attention.{proj}_projection.{p}",
    ),
    Rule("decoder.layers.{i}.conv1.weight", "decoder.layers.{i}.feed_forward.expand.weight", "conv1x1"),
    Rule("decoder.layers.{i}.conv1.bias", "decoder.layers.{i}.feed_forward.expand.bias"),
    Rule("decoder.layers.{i}.conv2.weight", "decoder.layers.{i}.feed_forward.contract.weight", "conv1x1"),
    Rule("decoder.layers.{i}.conv2.bias", "decoder.layers.{i}.feed_forward.contract.bias"),
    Rule("decoder.layers.{i}.norm1.{p}", "decoder.layers.{i}.self_attention_norm.{p}"),
    Rule("decoder.layers.{i}.norm2.{p}", "decoder.layers.{i}.cross_attention_norm.{p}"),
    Rule("decoder.layers.{i}.norm3.{p}", "decoder.layers.{i}.feed_forward_norm.{p}"),
    Rule("decoder.norm.{p}", "decoder.norm.{p}"),
    Rule("projection.{p}", "projection.{p}"),
)

_PUBLISHED_PATTERNS = tuple((rule, _compile(rule.published)) for rule in RULES)
_OUR_PATTERNS = tuple((rule, _compile(rule.ours)) for rule in RULES)


def published_to_ours(name: str) -> tuple[Rule, str]:
    """The rule and our name for a published state_dict name (``module.`` prefix allowed)."""
    name = name.removeprefix("module.")
    for rule, pattern in _PUBLISHED_PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            return rule, rule.ours.format(**match.groupdict())
    raise ValueError(f"unknown parameter {name!r} in the published state_dict (not an Informer weight)")


def ours_to_published(name: str) -> tuple[Rule, str]:
    """The rule and the published name for one of our parameter or buffer names."""
    for rule, pattern in _OUR_PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            return rule, rule.published.format(**match.groupdict())
    raise ValueError(f"{name!r} has no published counterpart")


# The published command line's defaults (main_informer.py), which produced the paper's tables.
PUBLISHED_DEFAULTS: dict[str, Any] = {
    "factor": 5,
    "d_model": 512,
    "n_heads": 8,
    "e_layers": 2,
    "d_layers": 1,
    "d_ff": 2048,
    "dropout": 0.05,
    "attn": "prob",
    "embed": "timeF",
    "freq": "h",
    "activation": "gelu",
    "distil": True,
    "mix": True,
    "stack": False,
}
_REQUIRED = ("enc_in", "dec_in", "c_out", "seq_len", "label_len", "pred_len")
_IGNORED = ("output_attention", "device")


def _our_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    settings = dict(settings)
    if "out_len" in settings:  # the published constructor's name for pred_len
        if "pred_len" in settings:
            raise ValueError("give pred_len or out_len (its published name), not both")
        settings["pred_len"] = settings.pop("out_len")
    for name in _IGNORED:
        value = settings.pop(name, None)
        if name == "output_attention" and value:
            logger.info("output_attention is ignored: read kept queries with Informer.kept_queries()")
    missing = [name for name in _REQUIRED if name not in settings]
    if missing:
        raise ValueError(f"from_published needs {', '.join(missing)} (the published model's sizes)")
    known = set(_REQUIRED) | set(PUBLISHED_DEFAULTS)
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"unknown published setting {unknown[0]!r}; known: {', '.join(sorted(known))}")
    ours = {**PUBLISHED_DEFAULTS, **settings}
    depths = ours["e_layers"]
    if isinstance(depths, (list, tuple)):
        if not ours["stack"]:
            raise ValueError(
                f"e_layers={list(depths)} is a list of depths, which is the published InformerStack: "
                "pass stack=True, or an integer e_layers for Informer"
            )
        ours["s_layers"] = tuple(depths)
        del ours["e_layers"]
    elif ours["stack"]:
        raise ValueError(
            f"stack=True needs e_layers as the list of encoder depths (e.g. [3, 2, 1]), got {depths!r}"
        )
    return ours


def from_published(state_dict: Mapping[str, Tensor], **settings: Any) -> Informer:
    """Build our model from the published code's settings and load its state_dict.

    Args:
        state_dict: a state_dict saved by the published ``Informer`` or ``InformerStack``
            (published parameter names; a ``module.`` prefix from DataParallel is dropped).
        **settings: the published constructor's arguments: ``enc_in, dec_in, c_out, seq_len,
            label_len, pred_len`` (or ``out_len``) are required; ``factor, d_model, n_heads,
            e_layers, d_layers, d_ff, dropout, attn, embed, freq, activation, distil, mix``
            default to the published command line's defaults (:data:`PUBLISHED_DEFAULTS`);
            ``stack=True`` with ``e_layers`` a list of depths builds InformerStack;
            ``output_attention`` and ``device`` are accepted and ignored.

    Returns:
        The model in eval mode; its forward takes a :class:`~informer.batches.Batch`.

    Raises:
        ValueError: for unknown settings or parameter names, a missing or mis-shaped weight,
            or a fixed table that differs from ours (the settings do not match the weights).
    """
    model = Informer(**_our_settings(settings))
    buffers = dict(model.named_buffers())
    loaded: dict[str, Tensor] = {}
    checked: set[str] = set()
    for name, tensor in state_dict.items():
        rule, ours = published_to_ours(name)
        value = rule.to_ours(torch.as_tensor(tensor))
        if not rule.recomputed:
            loaded[ours] = value
            continue
        if ours not in buffers:
            raise ValueError(f"published table {name!r} has no counterpart here: check embed and freq")
        expected = buffers[ours]
        if value.shape != expected.shape or not torch.allclose(value.to(expected.dtype), expected, atol=1e-6):
            raise ValueError(f"published table {name!r} differs from ours {tuple(expected.shape)}: check d_model")
        checked.add(ours)
    recomputed = {name for name in buffers if (rule := _rule_of(name)) is not None and rule.recomputed}
    unchecked = sorted(recomputed - checked)
    if unchecked:
        raise ValueError(f"the published state_dict lacks the table for {unchecked[0]!r}: check embed and freq")
    try:
        result = model.load_state_dict(loaded, strict=False)
    except RuntimeError as error:  # mis-shaped weights
        raise ValueError(f"the published weights do not fit these settings: {error}") from None
    if result.missing_keys or result.unexpected_keys:
        missing = ", ".join(ours_to_published(name)[1] for name in result.missing_keys[:3])
        unexpected = ", ".join(result.unexpected_keys[:3])
        raise ValueError(
            "the published weights do not fit these settings (check e_layers, d_layers, distil, "
            f"embed, freq, stack): missing {missing or 'none'}; unexpected {unexpected or 'none'}"
        )
    return model.eval()


def _rule_of(name: str) -> Rule | None:
    try:
        return ours_to_published(name)[0]
    except ValueError:
        return None


def to_published(model: Informer) -> dict[str, Tensor]:
    """Our model's weights under the published names and layouts, tables included.

    The result loads into the published implementation built with the same settings.
    """
    tensors = dict(model.state_dict())
    tensors.update(
        (name, buffer) for name, buffer in model.named_buffers() if _rule_of(name) is not None
    )
    published = {}
    for name, tensor in tensors.items():
        rule, published_name = ours_to_published(name)
        published[published_name] = rule.to_published(tensor.detach().clone())
    return published
