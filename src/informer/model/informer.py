"""The Informer model: embeddings, (stacked) distilling encoder, decoder, projection.

Typical use::

    model = build_model(ModelConfig(), enc_in=7, dec_in=7, c_out=7,
                        seq_len=96, label_len=48, pred_len=24, freq="h")
    y = model(x_enc, x_mark_enc, x_dec, x_mark_dec)            # (B, 24, 7)
    json.dumps(model.settings)                                  # enough to rebuild it:
    same = Informer(**model.settings)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from informer.config import ModelConfig
from informer.data.timefeatures import TIMEF_FEATURES
from informer.data.windows import window_shapes
from informer.errors import ConfigError
from informer.model.attention import ProbSparseAttention
from informer.model.baselines import Linear
from informer.model.cycle import Cycle
from informer.model.decoder import Decoder
from informer.model.embedding import DataEmbedding
from informer.model.encoder import Encoder, EncoderStack
from informer.model.normalisation import RevIN

# The ModelConfig fields Informer reads (the others belong to other model kinds).
_ARCHITECTURE = ("d_model", "n_heads", "e_layers", "d_layers", "d_ff", "factor", "dropout", "attn", "embed",
                 "activation", "distil", "mix", "stack", "s_layers", "lazy_decoder", "norm", "norm_affine",
                 "channel_independent", "skip", "moving_avg", "patch_len", "cycle", "cycle_norm")
# Options beyond the published model: recorded in settings only when used, so the settings (and
# the checksum stored with the weights) of a published-architecture run are as they always were.
_BEYOND_PUBLISHED = {"norm": "none", "norm_affine": False, "channel_independent": False, "skip": "none",
                     "moving_avg": 25, "patch_len": 1, "cycle": 0, "cycle_norm": False}


class Informer(nn.Module):
    """Informer (Zhou et al., AAAI 2021) as the published code computes it.

    It meets the :class:`~informer.model.forecaster.Forecaster` contract (``kind``
    ``"informer"``, trainable).

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
        norm, norm_affine: ``"revin"`` normalises each window by its own statistics and the
            forecast back (:class:`~informer.model.normalisation.RevIN`; with learnable scale
            and shift when ``norm_affine``); ``"last"`` subtracts each window's last value and adds
            it back to the forecast, without scaling (NLinear's normalisation); ``"none"``, the
            published model, does neither.
        channel_independent: each channel of a window is its own sample of one channel
            (PatchTST's channel independence): the weights are shared by all channels, which
            no longer mix. The output is the last ``c_out`` channels' forecasts.
        skip, moving_avg: ``"linear"`` adds a DLinear forecast (trend by a ``moving_avg``-step
            moving average, at most ``seq_len`` steps, one pair of linear maps over time shared by all channels) of the
            encoder input, after ``norm``, to the decoder's output: the attention layers then
            learn what a linear map of the window misses. ``"gated"``: the same, with Informer's
            part multiplied by a learned scalar that starts at 0, so training starts from the
            linear forecast and brings the attention layers in as far as they help (ReZero's
            trick, Bachlechner et al. 2021). ``"linear-raw"``: DLinear on the encoder input as
            given, before ``norm``, added after the forecast is de-normalised without its level
            (the window's scale is kept, its mean or last value is not added back): the linear map
            brings the level, and can use where the window lies against the training split,
            which a window normalised by its own statistics no longer shows; Informer forecasts
            the rest relative to the window. ``"gated-raw"``: the same, with
            Informer's part scaled by a learned scalar that starts at 0. ``"none"``, the
            published model.
        patch_len: ``P`` consecutive steps (all channels of them) make one token, embedded
            together and forecast together (PatchTST's patches, without overlap): the encoder
            and decoder see ``P`` times fewer tokens; each token's time features are its first
            step's. Lengths that are not multiples of ``P`` are padded: the encoder input and
            the known decoder steps in front with their first step, the placeholders behind
            (the extra forecast steps are dropped). 1, one token per step, is the published model.
        cycle: ``P`` > 0 learns a pattern of ``P`` steps per channel
            (:class:`~informer.model.cycle.Cycle`, CycleNet's residual cycle forecasting): it is
            subtracted from the encoder input and the known decoder steps, before everything
            else, and added to the forecast, after everything else. The time features then carry
            one more column, each step's position in the cycle
            (:func:`informer.data.timefeatures.cycle_phase`). 0, the published model, has none.
        cycle_norm: the cycle in the window's normalised units (with ``norm="revin"``), as
            CycleNet orders it: the pattern is scaled by each window's standard deviation before
            it is subtracted and added back, so its amplitude follows the window's (a daily cycle
            that is weaker in winter than in the training split's summer). Off, the pattern is in
            the data's (train-scaled) units, the same for every window.

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
        d_model: int = 512,
        n_heads: int = 8,
        e_layers: int = 2,
        d_layers: int = 1,
        d_ff: int = 2048,
        factor: int = 5,
        dropout: float = 0.05,
        attn: str = "prob",
        embed: str = "timeF",
        activation: str = "gelu",
        distil: bool = True,
        mix: bool = True,
        stack: bool = False,
        s_layers: tuple[int, ...] | list[int] = (3, 2, 1),
        lazy_decoder: str = "cumsum",
        norm: str = "none",
        norm_affine: bool = False,
        channel_independent: bool = False,
        skip: str = "none",
        moving_avg: int = 25,
        patch_len: int = 1,
        cycle: int = 0,
        cycle_norm: bool = False,
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
            norm=norm,
            norm_affine=norm_affine,
            channel_independent=channel_independent,
            skip=skip,
            moving_avg=moving_avg,
            patch_len=patch_len,
            cycle=cycle,
            cycle_norm=cycle_norm,
        )
        _check_data_settings(
            enc_in=enc_in, dec_in=dec_in, c_out=c_out, seq_len=seq_len, label_len=label_len, pred_len=pred_len
        )
        if freq not in TIMEF_FEATURES:
            raise ConfigError(f"freq must be a paper letter ({', '.join(TIMEF_FEATURES)}), got {freq!r}")
        if stack and -(-seq_len // patch_len) // 2 ** (len(architecture.s_layers) - 1) == 0:
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
            **{name: getattr(architecture, name) for name in _ARCHITECTURE
               if _BEYOND_PUBLISHED.get(name, ...) != getattr(architecture, name)
               and not (name == "moving_avg" and skip == "none")},  # only the skip reads it
        }
        self._settings["s_layers"] = list(architecture.s_layers)
        if channel_independent and c_out > enc_in:
            raise ConfigError(f"channel_independent forecasts the input channels: c_out ({c_out}) must not exceed "
                              f"enc_in ({enc_in})")
        if (norm != "none" or channel_independent) and dec_in != enc_in:
            raise ConfigError(f"norm {norm} and channel_independent treat the decoder's channels as the encoder's: "
                              f"dec_in ({dec_in}) must equal enc_in ({enc_in})")
        self.channel_independent = channel_independent
        self.revin = RevIN(enc_in, affine=norm_affine, last=norm == "last") if norm != "none" else None
        width_in, width_dec, width_out = (1, 1, 1) if channel_independent else (enc_in, dec_in, c_out)
        width_in, width_dec, width_out = width_in * patch_len, width_dec * patch_len, width_out * patch_len
        self.patch_len = patch_len

        self.enc_embedding = DataEmbedding(c_in=width_in, d_model=d_model, embed=embed, freq=freq, dropout=dropout)
        self.dec_embedding = DataEmbedding(c_in=width_dec, d_model=d_model, embed=embed, freq=freq, dropout=dropout)
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
        self.projection = nn.Linear(d_model, width_out)
        # Built last, so a published-architecture model draws the same initial weights as before.
        self.linear_skip = (Linear(enc_in=enc_in, c_out=c_out, seq_len=seq_len, pred_len=pred_len,
                                   moving_avg=min(moving_avg, seq_len), label_len=label_len, freq=freq)
                            if skip != "none" else None)
        self.skip_gate = nn.Parameter(torch.zeros(())) if skip in ("gated", "gated-raw") else None
        self.cycle = Cycle(cycle, enc_in) if cycle else None

    kind = "informer"
    trainable = True
    config_fields = _ARCHITECTURE

    @classmethod
    def from_config(cls, config: ModelConfig, *, enc_in: int, c_out: int, seq_len: int, label_len: int,
                    pred_len: int, freq: str) -> "Informer":
        """The model for an architecture and the data's widths and lengths (``dec_in = enc_in``)."""
        return build_model(config, enc_in=enc_in, dec_in=enc_in, c_out=c_out, seq_len=seq_len,
                           label_len=label_len, pred_len=pred_len, freq=freq)

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
                             marks=self.enc_embedding.n_features + (self.cycle is not None))

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

    def _check_inputs(self, x_enc: Tensor, x_mark_enc: Tensor, x_dec: Tensor, x_mark_dec: Tensor) -> None:
        batch = x_enc.shape[0] if x_enc.dim() == 3 else -1
        expected = self.input_shapes(batch)
        calendar = self._settings["embed"] != "timeF"
        inputs = {"x_enc": x_enc, "x_mark_enc": x_mark_enc, "x_dec": x_dec, "x_mark_dec": x_mark_dec}
        for name, tensor in inputs.items():
            want = expected[name]
            shape = tuple(tensor.shape)
            ok = len(shape) == 3 and shape[:2] == want[:2]
            if name.startswith("x_mark") and calendar:
                ok = ok and shape[2] >= want[2]
            else:
                ok = ok and shape[2] == want[2]
            if not ok:
                layout = "(B, L, F)" if name.startswith("x_mark") else "(B, L, C)"
                wanted = ", ".join(["B" if batch < 0 else str(batch), *map(str, want[1:])])
                at_least = " (or more calendar columns)" if name.startswith("x_mark") and calendar else ""
                raise ValueError(f"{name} must have shape {layout} = ({wanted}){at_least}; got {shape}")

    def forward(
        self,
        x_enc: Tensor,
        x_mark_enc: Tensor,
        x_dec: Tensor,
        x_mark_dec: Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Forecast the last ``pred_len`` steps.

        Args:
            x_enc: encoder input (B, seq_len, enc_in).
            x_mark_enc: its time features (B, seq_len, F).
            x_dec: decoder input (B, label_len + pred_len, dec_in): known steps, then placeholders.
            x_mark_dec: its time features (B, label_len + pred_len, F).
            generator: source of ProbSparse's sampled keys; seeded, it makes the forward pass
                deterministic. torch's global generator when None.

        Returns:
            The forecast (B, pred_len, c_out).

        Raises:
            ValueError: if an input does not have the shape :meth:`input_shapes` gives.
        """
        self._check_inputs(x_enc, x_mark_enc, x_dec, x_mark_dec)
        restored = None
        if self.revin is not None:  # the window's statistics, of the values as given
            mean, std = self.revin.statistics(x_enc)  # (B, 1, C) each
        if self.cycle is not None:  # the learned cycle out of the known steps, before anything else
            label_len = self._settings["label_len"]
            # with cycle_norm, in units of each window's std (CycleNet's cycle inside RevIN)
            scale = std if self._settings.get("cycle_norm") else 1.0
            x_mark_enc, phase_enc = Cycle.split(x_mark_enc)
            x_mark_dec, phase_dec = Cycle.split(x_mark_dec)
            x_enc = x_enc - self.cycle.at(phase_enc) * scale
            known = x_dec[:, :label_len] - self.cycle.at(phase_dec[:, :label_len]) * scale  # placeholders stay zero
            x_dec = torch.cat([known, x_dec[:, label_len:]], dim=1)
            c_out = self._settings["c_out"]
            restored = self.cycle.at(phase_dec[:, label_len:], c_out)  # (B, pred_len, c_out)
            if self._settings.get("cycle_norm"):
                restored = restored * std[..., -c_out:]
            elif self.revin is not None:  # the statistics of the window without its cycle
                mean, std = self.revin.statistics(x_enc)
        raw_skip = self._settings.get("skip") in ("linear-raw", "gated-raw")
        skip = None
        if raw_skip:  # DLinear on the window as given, before --norm: it keeps the data's level
            skip = self.linear_skip(x_enc, x_mark_enc, x_dec, x_mark_dec)
        if self.revin is not None:
            x_enc = self.revin.normalise(x_enc, mean, std)
            label_len = self._settings["label_len"]
            known = self.revin.normalise(x_dec[:, :label_len], mean, std)  # the placeholders stay zero
            x_dec = torch.cat([known, x_dec[:, label_len:]], dim=1)
        if self.linear_skip is not None and not raw_skip:
            skip = self.linear_skip(x_enc, x_mark_enc, x_dec, x_mark_dec)
        if self.channel_independent:
            batch, channels = x_enc.shape[0], x_enc.shape[2]
            x_enc, x_dec = _one_channel_each(x_enc), _one_channel_each(x_dec)  # (B * C, L, 1)
            x_mark_enc = x_mark_enc.repeat_interleave(channels, dim=0)
            x_mark_dec = x_mark_dec.repeat_interleave(channels, dim=0)
        patch = self.patch_len
        if patch > 1:  # P steps -> one token of P * C values, with its first step's time features
            label_len = self._settings["label_len"]
            x_enc, x_mark_enc = _pad_front(x_enc, patch), _pad_front(x_mark_enc, patch)
            x_dec = torch.cat([_pad_front(x_dec[:, :label_len], patch), _pad_back(x_dec[:, label_len:], patch)], 1)
            x_mark_dec = torch.cat([_pad_front(x_mark_dec[:, :label_len], patch),
                                    _pad_back(x_mark_dec[:, label_len:], patch)], dim=1)
            x_enc, x_dec = _patches(x_enc, patch), _patches(x_dec, patch)
            x_mark_enc, x_mark_dec = x_mark_enc[:, ::patch], x_mark_dec[:, ::patch]
        out = self._forecast(x_enc, x_mark_enc, x_dec, x_mark_dec, generator)  # (B [* C], pred_len, c_out [1])
        if patch > 1:  # (B, ceil(pred_len / P), P * c) -> (B, pred_len, c)
            out = out.reshape(out.shape[0], -1, out.shape[2] // patch)[:, :self.pred_len]
        if self.channel_independent:
            out = out.reshape(batch, channels, self.pred_len).transpose(1, 2)[..., -self._settings["c_out"]:]
        if skip is not None and not raw_skip:
            out = out.float() if self.skip_gate is None else out.float() * self.skip_gate
            out = out + skip.float()  # (B, pred_len, c_out)
        if self.revin is not None:
            out = self.revin.denormalise(out.float(), mean, std)
            if raw_skip:  # Informer's part on the window's scale, without its level: the skip brings that
                out = out - self.revin.denormalise(torch.zeros_like(out[:, :1]), mean, std)
        if raw_skip:
            out = out.float() if self.skip_gate is None else out.float() * self.skip_gate
            out = out + skip.float()
        if restored is not None:  # and back into the forecast, after everything else
            out = out.float() + restored
        return out

    def _forecast(self, x_enc: Tensor, x_mark_enc: Tensor, x_dec: Tensor, x_mark_dec: Tensor,
                  generator: torch.Generator | None) -> Tensor:
        embedded = self.enc_embedding(x_enc, x_mark_enc)  # (B, seq_len, D)
        memory = self.encoder(embedded, generator=generator)  # (B, L_enc, D)
        embedded = self.dec_embedding(x_dec, x_mark_dec)  # (B, label_len + pred_len, D)
        tokens = -(-self.pred_len // self.patch_len)
        decoded = self.decoder(embedded, memory, generator=generator, keep_last=tokens)  # (B, pred_len / P, D)
        return self.projection(decoded)  # (B, pred_len / P, P * c_out)


def _pad_front(x: Tensor, patch: int) -> Tensor:
    """(B, L, F) -> (B, ceil(L / P) * P, F): the first step repeated in front (the known past)."""
    missing = -x.shape[1] % patch
    return torch.cat([x[:, :1].expand(-1, missing, -1), x], dim=1) if missing else x


def _pad_back(x: Tensor, patch: int) -> Tensor:
    """(B, L, F) -> (B, ceil(L / P) * P, F): the last step repeated behind (placeholders, whose
    extra forecasts are dropped)."""
    missing = -x.shape[1] % patch
    return torch.cat([x, x[:, -1:].expand(-1, missing, -1)], dim=1) if missing else x


def _patches(x: Tensor, patch: int) -> Tensor:
    """(B, L, C) -> (B, L / P, P * C): token t holds steps t*P .. t*P + P - 1, step-major."""
    batch, length, channels = x.shape
    return x.reshape(batch, length // patch, patch * channels)


def _one_channel_each(x: Tensor) -> Tensor:
    """(B, L, C) -> (B * C, L, 1): sample b's channel c becomes sample b * C + c."""
    batch, length, channels = x.shape
    return x.transpose(1, 2).reshape(batch * channels, length, 1)


def _check_data_settings(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def build_model(config: ModelConfig, **data: int | str) -> Informer:
    """Build the model for an architecture and the data's widths and lengths.

    ``data``: the keyword arguments ``enc_in, dec_in, c_out, seq_len, label_len, pred_len, freq``
    of :class:`Informer`; ``freq`` is the paper letter of the data frequency (``timeF`` width =
    ``informer.data.timefeatures.timef_width(freq)``).
    """
    return Informer(**data, **{name: getattr(config, name) for name in _ARCHITECTURE})
