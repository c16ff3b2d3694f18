"""What Informer computes, stage by stage, read from hooks on one real forward pass.

:func:`trace` runs one window batch through the model (the one batch-to-model path,
:func:`informer.batches.run_batch`) with forward hooks on its modules and an observer inside
each attention call, and returns every stage in the order it ran: its name, the shape of the
real tensor, and a one-line meaning, with the numbers that decide it (ProbSparse's
``S = c * ceil(ln L_K)`` sampled keys and ``U = c * ceil(ln L_Q)`` kept queries, the distilled
lengths). Nothing here is a hand-written table: a stage exists because the model computed it.

>>> stages = trace(model, batch, features="M")
>>> [(s.name, s.shape) for s in stages][:2]
[('encoder input', (32, 96, 7)), ('encoder time features', (32, 96, 4))]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from informer.batches import Windows, eval_generator, run_batch, unwrap
from informer.model.attention import AttentionLayer, FullAttention, ProbSparseAttention
from informer.model.compose import Composed
from informer.model.embedding import DataEmbedding
from informer.model.encoder import DistillingLayer, Encoder, EncoderLayer, EncoderStack


@dataclass
class Stage:
    """One step of the forward pass: a real tensor's shape and what it is."""

    name: str
    shape: tuple[int, ...]
    meaning: str
    module: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    tensor: Tensor | None = field(default=None, repr=False, compare=False)  # kept with keep_tensors

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "meaning": self.meaning, "module": self.module,
                **self.facts}


def _place(module_name: str) -> str:
    """``encoder.encoders.1.layers.0.attention`` -> ``encoder 2, layer 1``: where a module sits."""
    parts = []
    for kind, index in re.findall(r"(encoders|layers|distil_layers)\.(\d+)", module_name):
        label = {"encoders": "encoder", "layers": "layer", "distil_layers": "distilling"}[kind]
        parts.append(f"{label} {int(index) + 1}")
    side = "decoder" if module_name.startswith("decoder") else "encoder"
    if not parts or parts[0].startswith(("layer", "distilling")):
        parts.insert(0, side)
    return ", ".join(parts)


class _Recorder:
    """Hooks that append a :class:`Stage` per module call, in execution order."""

    def __init__(self, keep_tensors: bool) -> None:
        self.stages: list[Stage] = []
        self.keep_tensors = keep_tensors
        self.handles: list[torch.utils.hooks.RemovableHandle] = []
        self.observed: list[nn.Module] = []

    def add(self, name: str, tensor: Tensor, meaning: str, module: str = "", **facts: Any) -> None:
        kept = tensor.detach().float().cpu() if self.keep_tensors else None
        self.stages.append(Stage(name, tuple(tensor.shape), meaning, module, facts, kept))

    def on_output(self, module: nn.Module, describe: Callable[[Tensor], tuple[str, str]], name: str) -> None:
        def hook(_module, _inputs, output):
            title, meaning = describe(output)
            self.add(title, output, meaning, name)

        self.handles.append(module.register_forward_hook(hook))

    def on_input(self, module: nn.Module, describe: Callable[[tuple], list[tuple[str, Tensor, str]]],
                 name: str) -> None:
        def hook(_module, inputs):
            for title, tensor, meaning in describe(inputs):
                self.add(title, tensor, meaning, name)

        self.handles.append(module.register_forward_pre_hook(hook))

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        for module in self.observed:
            module.observer = None


