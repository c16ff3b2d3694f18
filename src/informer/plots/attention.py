"""Figures of Informer's attention and distilling, drawn from the stages of one real forward pass.

The stages are :func:`informer.explain.trace`'s; a stage name is ``"<place>: <what>"`` (for
example ``"encoder, layer 1, self-attention: sparsity"``), and the tensors are the batch's
(B, H, ...), of which one window (``item``) is drawn. Notation: B batch, H heads, L_Q / L_K
query / key steps, U kept queries.
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.figure import Figure

from informer.explain import Stage

KEPT = "#dd8452"
OTHER = "#b8b8b8"
FIGURES = ("sparsity", "attention", "lengths")


def _what(stages: list[Stage], what: str) -> dict[str, Stage]:
    """The stages named ``"<place>: <what>"``, by place, in order."""
    found = {}
    for stage in stages:
        place, _, name = stage.name.rpartition(": ")
        if name == what:
            found[place] = stage
    return found


def _array(stage: Stage) -> np.ndarray:
    if stage.tensor is None:
        raise ValueError(f"stage {stage.name!r} has no tensor; trace with keep_tensors=True")
    return stage.tensor.numpy()


def _sparse_layers(stages: list[Stage]) -> list[tuple[str, Stage, Stage]]:
    """(place, sparsity (B, H, L_Q), kept queries (B, H, U)) of every ProbSparse attention."""
    kept = _what(stages, "kept queries")
    return [(place, stage, kept[place]) for place, stage in _what(stages, "sparsity").items() if place in kept]


def _weight_layers(stages: list[Stage]) -> list[tuple[str, Stage, Stage | None]]:
    """(place, weights, kept queries or None) of every self-attention: the kept queries' weights
    (B, H, U, L_K) under ProbSparse, every query's (B, H, L_Q, L_K) under full attention."""
    kept = _what(stages, "kept queries")
    layers = [(place, stage, kept.get(place)) for place, stage in _what(stages, "kept queries' weights").items()]
    layers += [(place, stage, None) for place, stage in _what(stages, "attention weights").items()
               if place.endswith("self-attention")]
    order = {stage.name: index for index, stage in enumerate(stages)}
    return sorted(layers, key=lambda layer: order[layer[1].name])


def _length_steps(stages: list[Stage]) -> list[tuple[str, int, str]]:
    """(label, length, role) of each point where the encoder's sequence length is decided."""
    steps = []
    for stage in stages:
        place, _, what = stage.name.rpartition(": ")
        if stage.name == "encoder embedding":
            steps.append(("embedding", stage.shape[1], "input"))
        elif what == "queries" and place.startswith("encoder") and place.endswith("self-attention"):
            steps.append((place.removesuffix(", self-attention") + ": attention", stage.shape[2], "layer"))
        elif what == "output" and place.startswith("encoder") and "distilling" in place:
            steps.append((place + ": output", stage.shape[1], "distilling"))
        elif re.fullmatch(r"encoder( \d+)? output|encoder stack output", stage.name):
            steps.append((stage.name, stage.shape[1], "output"))
        elif what == "keys" and place.endswith("cross-attention"):
            steps.append((place + ": keys", stage.shape[2], "decoder"))
    return steps


def has_stages(stages: list[Stage], figure: str) -> bool:
    """Whether ``stages`` hold what ``figure`` (``sparsity``, ``attention``, ``lengths``) draws."""
    if figure not in FIGURES:
        raise ValueError(f"unknown figure {figure!r}; known: {', '.join(FIGURES)}")
    if figure == "sparsity":
        return bool(_sparse_layers(stages))
    if figure == "attention":
        return bool(_weight_layers(stages))
    return any(role == "layer" for _, _, role in _length_steps(stages))


def _grid(figure: Figure, rows: int, heads: int):
    return figure.subplots(rows, heads, squeeze=False)


def _layer_label(place: str) -> str:
    return place.replace(", ", "\n")


def sparsity_figure(stages: list[Stage], *, item: int = 0) -> Figure:
    """Every query's sparsity measure, per ProbSparse layer (rows) and head (columns).

    The measure is max minus mean of the query's sampled scores; the U queries with the largest
    measure (orange) attend to every key, the others get the lazy fill.

    Raises:
        ValueError: if the trace holds no ProbSparse attention or was made without tensors.
    """
    layers = _sparse_layers(stages)
    if not layers:
        raise ValueError("no ProbSparse attention in this trace (a model without attention, or attn=full)")
    heads = layers[0][1].shape[1]
    figure = Figure(figsize=(1.0 + 2.6 * heads, 0.8 + 1.9 * len(layers)), layout="constrained")
    axes = _grid(figure, len(layers), heads)
    for row, (place, sparsity, kept) in enumerate(layers):
        measure = _array(sparsity)[item]  # (H, L_Q)
        chosen = _array(kept)[item].astype(np.int64)  # (H, U)
        positions = np.arange(measure.shape[1])
        for head in range(heads):
            panel = axes[row][head]
            panel.bar(positions, measure[head], width=1.0, color=OTHER)
            panel.bar(chosen[head], measure[head][chosen[head]], width=1.0, color=KEPT)
            panel.tick_params(labelsize=7)
            if row == 0:
                panel.set_title(f"head {head + 1}", fontsize=9)
            if head == 0:
                panel.set_ylabel(f"{_layer_label(place)}\nU = {chosen.shape[1]} of {measure.shape[1]}", fontsize=8)
        axes[row][0].set_xlim(-0.5, measure.shape[1] - 0.5)
    for head in range(heads):
        axes[-1][head].set_xlabel("query position", fontsize=8)
    figure.suptitle("ProbSparse: each query's sparsity measure (max minus mean of its sampled scores);\n"
                    "the U kept queries (orange) attend to every key", fontsize=10)
    return figure


