"""A frozen copy of the model's forward path as it was in 0.7 (main d5d09a0), for the parity
tests of the composed model (tests/model/test_compose_parity.py) and the speed comparison
(benchmarks/compose_speed.py). Not part of the package; delete it with those tests once no
run directory of 0.7 needs proving.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import torch
from torch import Tensor, nn

from informer.model.baselines import TimeMap, decompose
from informer.model.decoder import Decoder
from informer.model.embedding import DataEmbedding
from informer.model.encoder import Encoder, EncoderStack

_ARCHITECTURE = ("d_model", "n_heads", "e_layers", "d_layers", "d_ff", "factor", "dropout", "attn", "embed",
                 "activation", "distil", "mix", "stack", "s_layers", "lazy_decoder", "norm", "norm_affine",
                 "channel_independent", "skip", "moving_avg", "patch_len", "cycle", "cycle_norm")
_BEYOND_PUBLISHED = {"norm": "none", "norm_affine": False, "channel_independent": False, "skip": "none",
                     "moving_avg": 25, "patch_len": 1, "cycle": 0, "cycle_norm": False}


class LegacyRevIN(nn.Module):
    """Per-window normalisation of ``channels`` channels, reversible for the last output channels."""

    def __init__(self, channels: int, *, affine: bool = False, eps: float = 1e-5, last: bool = False) -> None:
        super().__init__()
        self.eps = eps
        self.last = last  # the window's last value as its level, and no scaling (NLinear's normalisation)
        self.affine = affine
        if affine:
            self.weight = nn.Parameter(torch.ones(channels))
            self.bias = nn.Parameter(torch.zeros(channels))

    def statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and standard deviation (B, 1, C) of a window (B, L, C) over its steps (with ``last``,
        its last step and 1), in float32 and outside the gradient (they are data, not something
        to learn through)."""
        x = x.detach().float()
        if self.last:
            return x[:, -1:], torch.ones_like(x[:, -1:])
        mean = x.mean(dim=1, keepdim=True)
        std = torch.sqrt(x.var(dim=1, keepdim=True, unbiased=False) + self.eps)
        return mean, std

    def normalise(self, x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
        """``x`` (B, L, C) in the window's units -> normalised (and scaled and shifted if affine)."""
        y = (x - mean) / std
        if self.affine:
            y = y * self.weight + self.bias
        return y

    def denormalise(self, y: Tensor, mean: Tensor, std: Tensor) -> Tensor:
        """The inverse for an output (B, P, c) of the last ``c`` channels."""
        c = y.shape[-1]
        if self.affine:
            y = (y - self.bias[-c:]) / (self.weight[-c:] + self.eps * self.eps)
        return y * std[..., -c:] + mean[..., -c:]


class LegacyCycle(nn.Module):
    """A learned pattern of ``period`` steps for each of ``channels`` channels (zeros at first)."""

    def __init__(self, period: int, channels: int) -> None:
        super().__init__()
        self.pattern = nn.Parameter(torch.zeros(period, channels))  # (P, C)

    @staticmethod
    def split(marks: Tensor) -> tuple[Tensor, Tensor]:
        """``(B, L, F + 1)`` time features -> the ``(B, L, F)`` the model embeds and the ``(B, L)``
        cycle positions (the last column)."""
        return marks[..., :-1], marks[..., -1].round().long()

    def at(self, phase: Tensor, channels: int | None = None) -> Tensor:
        """The pattern at positions ``phase`` (B, L): (B, L, C), or of the last ``channels`` channels."""
        values = self.pattern[phase.remainder(self.pattern.shape[0])]  # (B, L, C)
        return values if channels is None else values[..., -channels:]


class LegacyLinear(nn.Module):

    kind = "linear"
    trainable = True
    config_fields = ("moving_avg", "individual", "cycle")

    def __init__(self, *, enc_in: int, c_out: int, seq_len: int, pred_len: int, moving_avg: int = 25,
                 individual: bool = False, label_len: int = 0, freq: str = "h", cycle: int = 0) -> None:
        super().__init__()
        self._settings = dict(c_out=c_out, moving_avg=moving_avg, pred_len=pred_len)
        # Only the last c_out channels are forecast, and every map reads one channel's own past:
        # mapping just those gives the published model's forecast (for MS, the target's) without
        # computing, or storing, forecasts that are thrown away.
        channels = c_out if individual else None
        self.seasonal = TimeMap(seq_len=seq_len, pred_len=pred_len, channels=channels)
        self.trend = TimeMap(seq_len=seq_len, pred_len=pred_len, channels=channels)
        self.cycle = LegacyCycle(cycle, c_out) if cycle else None

    def forward(self, x_enc: Tensor, x_mark_enc: Tensor, x_dec: Tensor, x_mark_dec: Tensor, *,
                generator: torch.Generator | None = None) -> Tensor:
        """The forecast (B, pred_len, c_out) from x_enc (B, seq_len, enc_in); the time features
        are read only for a cycle's positions (their last column), the decoder input not at all.

        Raises:
            ValueError: if x_enc is not (B, seq_len, enc_in).
        """
        outputs = x_enc[:, :, -self._settings["c_out"]:]  # (B, seq_len, c_out)
        if self.cycle is not None:
            outputs = outputs - self.cycle.at(LegacyCycle.split(x_mark_enc)[1])
        seasonal, trend = decompose(outputs, self._settings["moving_avg"])  # (B, seq_len, c_out) each
        forecast = self.seasonal(seasonal.transpose(1, 2)) + self.trend(trend.transpose(1, 2))  # (B, c_out, pred_len)
        forecast = forecast.transpose(1, 2)  # (B, pred_len, c_out)
        if self.cycle is not None:
            forecast = forecast + self.cycle.at(LegacyCycle.split(x_mark_dec)[1][:, -self._settings['pred_len']:])
        return forecast.contiguous()


class LegacyInformer(nn.Module):

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
        architecture = SimpleNamespace(s_layers=tuple(s_layers), **{k: v for k, v in locals().items()
                                       if k in _ARCHITECTURE and k != 's_layers'})

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
            raise ValueError(f"channel_independent forecasts the input channels: c_out ({c_out}) must not exceed "
                              f"enc_in ({enc_in})")
        if (norm != "none" or channel_independent) and dec_in != enc_in:
            raise ValueError(f"norm {norm} and channel_independent treat the decoder's channels as the encoder's: "
                              f"dec_in ({dec_in}) must equal enc_in ({enc_in})")
        self.channel_independent = channel_independent
        self.revin = LegacyRevIN(enc_in, affine=norm_affine, last=norm == "last") if norm != "none" else None
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
        self.linear_skip = (LegacyLinear(enc_in=enc_in, c_out=c_out, seq_len=seq_len, pred_len=pred_len,
                                   moving_avg=min(moving_avg, seq_len), label_len=label_len, freq=freq)
                            if skip != "none" else None)
        self.skip_gate = nn.Parameter(torch.zeros(())) if skip in ("gated", "gated-raw") else None
        self.cycle = LegacyCycle(cycle, enc_in) if cycle else None

    kind = "informer"
    trainable = True
    config_fields = _ARCHITECTURE

    @property
    def settings(self) -> dict[str, Any]:
        """The constructor arguments as plain ints, floats, strings, bools and a list."""
        return {**self._settings, "s_layers": list(self._settings["s_layers"])}

    @property
    def pred_len(self) -> int:
        return self._settings["pred_len"]

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
        restored = None
        if self.revin is not None:  # the window's statistics, of the values as given
            mean, std = self.revin.statistics(x_enc)  # (B, 1, C) each
        if self.cycle is not None:  # the learned cycle out of the known steps, before anything else
            label_len = self._settings["label_len"]
            # with cycle_norm, in units of each window's std (CycleNet's cycle inside RevIN)
            scale = std if self._settings.get("cycle_norm") else 1.0
            x_mark_enc, phase_enc = LegacyCycle.split(x_mark_enc)
            x_mark_dec, phase_dec = LegacyCycle.split(x_mark_dec)
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
