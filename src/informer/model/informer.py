"""The Informer model as the paper's published code computes it: embeddings, (stacked)
distilling encoder, decoder, projection. Nothing else: the modern options (RevIN, a learned
cycle, a linear skip, channel independence, patches) are parts composed around it
(:mod:`informer.model.parts`, :mod:`informer.model.compose`).

Typical use::

    model = Informer(enc_in=7, dec_in=7, c_out=7, seq_len=96, label_len=48, pred_len=24)
    y = model(Batch(x_enc, x_mark_enc, x_dec, x_mark_dec))     # (B, 24, 7)
    json.dumps(model.settings)                                  # enough to rebuild it:
    same = Informer(**model.settings)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from informer.config import ModelConfig
from informer.data.timefeatures import TIMEF_FEATURES
from informer.data.windows import window_shapes
from informer.errors import ConfigError
from informer.model.attention import ProbSparseAttention
from informer.model.decoder import Decoder
from informer.model.embedding import DataEmbedding
from informer.model.encoder import Encoder, EncoderStack
from informer.model.inputs import check_positive, check_shapes, check_unread

if TYPE_CHECKING:
    from informer.batches import Batch

# The paper's architecture: ModelConfig's defaults, which are the published code's.
PAPER = ModelConfig()
# The ModelConfig fields the paper's Informer reads.
ARCHITECTURE = ("d_model", "n_heads", "e_layers", "d_layers", "d_ff", "factor", "dropout", "attn", "embed",
                "activation", "distil", "mix", "stack", "s_layers", "lazy_decoder")


class Informer(nn.Module):
    """Informer (Zhou et al., AAAI 2021) as the published code computes it.

    It meets the :class:`~informer.model.forecaster.Forecaster` contract (``kind``
    ``"informer"``, trainable). The modern options wrap it
    (:func:`informer.model.compose.build_forecaster`); it has no branch on any of them.

    All arguments are keyword-only plain values; :attr:`settings` returns them as a
    JSON-ready dict from which ``Informer(**settings)`` rebuilds the same architecture.

    Args:
        enc_in: encoder input channels C.
        dec_in: decoder input channels.
        c_out: output channels.
        seq_len: encoder input steps.
        label_len: known steps at the start of the decoder input.
        pred_len: steps to forecast; the model returns the last ``pred_len`` decoder steps.
        freq: paper letter of the data frequency (s, t, h, d, b, w, m, a).
        d_model, n_heads, e_layers, d_layers, d_ff, factor, dropout, attn, embed, activation,
        distil, mix, stack, s_layers, lazy_decoder: the architecture, as in
            :class:`informer.config.ModelConfig` (``e_layers`` is unused when ``stack``;
            the stack's depths are ``s_layers``).

    Raises:
        ConfigError: (a ``ValueError``) for an invalid or inconsistent setting.
    """

    def __init__(
        self,
        *,
        enc_in: int,
        dec_in: int,
        c_out: int,
        seq_len: int,
        label_len: int,
        pred_len: int,
        freq: str = "h",
        d_model: int = PAPER.d_model,
        n_heads: int = PAPER.n_heads,
        e_layers: int = PAPER.e_layers,
        d_layers: int = PAPER.d_layers,
        d_ff: int = PAPER.d_ff,
        factor: int = PAPER.factor,
        dropout: float = PAPER.dropout,
        attn: str = PAPER.attn,
        embed: str = PAPER.embed,
        activation: str = PAPER.activation,
        distil: bool = PAPER.distil,
        mix: bool = PAPER.mix,
        stack: bool = PAPER.stack,
        s_layers: tuple[int, ...] | list[int] = PAPER.s_layers,
        lazy_decoder: str = PAPER.lazy_decoder,
    ) -> None:
        super().__init__()
        architecture = ModelConfig(
            kind="informer",  # validates the architecture, raising ConfigError
            d_model=d_model,
            n_heads=n_heads,
            e_layers=e_layers,
            d_layers=d_layers,
            d_ff=d_ff,
            factor=factor,
            dropout=dropout,
            attn=attn,
            embed=embed,
            activation=activation,
            distil=distil,
            mix=mix,
            stack=stack,
            s_layers=tuple(s_layers),
            lazy_decoder=lazy_decoder,
        )
        check_positive(
            enc_in=enc_in, dec_in=dec_in, c_out=c_out, seq_len=seq_len, label_len=label_len, pred_len=pred_len
        )
        if freq not in TIMEF_FEATURES:
            raise ConfigError(f"freq must be a paper letter ({', '.join(TIMEF_FEATURES)}), got {freq!r}")
        if stack and seq_len // 2 ** (len(architecture.s_layers) - 1) == 0:
            raise ConfigError(
                f"seq_len {seq_len} is too short for {len(architecture.s_layers)} stacked encoders"
            )

        self._settings: dict[str, Any] = {
            "enc_in": enc_in,
            "dec_in": dec_in,
            "c_out": c_out,
            "seq_len": seq_len,
            "label_len": label_len,
            "pred_len": pred_len,
            "freq": freq,
            **{name: getattr(architecture, name) for name in ARCHITECTURE},
        }
        self._settings["s_layers"] = list(architecture.s_layers)
        self.enc_embedding = DataEmbedding(c_in=enc_in, d_model=d_model, embed=embed, freq=freq, dropout=dropout)
        self.dec_embedding = DataEmbedding(c_in=dec_in, d_model=d_model, embed=embed, freq=freq, dropout=dropout)
        layer_settings = dict(
            d_model=d_model,
            n_heads=n_heads,
            d_ff=d_ff,
            factor=factor,
            dropout=dropout,
            attn=attn,
            activation=activation,
        )
        self.encoder: Encoder | EncoderStack
        if stack:
            self.encoder = EncoderStack(depths=architecture.s_layers, distil=distil, **layer_settings)
        else:
            self.encoder = Encoder(depth=e_layers, distil=distil, **layer_settings)
        self.decoder = Decoder(depth=d_layers, mix=mix, lazy_decoder=lazy_decoder, **layer_settings)
        self.projection = nn.Linear(d_model, c_out)

    kind = "informer"
    trainable = True
    config_fields = ARCHITECTURE

    @property
    def settings(self) -> dict[str, Any]:
        """The constructor arguments as plain ints, floats, strings, bools and a list."""
        return {**self._settings, "s_layers": list(self._settings["s_layers"])}

    @property
    def pred_len(self) -> int:
        return self._settings["pred_len"]

    def input_shapes(self, batch_size: int) -> dict[str, tuple[int, ...]]:
        """Shapes of the four inputs for a batch (calendar embeddings also accept extra columns)."""
        s = self._settings
        return window_shapes(batch_size, seq_len=s["seq_len"], label_len=s["label_len"], pred_len=s["pred_len"],
                             enc_in=s["enc_in"], dec_in=s["dec_in"],
                             marks=self.enc_embedding.n_features)

    def kept_queries(self) -> dict[str, Tensor]:
        """Indices (B, H, U) of the queries each ProbSparse attention kept in the last forward.

        Keys are module names such as ``encoder.layers.0.attention.inner_attention``; empty for
        ``attn="full"`` or before the first forward call.
        """
        return {
            name: module.kept_queries
            for name, module in self.named_modules()
            if isinstance(module, ProbSparseAttention) and module.kept_queries is not None
        }

    def _check_inputs(self, batch: Batch) -> None:
        check_unread(batch, ())
        check_shapes(batch, self.input_shapes, calendar=self._settings["embed"] != "timeF")

    def forward(self, batch: Batch, *, generator: torch.Generator | None = None) -> Tensor:
        """Forecast the last ``pred_len`` steps.

        Args:
            batch: the encoder input ``x_enc`` (B, seq_len, enc_in) and its time features
                ``x_mark_enc`` (B, seq_len, F); the decoder input ``x_dec``
                (B, label_len + pred_len, dec_in), known steps then placeholders, and its time
                features ``x_mark_dec`` (B, label_len + pred_len, F).
            generator: source of ProbSparse's sampled keys; seeded, it makes the forward pass
                deterministic. torch's global generator when None.

        Returns:
            The forecast (B, pred_len, c_out).

        Raises:
            ValueError: if an input does not have the shape :meth:`input_shapes` gives, or the
                batch sets an input this model does not read.
        """
        self._check_inputs(batch)
        embedded = self.enc_embedding(batch.x_enc, batch.x_mark_enc)  # (B, seq_len, D)
        memory = self.encoder(embedded, generator=generator)  # (B, L_enc, D)
        embedded = self.dec_embedding(batch.x_dec, batch.x_mark_dec)  # (B, label_len + pred_len, D)
        decoded = self.decoder(embedded, memory, generator=generator, keep_last=self.pred_len)  # (B, pred_len, D)
        return self.projection(decoded)  # (B, pred_len, c_out)