def _embedding(recorder: _Recorder, name: str, module: DataEmbedding) -> None:
    side = "encoder" if name.startswith("enc") else "decoder"

    def inputs(args: tuple) -> list[tuple[str, Tensor, str]]:
        x, x_mark = args[0], args[1]
        if side == "encoder":
            return [("encoder input", x, "the look-back window: seq_len steps of every input column, scaled"),
                    ("encoder time features", x_mark, "calendar features of those steps")]
        return [("decoder input", x, "label_len known steps (the end of the encoder input), then pred_len zeros "
                                     "where the forecast goes"),
                ("decoder time features", x_mark, "calendar features of the known and the future steps")]

    recorder.on_input(module, inputs, name)
    recorder.on_output(module.value, lambda t: (f"{side} value embedding",
                                                "circular 1-D convolution (kernel 3) of the columns to d_model"),
                       f"{name}.value")
    recorder.on_output(module.position, lambda t: (f"{side} position embedding",
                                                   "fixed sinusoids of the position, shared by the batch"),
                       f"{name}.position")
    recorder.on_output(module.temporal, lambda t: (f"{side} time embedding",
                                                   "the time features mapped to d_model"), f"{name}.temporal")
    recorder.on_output(module, lambda t: (f"{side} embedding", "value + position + time embedding (then dropout)"),
                       name)


def _attention(recorder: _Recorder, name: str, module: AttentionLayer) -> None:
    place = _place(name)
    kind = {"self_attention": "masked self-attention", "cross_attention": "cross-attention"}.get(
        name.rsplit(".", 1)[-1], "self-attention")
    inner = module.inner_attention
    prob = isinstance(inner, ProbSparseAttention)
    label = f"{place}, {kind}"

    def inputs(args: tuple) -> list[tuple[str, Tensor, str]]:
        q, k, v = args[:3]
        heads, width = q.shape[1], q.shape[3]
        source = "the encoder output" if kind == "cross-attention" else "the same sequence"
        steps = ("one per step the layer keeps (the last layer keeps only the forecast's steps)"
                 if kind == "cross-attention" else "one per step")
        return [(f"{label}: queries", q, f"{heads} heads of width {width} (d_model / n_heads), {steps}"),
                (f"{label}: keys", k, f"from {source}"),
                (f"{label}: values", v, f"from {source}")]

    def observe(what: str, tensor: Tensor, facts: dict) -> None:
        if what == "sampled_keys":
            formula = facts["c"] * facts["ceil_ln_L"]
            count = f"{formula}" + (f", capped at L_K: {facts['S']}" if facts["S"] != formula else "")
            meaning = (f"S = c * ceil(ln L_K) = {facts['c']} * {facts['ceil_ln_L']} = {count} keys drawn "
                       f"at random for every query (L_K = {facts['L']})")
            recorder.add(f"{label}: sampled keys", tensor, meaning, name, **facts)
        elif what == "sampled_scores":
            recorder.add(f"{label}: sampled scores", tensor, "each query's dot products with its S sampled keys",
                         name)
        elif what == "sparsity":
            recorder.add(f"{label}: sparsity", tensor, "max minus mean of each query's sampled scores: how far "
                                                       "it is from attending uniformly", name)
        elif what == "kept_queries":
            formula = facts["c"] * facts["ceil_ln_L"]
            count = f"{formula}" + (f", capped at L_Q: {facts['U']}" if facts["U"] != formula else "")
            meaning = (f"U = c * ceil(ln L_Q) = {facts['c']} * {facts['ceil_ln_L']} = {count} most active "
                       f"queries (largest sparsity; L_Q = {facts['L']})")
            recorder.add(f"{label}: kept queries", tensor, meaning, name, **facts)
        elif what == "kept_scores":
            recorder.add(f"{label}: kept queries' scores", tensor,
                         "the U kept queries against every key" + (", later keys masked" if inner.causal else ""),
                         name)
        elif what == "kept_weights":
            recorder.add(f"{label}: kept queries' weights", tensor, "softmax of those scores", name)
        elif what == "lazy_context":
            fill = {"mean": "the mean of V over time", "cumsum": "the cumulative sum of V (published decoder)",
                    "cummean": "the cumulative mean of V"}[facts["fill"]]
            recorder.add(f"{label}: lazy fill", tensor, f"every other query gets {fill}; the kept ones are "
                                                        "scattered in", name, **facts)
        elif what == "weights":
            recorder.add(f"{label}: attention weights", tensor,
                         "full attention: every query against every key" + (", later keys masked"
                                                                            if inner.causal else ""), name)

    recorder.on_input(inner, inputs, f"{name}.inner_attention")
    inner.observer = observe
    recorder.observed.append(inner)
    recorder.on_output(inner, lambda t: (f"{label}: attended values", "per head: kept queries attend, lazy ones "
                                         "filled" if prob else "per head: weights times values"),
                       f"{name}.inner_attention")
    mixed = " (mix: read back in memory order, heads and steps interleaved)" if module.mix else ""
    recorder.on_output(module, lambda t: (f"{label}: output", f"heads joined and projected to d_model{mixed}"),
                       name)