def attention_figure(stages: list[Stage], *, item: int = 0) -> Figure:
    """Attention weights as heat maps, per self-attention layer (rows) and head (columns).

    Under ProbSparse, the rows are the kept queries (sorted by position, labelled with it);
    under full attention every query is a row. Columns are the keys; masked (later) keys of the
    decoder show as zero weight.

    Raises:
        ValueError: if the trace holds no self-attention weights or was made without tensors.
    """
    layers = _weight_layers(stages)
    if not layers:
        raise ValueError("no attention weights in this trace (a model without attention)")
    heads = layers[0][1].shape[1]
    figure = Figure(figsize=(1.2 + 2.8 * heads, 0.8 + 2.3 * len(layers)), layout="constrained")
    axes = _grid(figure, len(layers), heads)
    for row, (place, weights, kept) in enumerate(layers):
        values = _array(weights)[item]  # (H, U or L_Q, L_K)
        queries = (_array(kept)[item].astype(np.int64) if kept is not None
                   else np.broadcast_to(np.arange(values.shape[1]), values.shape[:2]))  # (H, rows)
        image = None
        for head in range(heads):
            order = np.argsort(queries[head], kind="stable")
            panel = axes[row][head]
            if values.shape[1] == 0:  # one query: c * ceil(ln 1) = 0 kept, the lazy value is the answer
                panel.text(0.5, 0.5, "no kept query\n(one query only)", ha="center", va="center", fontsize=8,
                           transform=panel.transAxes)
                panel.set_xticks([])
                panel.set_yticks([])
                if head == 0:
                    panel.set_ylabel(_layer_label(place), fontsize=8)
                continue
            image = panel.imshow(values[head][order], aspect="auto", interpolation="nearest", cmap="viridis",
                                 vmin=0.0)
            keys = values.shape[2]
            panel.set_xticks(np.unique(np.linspace(0, keys - 1, min(6, keys)).round().astype(int)))
            ticks = np.unique(np.linspace(0, len(order) - 1, min(5, len(order))).round().astype(int))
            panel.set_yticks(ticks, [str(q) for q in queries[head][order][ticks]])
            panel.tick_params(labelsize=7)
            if row == 0:
                panel.set_title(f"head {head + 1}", fontsize=9)
            if head == 0:
                rows = "kept queries" if kept is not None else "queries"
                panel.set_ylabel(f"{_layer_label(place)}\n{rows} (position)", fontsize=8)
        if image is not None:
            figure.colorbar(image, ax=axes[row].tolist(), shrink=0.9, pad=0.01).ax.tick_params(labelsize=7)
    for head in range(heads):
        axes[-1][head].set_xlabel("key position", fontsize=8)
    rows = "the kept queries" if all(kept is not None for _, _, kept in layers) else "the queries"
    figure.suptitle(f"Attention weights of {rows} (rows)\nover every key (columns)", fontsize=10)
    return figure


def lengths_figure(stages: list[Stage]) -> Figure:
    """The sequence length at each encoder layer, after each distilling step and at the output
    (and what the decoder's cross-attention reads), from the shapes of the real tensors.

    Raises:
        ValueError: if the trace holds no encoder attention (a model without attention).
    """
    steps = _length_steps(stages)
    if not any(role == "layer" for _, _, role in steps):
        raise ValueError("no encoder attention in this trace (a model without attention)")
    colours = {"input": "#999999", "layer": "#4c72b0", "distilling": "#8172b3", "output": "#55a868",
               "decoder": "#dd8452"}
    figure = Figure(figsize=(9, 1.0 + 0.36 * len(steps)), layout="constrained")
    panel = figure.subplots()
    positions = np.arange(len(steps))
    lengths = [length for _, length, _ in steps]
    panel.barh(positions, lengths, color=[colours[role] for _, _, role in steps])
    for position, length in zip(positions, lengths):
        panel.text(length, position, f" {length}", va="center", fontsize=8)
    panel.set_yticks(positions, [label for label, _, _ in steps], fontsize=8)
    panel.invert_yaxis()
    panel.set_xlim(0, max(lengths) * 1.12)
    panel.set_xlabel("time steps L")
    distilled = any(role == "distilling" for _, _, role in steps)
    panel.set_title("Sequence length through the encoder\n" + (
        "each distilling step (conv, ELU, max-pool with stride 2) halves it, rounding up" if distilled
        else "no distilling: the length stays"), fontsize=10)
    return figure
