"""Training runs: ``train(config) -> Run``, ``load_run(path) -> Run``, and the run directory.

A run directory holds everything evaluate and forecast need, and nothing needs unpickling:

=====================  =====================================================================
``config.json``        the run's configuration, the model's constructor settings, the data's
                       columns, target and frequency
``model.safetensors``  the weights of the best validation epoch
``scaler.json``        the train-split mean and std of every column
``history.csv``        per epoch: train, val and test loss, learning rate, seconds
``metrics.json``       test metrics (scaled and original units), windows, epochs, seconds
``train.log``          the training log
=====================  =====================================================================
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch
from pandas.tseries.frequencies import to_offset
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from informer import __version__
from informer.config import RunConfig, replace
from informer.data.loading import TimeSeries, load_series
from informer.data.pipeline import PreparedData, prepare
from informer.data.scaling import Scaler
from informer.errors import ConfigError, InformerError
from informer.evaluation.evaluate import evaluate_model
from informer.evaluation.metrics import summarise
from informer.forecasting import forecast_frame
from informer.model import Informer, build_model
from informer.training.checkpoint import (
    CheckpointError,
    TrainingState,
    load_state,
    save_state,
)
from informer.training.loop import NonFiniteLossError, fit, resolve_device

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
RUN_FILES = ("config.json", "model.safetensors", "scaler.json", "history.csv", "metrics.json")


class RunDirectoryError(InformerError):
    """A run directory is missing a file or holds a corrupt one."""


@dataclass
class Run:
    """A trained model with everything needed to evaluate it and forecast with it."""

    config: RunConfig
    model: Informer
    scaler: Scaler
    target: str
    freq: str
    metrics: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    path: Path | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The model's input columns, in order (the target last)."""
        return self.scaler.columns

    @property
    def output_columns(self) -> tuple[str, ...]:
        return self.columns if self.config.data.features == "M" else (self.target,)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def _data_config(self, data: str | None):
        """The run's data settings, pointed at ``data`` and pinned to the run's columns."""
        c = self.config.data
        return replace(c, data=data or c.data, cols=self.columns, target=self.target, freq=self.freq)

    def evaluate(self, split: str = "test", data: str | None = None) -> dict:
        """Metrics over every window of ``split`` (``val`` or ``test``) of the run's data or ``data``."""
        prepared = prepare(self._data_config(data), embed=self.config.model.embed, scaler=self.scaler,
                           require=(split,))
        _check_frequency(prepared.series, self.freq)
        return _evaluate(self, prepared, split)

    def load_series(self, data: str | None = None) -> TimeSeries:
        """The run's data, or another file with its columns, read as the run reads it."""
        series = load_series(self._data_config(data))
        _check_frequency(series, self.freq)
        return series

    def forecast(self, data: str | TimeSeries | None = None, *, at: str | None = None) -> pd.DataFrame:
        """Forecast the ``pred_len`` steps after the data (the run's, a path, or a loaded series),
        or after the timestamp ``at``; a dated frame in original units."""
        series = data if isinstance(data, TimeSeries) else self.load_series(data)
        c = self.config
        return forecast_frame(
            self.model,
            series,
            scaler=self.scaler,
            output_columns=self.output_columns,
            embed=c.model.embed,
            seq_len=c.data.seq_len,
            label_len=c.data.label_len,
            seed=c.train.seed,
            device=self.device,
            at=at,
            date_col=c.data.date_col,
            amp=c.train.amp,
        )

    def settings_digest(self) -> str:
        """A checksum of everything in config.json that decides what the weights compute.

        Stored with the weights, it lets :func:`load_run` notice a config.json edited after
        training (another attention, other lengths...) instead of silently computing something
        else."""
        decisive = {"model": self.model.settings, "columns": list(self.columns), "target": self.target,
                    "freq": self.freq, "features": self.config.data.features}
        return hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()

    def save_config(self, path: Path) -> None:
        """Write ``config.json``: what rebuilds the model and the data handling."""
        info = {
            "format": FORMAT_VERSION,
            "informer_version": __version__,
            "config": self.config.to_dict(),
            "model": self.model.settings,
            "data": {"columns": list(self.columns), "target": self.target, "freq": self.freq},
        }
        _write_text(path / "config.json", json.dumps(info, indent=2) + "\n")

    def save(self, path: str | Path) -> Path:
        """Write the run directory files (each atomically) into ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.save_config(path)
        _write_text(path / "scaler.json", json.dumps(self.scaler.to_dict(), indent=2) + "\n")
        _write_text(path / "metrics.json", json.dumps(_plain_json(self.metrics), indent=2) + "\n")
        _write_text(path / "history.csv", _history_csv(self.history))
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        metadata = {"format": "informer", "settings_sha256": self.settings_digest()}
        _atomic(path / "model.safetensors", lambda tmp: save_file(state, str(tmp), metadata=metadata))
        self.path = path
        return path


def _check_frequency(series: TimeSeries, freq: str) -> None:
    """Warn when a file's own step differs from the run's frequency (which is used anyway)."""
    if len(series) < 3:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inferred = pd.infer_freq(series.dates)
    if inferred is not None and to_offset(inferred) != to_offset(freq):
        log.warning("%s: its timestamps step by %s, but the run was trained on %s data; using %s",
                    series.source, to_offset(inferred).freqstr, freq, freq)


def _plain_json(value):
    """NaN and infinities become null: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_json(v) for v in value]
    return value


