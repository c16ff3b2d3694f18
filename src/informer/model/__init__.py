"""The Informer network, computed as the paper's published code computes it.

Notation used for tensor shapes throughout this package:

====  ==========================================================================
B     batch size
L     time steps (``L_Q`` / ``L_K`` for queries / keys when they differ)
D     model width, ``d_model``
H     attention heads, ``n_heads``
E     head width, ``d_model // n_heads``
C     input channels (``enc_in`` / ``dec_in``) or output channels (``c_out``)
F     time-feature columns (``timeF`` width, or 4-5 calendar fields)
U     kept ("active") queries of ProbSparse attention, ``factor * ceil(ln L_Q)``
S     sampled keys per query of ProbSparse attention, ``factor * ceil(ln L_K)``
====  ==========================================================================

Modules, in the order data flows through them:

* :mod:`~informer.model.embedding`: value convolution + position + time embedding;
* :mod:`~informer.model.attention`: pure attention functions on ``(B, H, L, E)`` tensors
  (:func:`full_attention`, :func:`prob_sparse_attention`) and the projection layer;
* :mod:`~informer.model.encoder`: encoder layers, the distilling block, the encoder stack;
* :mod:`~informer.model.decoder`: masked self-attention + cross-attention layers;
* :mod:`~informer.model.informer`: the paper's whole model, and nothing else;
* :mod:`~informer.model.published`: loading weights saved by the published implementation;
* :mod:`~informer.model.checkpointing`: activation checkpointing for long inputs;
* :mod:`~informer.model.baselines`: the ``repeat`` and ``linear`` (DLinear) baselines;
* :mod:`~informer.model.parts`: the modern options, each a part composed around a forecaster
  (learned cycle, RevIN, linear skip, channel independence, patches);
* :mod:`~informer.model.compose`: the one builder (:data:`MODEL_KINDS`, :func:`build_forecaster`,
  :func:`rebuild_forecaster`) and the composed model;
* :mod:`~informer.model.forecaster`: the contract every model kind meets.

Every point where the published code and the paper disagree is listed in ``docs/model.md``.
"""

from informer.model.attention import (
    AttentionLayer,
    FullAttention,
    ProbSparseAttention,
    full_attention,
    kept_query_count,
    prob_sparse_attention,
    query_sparsity,
    sampled_key_count,
)
from informer.model.baselines import Linear, Repeat
from informer.model.checkpointing import set_activation_checkpointing
from informer.model.compose import MODEL_KINDS, Composed, build_forecaster, rebuild_forecaster
from informer.model.forecaster import Forecaster
from informer.model.informer import Informer
from informer.model.published import from_published, to_published

__all__ = [
    "MODEL_KINDS",
    "AttentionLayer",
    "Composed",
    "Forecaster",
    "FullAttention",
    "Informer",
    "Linear",
    "Repeat",
    "build_forecaster",
    "rebuild_forecaster",
    "ProbSparseAttention",
    "from_published",
    "full_attention",
    "kept_query_count",
    "prob_sparse_attention",
    "query_sparsity",
    "sampled_key_count",
    "set_activation_checkpointing",
    "to_published",
]