def _distilling(recorder: _Recorder, name: str, module: DistillingLayer) -> None:
    place = _place(name)
    recorder.on_output(module.conv, lambda t: (f"{place}: convolution", "1-D convolution over time (kernel 3, "
                                                                         "circular), channels first"),
                       f"{name}.conv")
    recorder.on_output(module.activation, lambda t: (f"{place}: ELU", "batch norm, then ELU"), f"{name}.activation")
    recorder.on_output(module.pool, lambda t: (f"{place}: max-pool", "max-pool (kernel 3, stride 2): the length "
                                                                     "halves, rounding up"), f"{name}.pool")
    recorder.on_output(module, lambda t: (f"{place}: output", "back to (B, L, D), half as long"), name)


def _describe_part(part: nn.Module, step: str, value: Any, state: Any) -> list[tuple[str, Tensor, str]]:
    """The stages one part's step shows: its name, the tensor it produced, what it did."""
    kind = type(part).__name__
    if step == "encode":
        x = value.x_enc
        if kind == "Cycle":
            period = part.pattern.shape[0]
            return [("cycle removed", x, f"the learned cycle ({period} steps per channel) subtracted from the "
                                         "window and the known decoder steps, at each step's position (CycleNet)")]
        if kind == "InstanceNorm":
            how = "its last value subtracted (NLinear)" if part.last else "its own mean and std (RevIN)"
            return [("normalised window", x, f"each window's channels in units of {how}")]
        if kind == "Affine":
            return [("RevIN affine", x, "a learned scale and shift per channel")]
        if kind == "LinearSkip":
            reads = "in the data's units (raw)" if part.raw else "as it arrives here"
            return [("linear skip forecast", state, f"DLinear's forecast of the window read {reads}; added to "
                                                    "the output on the way back")]
        if kind == "ChannelIndependence":
            return [("channels as samples", x, "each channel of each window a sample of one channel")]
        if kind == "Patches":
            return [("patches", x, f"{part.patch_len} steps of all channels make one token")]
        return [(f"{kind} input", x, "")]
    if kind == "Cycle":
        return [("cycle restored", value, "the learned cycle added back at the forecast steps' positions")]
    if kind == "InstanceNorm":
        return [("window's level restored", value, "the forecast taken back to each window's level and scale")]
    if kind == "Affine":
        return [("RevIN affine undone", value, "the learned scale and shift removed")]
    if kind == "LinearSkip":
        gate = " (the network's part scaled by the learned gate)" if part.gate is not None else ""
        return [("linear skip added", value, f"the linear forecast added{gate}")]
    if kind == "ChannelIndependence":
        return [("channels regrouped", value, "the samples of one channel each back into windows of channels")]
    if kind == "Patches":
        return [("patches unrolled", value, "each token's forecast back into its steps (padding dropped)")]
    return [(f"{kind} output", value, "")]


def _parts(recorder: _Recorder, model: Composed) -> None:
    """Stages of a composed model's parts, from its observer, and the window it was given."""
    recorder.on_input(model, lambda args: [("model input", args[0].x_enc, "the look-back window, scaled, as "
                                                                         "the parts receive it")], "")

    def observe(name: str, step: str, value: Any, state: Any) -> None:
        for title, tensor, meaning in _describe_part(model.get_submodule(name), step, value, state):
            recorder.add(title, tensor, meaning, name)

    model.observer = observe
    recorder.observed.append(model)