def _evaluate(run: Run, prepared: PreparedData, split: str) -> dict:
    c = run.config
    return evaluate_model(
        run.model,
        prepared.dataset(split),
        features=c.data.features,
        scaler=run.scaler.select(run.output_columns),
        batch_size=c.train.batch_size,
        device=run.device,
        seed=c.train.seed,
        amp=c.train.amp,
    )


HISTORY_FIELDS = ("epoch", "train_loss", "val_loss", "test_loss", "lr", "seconds")


def _history_csv(history: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row[k] for k in HISTORY_FIELDS} for row in history)
    return buffer.getvalue()


def _atomic(target: Path, write) -> None:
    """Write through a temporary file in the same directory, fsync, then rename over ``target``.

    Raises:
        RunDirectoryError: when the file cannot be written (disk full, permissions), naming it.
    """
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as error:
        tmp.unlink(missing_ok=True)
        raise RunDirectoryError(f"{target}: cannot write ({error.strerror or error})") from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_text(target: Path, text: str) -> None:
    _atomic(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def default_run_name(config: RunConfig) -> str:
    """A readable directory name: data, features, lengths, attention and a timestamp."""
    d, m = config.data, config.model
    stem = Path(d.data).stem.replace(" ", "_") or "data"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return f"{stem}_{d.features}_sl{d.seq_len}_ll{d.label_len}_pl{d.pred_len}_{m.attn}_{stamp}"


def check_output_dir(path: Path, *, overwrite: bool) -> None:
    """Refuse an existing run directory (unless ``overwrite``) or an unwritable parent, early."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: exists and is not a directory")
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise ConfigError(f"{path}: run directory exists; pass --overwrite or choose another --out")
    parent = path if path.exists() else next((p for p in path.parents if p.exists()), Path("."))
    if not parent.is_dir():
        raise ConfigError(f"{path}: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"{path}: cannot write there (no permission on {parent})")


RESUME_FILE = "resume.safetensors"


def train(
    config: RunConfig,
    *,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = False,
) -> Run:
    """Train a model as ``config`` says; with ``out``, write the run directory there.

    With ``out``, the configuration is written first and the whole training state after every
    epoch (``resume.safetensors``, removed when the run ends), so :func:`resume` can continue a
    killed run. With ``config.train.itr > 1`` the training repeats with seeds
    ``seed .. seed + itr - 1``; ``metrics`` then holds each run's test metrics (``runs``) and
    their ``mean`` and ``std``, and the returned run (and saved weights) are the first
    repetition's (only the first repetition can be resumed).

    Raises:
        DataError, ConfigError: for bad data or settings, before anything is written.
        NonFiniteLossError: when the training loss diverges; the run directory then holds the
            best epoch so far (or is removed if no epoch ended).
    """
    data = prepare(config.data, embed=config.model.embed)
    device = resolve_device(config.train.device)
    path = Path(out) if out is not None else None
    if path is not None:
        check_output_dir(path, overwrite=overwrite)
        _check_free_space(path, config)
    return _train_into(path, config, data, device, progress=progress, resume_state=None)


def resume(path: str | Path, *, progress: bool = False) -> Run:
    """Continue a run that was killed after one of its epochs ended.

    Raises:
        RunDirectoryError, CheckpointError: if ``path`` is not a resumable run directory.
    """
    path = Path(path)
    if not path.is_dir():
        raise RunDirectoryError(f"{path}: not a run directory")
    info = _read_json(path / "config.json")
    try:
        config = RunConfig.from_dict(info["config"], source=str(path / "config.json"))
    except KeyError as error:
        raise RunDirectoryError(f"{path / 'config.json'}: incomplete ({error})") from error
    state = load_state(path / RESUME_FILE)
    data = prepare(config.data, embed=config.model.embed)
    try:
        return _train_into(path, config, data, resolve_device(config.train.device), progress=progress,
                           resume_state=state)
    except (RuntimeError, KeyError, ValueError) as error:
        if isinstance(error, InformerError):
            raise
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"{path / RESUME_FILE}: does not fit this run's config.json or this device ({reason})"
        ) from error


def _check_free_space(path: Path, config: RunConfig) -> None:
    """Refuse to start when the disk clearly cannot hold the checkpoints (a rough bound)."""
    parent = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    m = config.model
    layers = m.e_layers + m.d_layers + 2
    parameters = layers * (4 * m.d_model * m.d_model + 2 * m.d_model * m.d_ff)
    needed = parameters * 4 * 6  # weights, best weights, two Adam moments, temporary copies
    free = shutil.disk_usage(parent).free
    if free < needed:
        raise ConfigError(f"{path}: only {free / 1e6:.0f} MB free on that disk; the run needs about "
                          f"{needed / 1e6:.0f} MB")


def _train_into(path: Path | None, config: RunConfig, data: PreparedData, device: torch.device, *,
                progress: bool, resume_state: TrainingState | None) -> Run:
    created = False
    handler = None
    logger = logging.getLogger("informer")
    if path is not None:
        if resume_state is None:
            if path.exists():
                for name in (*RUN_FILES, "train.log", RESUME_FILE):
                    (path / name).unlink(missing_ok=True)
            created = not path.exists()
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise RunDirectoryError(f"{path}: cannot create the run directory ({error.strerror or error})") from error
        try:
            handler = logging.FileHandler(path / "train.log", encoding="utf-8")
        except OSError as error:
            raise RunDirectoryError(f"{path / 'train.log'}: cannot write ({error.strerror or error})") from error
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
    try:
        run = _train_repetitions(config, data, device, progress=progress, path=path, resume_state=resume_state)
        if path is not None:
            run.save(path)
            (path / RESUME_FILE).unlink(missing_ok=True)
            log.info("run saved to %s", path)
        return run
    except NonFiniteLossError as error:
        partial = getattr(error, "run", None)
        if path is not None and partial is not None:
            partial.save(path)
            (path / RESUME_FILE).unlink(missing_ok=True)
            log.error("%s; the run directory keeps the best epoch so far (%d)", error, partial.metrics["best_epoch"])
        elif created and path is not None:
            _remove(path, handler)
        raise
    except BaseException as error:
        if created and path is not None and not (path / RESUME_FILE).exists():
            _remove(path, handler)  # no epoch ended: nothing worth keeping
        elif path is not None and (path / RESUME_FILE).exists():
            log.warning("stopped (%s); continue with: informer train --resume %s", type(error).__name__, path)
        raise
    finally:
        if handler is not None:
            logger.removeHandler(handler)
            handler.close()


def _remove(path: Path, handler: logging.Handler | None) -> None:
    if handler is not None:
        handler.close()
    shutil.rmtree(path, ignore_errors=True)


def _train_repetitions(config: RunConfig, data: PreparedData, device: torch.device, *, progress: bool,
                       path: Path | None = None, resume_state: TrainingState | None = None) -> Run:
    series = data.series
    log.info(
        "data %s: %d rows, %d columns, freq %s, target %s; windows %s",
        series.source, len(series), len(series.columns), series.freq, series.target, data.window_counts(),
    )  # fmt: skip
    repetitions: list[Run] = []
    for repetition in range(config.train.itr):
        seed = config.train.seed + repetition
        torch.manual_seed(seed)
        model = build_model(
            config.model,
            enc_in=data.n_columns,
            dec_in=data.n_columns,
            c_out=len(data.output_columns),
            seq_len=config.data.seq_len,
            label_len=config.data.label_len,
            pred_len=config.data.pred_len,
            freq=series.letter,
        ).to(device)
        log.info("repetition %d/%d, seed %d: %d parameters on %s", repetition + 1, config.train.itr, seed,
                 sum(p.numel() for p in model.parameters()), device)
        run_config = replace(config, train=replace(config.train, seed=seed)) if repetition else config
        run = Run(run_config, model, data.scaler, series.target, series.freq)
        on_epoch_end = None
        if path is not None and repetition == 0:
            if resume_state is None:
                run.save_config(path)

            def on_epoch_end(state: TrainingState) -> None:
                _atomic(path / RESUME_FILE, lambda tmp: save_state(tmp, state))
                _write_text(path / "history.csv", _history_csv(state.history))

        try:
            result = fit(model, data, config.train, device=device, seed=seed, progress=progress,
                         resume=resume_state if repetition == 0 else None, on_epoch_end=on_epoch_end)
        except NonFiniteLossError as error:
            partial = error.result
            if partial.best_epoch >= 1 and repetition == 0:
                run.history = [vars(record) for record in partial.history]
                run.metrics = _final_metrics(run, data, partial, seed)
                run.metrics["stopped"] = str(error)
                error.run = run
            raise
        run.history = [vars(record) for record in result.history]
        run.metrics = _final_metrics(run, data, result, seed)
        log.info("test: mse %.6f, mae %.6f (seed %d)", run.metrics["mse"], run.metrics["mae"], seed)
        repetitions.append(run)
    first = repetitions[0]
    if len(repetitions) > 1:
        first.metrics = dict(first.metrics, runs=[r.metrics for r in repetitions],
                             **summarise([r.metrics for r in repetitions]))
    return first


def _final_metrics(run: Run, data: PreparedData, result, seed: int) -> dict:
    metrics = _evaluate(run, data, "test")
    metrics.update(
        windows=data.window_counts(),
        epochs=len(result.history),
        best_epoch=result.best_epoch,
        train_seconds=round(result.train_seconds, 3),
        seed=seed,
    )
    return metrics


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunDirectoryError(f"{path}: missing; is {path.parent} a run directory made by informer train?") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RunDirectoryError(f"{path}: unreadable or not valid JSON ({error})") from error


def load_run(path: str | Path, *, device: str = "cpu") -> Run:
    """Rebuild a run from its directory, with no unpickling.

    Raises:
        RunDirectoryError: for a missing, truncated or edited file, naming it.
    """
    path = Path(path)
    if not path.is_dir():
        raise RunDirectoryError(f"{path}: not a run directory")
    info = _read_json(path / "config.json")
    try:
        config = RunConfig.from_dict(info["config"], source=str(path / "config.json"))
        settings = dict(info["model"])
        columns = info["data"]["columns"]
        target, freq = info["data"]["target"], info["data"]["freq"]
        model = Informer(**settings)
    except (KeyError, TypeError, ValueError) as error:
        raise RunDirectoryError(f"{path / 'config.json'}: incomplete or inconsistent ({error})") from error
    try:
        scaler = Scaler.from_dict(_read_json(path / "scaler.json"))
    except (KeyError, TypeError, ValueError) as error:
        raise RunDirectoryError(f"{path / 'scaler.json'}: invalid ({error})") from error
    if list(scaler.columns) != list(columns):
        raise RunDirectoryError(f"{path / 'scaler.json'}: columns differ from config.json's")
    weights = path / "model.safetensors"
    if not weights.is_file():
        raise RunDirectoryError(f"{weights}: missing")
    try:
        model.load_state_dict(load_file(str(weights)), strict=True)
        with safe_open(str(weights), framework="pt") as handle:
            stored_digest = (handle.metadata() or {}).get("settings_sha256")
    except (SafetensorError, OSError, RuntimeError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RunDirectoryError(f"{weights}: corrupt or does not match config.json ({reason})") from error
    run = Run(config, model, scaler, target, freq, path=path)
    if stored_digest is not None and stored_digest != run.settings_digest():
        raise RunDirectoryError(
            f"{path / 'config.json'}: edited after training (its model or data settings no longer match "
            "the weights in model.safetensors)"
        )
    metrics = _read_json(path / "metrics.json") if (path / "metrics.json").exists() else {}
    history = []
    if (path / "history.csv").exists():
        with open(path / "history.csv", newline="", encoding="utf-8") as handle:
            history = [dict(row) for row in csv.DictReader(handle)]
    model.to(resolve_device(device)).eval()
    run.metrics, run.history = metrics, history
    return run
