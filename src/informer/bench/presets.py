"""Every setting of the Informer paper's experiments, as data: the published scripts' lengths and
layers, and the paper's MSE / MAE for each (the published README tables, after the train-only
scaling fix).

Anything a line does not name is the published default: d_model 512, 8 heads, d_ff 2048, dropout
0.05, timeF, distil and mix on, batch 32, lr 1e-4, type1, 6 epochs, patience 3, factor 5. The
published ETTm1 scripts pass no ``--freq``, so their time features are the hourly set: the
ETTm1 presets do the same (``time_freq="h"``).
"""

from __future__ import annotations

from dataclasses import dataclass

from informer.config import DataConfig, RunConfig


@dataclass(frozen=True)
class Preset:
    """One line of the published scripts and the paper's result for it."""

    dataset: str
    features: str
    seq_len: int
    label_len: int
    pred_len: int
    e_layers: int = 2
    d_layers: int = 1
    factor: int = 5
    paper_mse: float | None = None
    paper_mae: float | None = None
    time_freq: str | None = None  # the frequency whose time features the published run used

    @property
    def name(self) -> str:
        """``ETTh1_M_48-48-24_e2d1_f3``: a file-name-safe identifier."""
        return (f"{self.dataset}_{self.features}_{self.seq_len}-{self.label_len}-{self.pred_len}"
                f"_e{self.e_layers}d{self.d_layers}_f{self.factor}")

    def payload(self) -> dict:
        """The settings of this line as a :meth:`RunConfig.from_dict` payload."""
        data = {"data": self.dataset, "features": self.features, "seq_len": self.seq_len,
                "label_len": self.label_len, "pred_len": self.pred_len}
        if self.time_freq is not None:
            data["time_freq"] = self.time_freq
        return {"data": data, "model": {"e_layers": self.e_layers, "d_layers": self.d_layers, "factor": self.factor}}

    def config(self) -> RunConfig:
        return RunConfig.from_dict(self.payload(), source=f"preset {self.name}")

    def data_config(self) -> DataConfig:
        return self.config().data


def _lines(dataset: str, features: str, rows: str, paper: str, **common) -> tuple[Preset, ...]:
    """``rows``: ``seq/label/pred e d [f]`` per line, ``;``-separated; ``paper``: ``mse/mae`` per line."""
    presets = []
    for row, result in zip(rows.split(";"), paper.split(), strict=True):
        lengths, e_layers, d_layers, *factor = row.split()
        seq_len, label_len, pred_len = (int(n) for n in lengths.split("/"))
        mse, mae = (float(v) for v in result.split("/"))
        presets.append(Preset(dataset, features, seq_len, label_len, pred_len, int(e_layers), int(d_layers),
                              int(factor[0]) if factor else 5, mse, mae, **common))
    return tuple(presets)


PRESETS: tuple[Preset, ...] = (
    *_lines("ETTh1", "M", "48/48/24 2 1 3; 96/48/48 2 1; 168/168/168 2 1; 168/168/336 2 1; 336/336/720 2 1",
            "0.577/0.549 0.685/0.625 0.931/0.752 1.128/0.873 1.215/0.896"),
    *_lines("ETTh1", "S", "720/168/24 2 1; 720/168/48 2 1; 720/336/168 2 1; 720/336/336 2 1; 720/336/720 2 1",
            "0.098/0.247 0.158/0.319 0.183/0.346 0.222/0.387 0.269/0.435"),
    *_lines("ETTh2", "M", "48/48/24 2 1; 96/96/48 2 1; 336/336/168 3 2; 336/168/336 3 2; 720/336/720 3 2",
            "0.720/0.665 1.457/1.001 3.489/1.515 2.723/1.340 3.467/1.473"),
    *_lines("ETTh2", "S", "48/48/24 2 1 3; 96/96/48 2 1; 336/336/168 2 1; 336/168/336 3 2; 336/336/720 3 2",
            "0.093/0.240 0.155/0.314 0.232/0.389 0.263/0.417 0.277/0.431"),
    *_lines("ETTm1", "M", "672/96/24 2 1; 96/48/48 2 1; 384/384/96 2 1; 672/288/288 2 1; 672/384/672 2 1",
            "0.323/0.369 0.494/0.503 0.678/0.614 1.056/0.786 1.192/0.926", time_freq="h"),
    *_lines("ETTm1", "S", "96/48/24 2 1; 96/48/48 2 1; 384/384/96 2 1; 384/384/288 2 1; 384/384/672 2 1",
            "0.030/0.137 0.069/0.203 0.194/0.372 0.401/0.554 0.512/0.644", time_freq="h"),
    *_lines("WTH", "M", "168/168/24 3 2; 96/96/48 2 1; 336/168/168 3 2; 720/168/336 3 2; 720/336/720 3 2",
            "0.335/0.381 0.395/0.459 0.608/0.567 0.702/0.620 0.831/0.731"),
    *_lines("WTH", "S", "720/168/24 2 1; 720/168/48 2 1; 168/168/168 3 2; 336/336/336 3 2; 720/336/720 3 2",
            "0.117/0.251 0.178/0.318 0.266/0.398 0.297/0.416 0.359/0.466"),
)

# Informer with full attention (the paper's Informer†), where the paper reports it.
PAPER_FULL_ATTENTION = {("ETTh1", "M", 24): (0.620, 0.577)}


def find_presets(*, dataset: str | None = None, features: str | None = None,
                 horizons: tuple[int, ...] | None = None) -> list[Preset]:
    """The presets matching every filter given (dataset case-insensitive)."""
    return [p for p in PRESETS
            if (dataset is None or p.dataset.lower() == dataset.lower())
            and (features is None or p.features == features)
            and (horizons is None or p.pred_len in horizons)]