def _register(recorder: _Recorder, model: nn.Module) -> None:
    if isinstance(model, Composed):
        _parts(recorder, model)
    stacked = any(isinstance(m, EncoderStack) for m in model.modules())
    for name, module in model.named_modules():
        if isinstance(module, DataEmbedding):
            _embedding(recorder, name, module)
        elif isinstance(module, AttentionLayer) and isinstance(module.inner_attention,
                                                               (ProbSparseAttention, FullAttention)):
            _attention(recorder, name, module)
        elif isinstance(module, DistillingLayer):
            _distilling(recorder, name, module)
        elif isinstance(module, EncoderLayer):
            recorder.on_output(module, lambda t, n=name: (f"{_place(n)}: output", "after attention and the "
                                                          "feed-forward block, each with a residual and LayerNorm"),
                               name)
        elif isinstance(module, Encoder):
            title = f"{_place(name + '.layers.0').rsplit(', ', 1)[0]} output" if stacked else "encoder output"
            recorder.on_output(module, lambda t, title=title: (title, "what the decoder's cross-attention reads"
                                                               if not stacked else "this encoder's output"), name)
        elif isinstance(module, EncoderStack):
            recorder.on_output(module, lambda t: ("encoder stack output", "the encoders' outputs concatenated "
                                                  "along time: what the decoder's cross-attention reads"), name)
        elif name == "decoder":
            recorder.on_output(module, lambda t: ("decoder output", "the forecast's steps (tokens, with "
                                                  "patch_len), after the final LayerNorm"), name)
        elif name == "projection":
            recorder.on_output(module, lambda t: ("output", "the decoder output projected to the predicted "
                                                  "columns: the forecast (before patches are unrolled, the "
                                                  "skip added and RevIN undone, where used)"), name)


@torch.no_grad()
def trace(model: nn.Module, batch: Windows, *, features: str, device: torch.device | str = "cpu", seed: int = 0,
          keep_tensors: bool = False) -> list[Stage]:
    """Every stage of one forward pass of ``model`` on ``batch``, in the order it ran.

    Args:
        model: a forecaster (Informer shows every stage; other kinds their inputs and output; the
            parts of a composed model each step on the way in and out).
        batch: ``(x, y, x_mark, y_mark[, x_phase, y_phase])`` as a WindowDataset yields it, stacked.
        features: M, S or MS (which columns are predicted).
        keep_tensors: keep a CPU copy of each stage's tensor (``Stage.tensor``) for plots.
    """
    device = torch.device(device)
    inner = unwrap(model)
    recorder = _Recorder(keep_tensors)
    _register(recorder, inner)
    was_training = model.training
    model.eval()
    try:
        if not any(isinstance(m, DataEmbedding) for m in inner.modules()):  # no Informer: inputs and output
            core = inner.core if isinstance(inner, Composed) else inner
            recorder.on_input(core, lambda args: [("encoder input", args[0].x_enc, "the look-back window, scaled"),
                                                  ("decoder input", args[0].x_dec, "label_len known steps, then "
                                                                                   "pred_len zeros")], "")
            recorder.on_output(core, lambda t: ("output", "the forecast"), "")
        run_batch(model, batch, features=features, device=device, generator=eval_generator(device, seed))
    finally:
        recorder.remove()
        model.train(was_training)
    return recorder.stages


def format_trace(stages: list[Stage]) -> str:
    """A plain-text table: stage, shape, meaning."""
    shapes = [str(tuple(s.shape)) for s in stages]
    name_width = max(len(s.name) for s in stages)
    shape_width = max(len(text) for text in shapes)
    return "\n".join(f"{s.name:<{name_width}}  {shape:<{shape_width}}  {s.meaning}" for s, shape in zip(stages, shapes))
