"""Training runs: ``train(config) -> Run``, ``load_run(path) -> Run`` and ``resume(path)``.

A :class:`Run` is a trained forecaster of any kind (:mod:`informer.model.forecaster`) with the
scaler and settings that evaluate and forecast need; its directory format is
:mod:`informer.rundir`.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch
from pandas.tseries.frequencies import to_offset
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from informer import distributed, rundir, safeio
from informer.batches import unwrap
from informer.config import TRAIN_DEFAULTS, RunConfig, TrainConfig, replace
from informer.data.loading import FrequencyMismatch, TimeSeries, load_series, printable
from informer.data.pipeline import PreparedData, fingerprint_change, prepare_for, target_columns
from informer.data.scaling import Scaler
from informer.distributed import SINGLE, Distributed
from informer.errors import ConfigError, DataError, InformerError
from informer.evaluation.evaluate import evaluate_model
from informer.evaluation.metrics import summarise
from informer.forecasting import forecast_frame
from informer.model.compose import MODEL_KINDS, build_for, rebuild_forecaster
from informer.model.forecaster import ignored_settings
from informer.precision import resolve as resolve_precision
from informer.rundir import RESUME_FILE, RunDirectoryError, RunInfo
from informer.training.checkpoint import CheckpointError, TrainingState, load_state, save_state
from informer.training.loop import FitResult, NonFiniteLossError, fit

log = logging.getLogger(__name__)

__all__ = ["Run", "RunDirectoryError", "load_run", "resolve_device", "resume", "train"]


def resolve_device(name: str) -> torch.device:
    """``auto``: CUDA when available, else CPU.

    Raises:
        ConfigError: when CUDA is asked for and torch sees none.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("`device=cuda` was asked for, but torch sees no CUDA device; use `device=cpu`")
    return torch.device(name)


@dataclass
class Run:
    """A trained forecaster with everything needed to evaluate it and forecast with it."""

    config: RunConfig
    model: nn.Module
    scaler: Scaler
    target: str
    freq: str
    metrics: dict = field(default_factory=dict)
    history: list[dict] = field(default_factory=list)
    path: Path | None = None
    requested_device: torch.device | None = None
    data_fingerprint: dict | None = None  # of the data it trained on (PreparedData.fingerprint)

    @property
    def columns(self) -> tuple[str, ...]:
        """The model's input columns, in order (the target last)."""
        return self.scaler.columns

    @property
    def output_columns(self) -> tuple[str, ...]:
        """The columns the model predicts (all for M, the target for S and MS)."""
        return self.columns[target_columns(self.config.data.features)]

    @property
    def device(self) -> torch.device:
        """Where the model computes: its weights' device, or the requested one for a model
        without weights (the repeat baseline)."""
        tensor = next(itertools.chain(self.model.parameters(), self.model.buffers()), None)
        if tensor is not None:
            return tensor.device
        return self.requested_device or torch.device("cpu")

    def info(self) -> RunInfo:
        """What ``config.json`` records of this run."""
        return RunInfo(self.config, unwrap(self.model).settings, self.columns, self.target, self.freq,
                       self.data_fingerprint)

    def _data_config(self, data: str | None):
        """The run's data settings, pointed at ``data`` and pinned to the run's columns."""
        c = self.config.data
        return replace(c, data=data or c.data, cols=self.columns, target=self.target, freq=self.freq)

    def _pinned(self, data: str | None, read):
        """``read(data config)`` with the run's frequency; for runs that recorded a frequency the
        timestamps do not have (older runs made with ``--freq h`` on 15-minute data), with it as
        the time features' frequency instead."""
        try:
            return read(self._data_config(data))
        except FrequencyMismatch:
            c = self._data_config(data)
            return read(replace(c, freq=None, time_freq=c.time_freq or self.freq))

    def evaluate(self, split: str = "test", data: str | None = None) -> dict:
        """Metrics over every window of ``split`` (``val`` or ``test``) of the run's data or ``data``.

        Raises:
            DataError: when ``data`` steps at another frequency than the data the run trained on.
        """
        prepared = self._pinned(data, lambda config: prepare_for(self.config, data=config, scaler=self.scaler,
                                                                 require=(split,)))
        if data is not None:
            self._refuse_other_step(prepared.series, "its metrics would measure windows of another length in time")
        _check_frequency(prepared.series, self.freq)
        return _evaluate(self, prepared, split)

    def load_series(self, data: str | None = None) -> TimeSeries:
        """The run's data, or another file with its columns, read as the run reads it."""
        series = self._pinned(data, load_series)
        _check_frequency(series, self.freq)
        return series

    def forecast(self, data: str | TimeSeries | None = None, *, at: str | None = None) -> pd.DataFrame:
        """Forecast the ``pred_len`` steps after the data (the run's, a path, or a loaded series),
        or after the timestamp ``at``; a dated frame in original units.

        Raises:
            DataError: when ``data`` steps at another frequency than the data the run trained
                on (its forecast would be dated at a step the model never learned).
        """
        series = data if isinstance(data, TimeSeries) else self._pinned(data, load_series)
        if data is not None:
            self._refuse_other_step(series, f"its forecast would be dated every {series.freq}")
        if not isinstance(data, TimeSeries):
            _check_frequency(series, self.freq)
        c = self.config
        return forecast_frame(
            self.model,
            series,
            scaler=self.scaler,
            features=c.data.features,
            embed=c.model.embed,
            seq_len=c.data.seq_len,
            label_len=c.data.label_len,
            seed=c.train.seed,
            device=self.device,
            at=at,
            date_col=c.data.date_col,
            amp=c.train.amp,
        )

    def _refuse_other_step(self, series: TimeSeries, consequence: str) -> None:
        """Refuse data stepping at another frequency than the run's (unless the run's own data did).

        Raises:
            DataError: naming the data, the two steps, ``consequence`` and the ways on.
        """
        if to_offset(series.freq) != to_offset(self.freq) and not self._trained_at(series.freq):
            raise DataError(f"{series.source}: its timestamps step by {series.freq}, but the run was trained on "
                            f"{self.freq} data, so {consequence}; use data at the run's frequency (resample it to "
                            f"{self.freq}) or train a run on this data")

    def _trained_at(self, freq: str) -> bool:
        """Whether the run's own data steps by ``freq``: so it does for runs that recorded a
        frequency their timestamps lack (``--freq h`` on 15-minute data, before 0.8)."""
        try:
            own = self._pinned(None, load_series)
        except InformerError:  # moved or deleted since: nothing says the run knows this step
            return False
        return to_offset(own.freq) == to_offset(freq)

    def save(self, path: str | Path) -> Path:
        """Write the run directory files (each atomically) into ``path``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        info = self.info()
        rundir.write_config(path, info)
        rundir.write_json(path / "scaler.json", self.scaler.to_dict())
        rundir.write_json(path / "metrics.json", self.metrics)
        rundir.write_text(path / "history.csv", rundir.history_csv(self.history))
        state = {k: v.detach().cpu().contiguous() for k, v in unwrap(self.model).state_dict().items()}
        metadata = {"format": "informer", "settings_sha256": info.digest(), "run_sha256": info.run_digest()}
        rundir.atomic_write(path / "model.safetensors", lambda tmp: save_file(state, str(tmp), metadata=metadata))
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


def _evaluate(run: Run, prepared: PreparedData, split: str, job: Distributed = SINGLE) -> dict:
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
        job=job,
    )


def train(
    config: RunConfig,
    *,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = False,
    log_every: float | None = None,
) -> Run:
    """Train a model as ``config`` says; with ``out``, write the run directory there.

    With ``out``, the configuration is written first and the whole training state after every
    epoch (``resume.safetensors``, removed when the run ends), so :func:`resume` can continue a
    killed run. With ``config.train.itr > 1`` the training repeats with seeds
    ``seed .. seed + itr - 1``; ``metrics`` then holds each run's test metrics (``runs``) and
    their ``mean`` and ``std``, and the returned run (and saved weights) are the first
    repetition's (only the first repetition can be resumed). A model that does not train (the
    repeat baseline) is evaluated and saved the same way, with no epochs. ``progress`` shows a
    progress bar; ``log_every`` logs a line every that many seconds within an epoch instead
    (steps done, loss, speed, time left), for output that goes to a file.

    In a process started by ``torchrun`` the processes train one model together
    (:mod:`informer.distributed`; docs/distributed.md): ``batch_size`` is the global batch, and
    only rank 0 writes ``out``.

    Raises:
        DataError, ConfigError: for bad data or settings, before anything is written (under
            torchrun, on every process when any process finds one).
        NonFiniteLossError: when the training loss diverges; the run directory then holds the
            best epoch so far (or is removed if no epoch ended).
    """
    job, device = distributed.setup(resolve_device(config.train.device))
    path = Path(out) if out is not None else None
    config, notes = _resolve_precision(config, device, job)

    def prepared() -> PreparedData:
        _check_kind_settings(config)
        _check_processes(config, job)
        data = prepare_for(config)
        if path is not None and job.main:
            rundir.check_output_dir(path, overwrite=overwrite)
            rundir.check_free_space(path, _bytes_needed(config, data))
        return data

    data = distributed.together(job, prepared)
    config = replace(config, model=data.resolved(config.model))  # --cycle auto: config.json says which
    if job.main:
        _warn_if_busy(device)
    return _train_into(path if job.main else None, config, data, device, progress=progress, log_every=log_every,
                       resume_state=None, job=job, notes=notes)


def _resolve_precision(config: RunConfig, device: torch.device, job: Distributed) -> tuple[RunConfig, dict]:
    """The run's config with ``amp`` as computed (informer.precision; rank 0 decides for a
    torchrun job) and the notes for metrics.json: the precision and why."""
    precision, reason = job.broadcast(
        distributed.together(job, lambda: resolve_precision(config.train.amp, device) if job.main else None))
    if config.train.amp != "off" and job.main:
        log.info("precision: %s", reason)
    config = replace(config, train=replace(config.train, amp=precision))
    return config, {"precision": {"off": "fp32"}.get(precision, precision), "precision_reason": reason}


def _check_processes(config: RunConfig, job: Distributed) -> None:
    """The global batch must split evenly among the processes of a torchrun job.

    Raises:
        ConfigError: when it does not.
    """
    if job.enabled and config.train.batch_size % job.world_size:
        raise ConfigError(f"`batch_size` {config.train.batch_size} is the global batch and must split evenly "
                          f"among the {job.world_size} processes; use a multiple of {job.world_size}")


def _runnable_elsewhere() -> int:
    """Threads runnable right now besides this one (the load average lags a minute behind)."""
    try:
        with open("/proc/loadavg", encoding="ascii") as handle:
            return int(handle.read().split()[3].split("/")[0]) - 1
    except (OSError, ValueError, IndexError):  # not Linux: trust the load average
        return 1


def _warn_if_busy(device: torch.device) -> None:
    """Say so when other work already keeps this machine's cores busy: torch processes whose
    threads share cores wait on each other at every parallel region and can each run many times
    slower than alone (docs/training.md has the measurement)."""
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads < 2 or not hasattr(os, "getloadavg"):
        return
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load >= cores - 0.5 and _runnable_elsewhere() > 0:
        log.warning("the machine is busy (load %.1f on %d cores) and training uses %d threads; processes sharing "
                    "cores slow each other badly: give each run one thread (`threads=1`; from Python, "
                    "torch.set_num_threads(1)) or run one at a time",
                    load, cores, threads)


def _check_kind_settings(config: RunConfig) -> None:
    """Refuse what a model kind cannot do; warn about settings it would silently ignore.

    Raises:
        ConfigError: for repetitions of a model that does not train (they would be identical).
    """
    kind = config.model.kind
    if not MODEL_KINDS[kind].trainable and config.train.itr > 1:
        raise ConfigError(f"the {kind} model does not train, so its repetitions would be identical; use `itr=1`")
    ignored = ignored_settings(config.model)
    if config.train.checkpoint_activations and kind != "informer":
        ignored.append("checkpoint_activations")
    if ignored:
        log.warning("the %s model does not read %s; ignored", kind, ", ".join(f"`{name}`" for name in ignored))
    published = TRAIN_DEFAULTS[kind]
    informer_defaults = {name: getattr(TrainConfig(), name) for name in published}
    if published and {name: getattr(config.train, name) for name in published} == informer_defaults:
        shown = ", ".join(f"{name} {value}" for name, value in published.items())
        log.warning("training the %s model with Informer's defaults (%s); its published ones are %s "
                    "(RunConfig.for_model(%r) applies them)", kind,
                    ", ".join(f"{n} {v}" for n, v in informer_defaults.items()), shown, kind)


def resume(path: str | Path, *, progress: bool = False, log_every: float | None = None) -> Run:
    """Continue a run that was killed after one of its epochs ended (or, if it was killed before
    its first epoch ended, train it again from the start with the settings in its config.json).

    Under torchrun every process reads the run directory (it must be visible to all of them) and
    continues its own random generators; the job must have as many processes as the one that
    wrote the state.

    Raises:
        RunDirectoryError, CheckpointError: if ``path`` is not a resumable run directory.
    """
    path = Path(path)
    info = rundir.read_config(path)
    config = info.config
    if not (path / RESUME_FILE).exists() and not (path / "model.safetensors").exists():
        if distributed.from_environment().main:
            log.warning("%s: no epoch had finished; training again from the start with its settings", path)
        return train(config, out=path, overwrite=True, progress=progress, log_every=log_every)
    state = load_state(path / RESUME_FILE)
    job, device = distributed.setup(resolve_device(config.train.device))
    config, notes = _resolve_precision(config, device, job)
    notes["precision_reason"] = f"as when the run started ({config.train.amp}; resumed)"

    def prepared() -> PreparedData:
        if state.world_size != job.world_size:
            raise CheckpointError(f"{path}: was trained on {state.world_size} process(es); resume it with as "
                                  f"many (a job of {state.world_size} processes)")
        data = prepare_for(config)
        _check_same_data(path, info, data)
        return data

    data = distributed.together(job, prepared)
    if job.main:
        _warn_if_busy(device)
    try:
        return _train_into(path if job.main else None, config, data, device, progress=progress,
                           log_every=log_every, resume_state=state, job=job, notes=notes)
    except (RuntimeError, KeyError, ValueError, TypeError, IndexError) as error:  # a state that does not fit
        if isinstance(error, InformerError) or (job.enabled and distributed.lost_contact(error)):
            raise
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(
            f"{path / RESUME_FILE}: does not fit this run's config.json or this device ({reason})"
        ) from error


def _check_same_data(path: Path, info: RunInfo, data: PreparedData) -> None:
    """Refuse to resume on data that changed since the run started: the scaler would be fitted
    again and the splits moved, and the final metrics would belong to neither data.

    Raises:
        DataError: saying what changed and the two ways on.
    """
    if info.fingerprint is None:  # a run of 0.7 or before recorded none
        log.warning("%s: recorded no fingerprint of its data; resuming without checking the data is unchanged", path)
        return
    change = fingerprint_change(info.fingerprint, data.fingerprint())
    if change is not None:
        raise DataError(f"{data.series.source}: changed since the run in {path} started ({change}); resume needs "
                        f"the data it trained on: restore it, or train a new run instead of resuming")


def _build(config: RunConfig, data: PreparedData) -> nn.Module:
    return build_for(config.model, data)


def _bytes_needed(config: RunConfig, data: PreparedData) -> int:
    """A rough bound on the disk space of a run: weights, best weights, two Adam moments, copies."""
    with torch.device("meta"):  # the model's size without allocating it
        parameters = sum(p.numel() for p in _build(config, data).parameters())
    return parameters * 4 * 6


def _train_into(path: Path | None, config: RunConfig, data: PreparedData, device: torch.device, *,
                progress: bool, resume_state: TrainingState | None, log_every: float | None = None,
                job: Distributed = SINGLE, notes: dict | None = None) -> Run:
    if path is None:
        return _train_logged(None, config, data, device, progress=progress, resume_state=resume_state,
                             log_every=log_every, created=False, job=job, notes=notes)
    if resume_state is None and rundir.holds_run(path):
        return _replace_run(path, config, data, device, progress=progress, log_every=log_every, job=job,
                            notes=notes)
    created = rundir.create(path)
    with rundir.TrainingLock(path):
        if resume_state is None:
            rundir.clear(path)
        return _train_logged(path, config, data, device, progress=progress, resume_state=resume_state,
                             log_every=log_every, created=created, job=job, notes=notes)


def _replace_run(path: Path, config: RunConfig, data: PreparedData, device: torch.device, *, progress: bool,
                 log_every: float | None, job: Distributed, notes: dict | None) -> Run:
    """Overwrite the run in ``path`` as a whole: train into ``path.new`` beside it and swap the two
    when the new run is saved. The old run stays whole, and usable, until then, and stays if the
    new training fails (its progress is then in ``path.new``, resumable there)."""
    staging = path.with_name(path.name + ".new")
    if staging.exists():
        raise RunDirectoryError(f"{staging}: left by an overwrite of {path} that did not finish; resume it "
                                f"(`resume('{staging}')`) or delete it first")
    with rundir.TrainingLock(path):
        run = _train_into(staging, config, data, device, progress=progress, resume_state=None,
                          log_every=log_every, job=job, notes=notes)
        rundir.replace_directory(staging, path)
    run.path = path
    log.info("the run in %s replaced", path)
    return run


def _train_logged(path: Path | None, config: RunConfig, data: PreparedData, device: torch.device, *,
                  progress: bool, resume_state: TrainingState | None, log_every: float | None, created: bool,
                  job: Distributed = SINGLE, notes: dict | None = None) -> Run:
    handler = None
    logger = logging.getLogger("informer")
    level = logger.level
    if path is not None:
        try:
            handler = _RunLog(path / rundir.LOG_FILE, encoding="utf-8")
        except OSError as error:
            raise RunDirectoryError(f"{path / rundir.LOG_FILE}: cannot write ({error.strerror or error})") from error
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)  # the log file gets the epochs; restored below
    try:
        run = _train_repetitions(config, data, device, progress=progress, log_every=log_every, path=path,
                                 resume_state=resume_state, job=job)
        run.metrics.update(notes or {})
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
            _close(handler)
            rundir.remove(path)
        raise
    except BaseException as error:
        if created and path is not None and not (path / RESUME_FILE).exists():
            _close(handler)
            rundir.remove(path)  # no epoch ended: nothing worth keeping
        elif path is not None and (path / RESUME_FILE).exists():
            log.warning("stopped (%s); continue with `resume(%r)`%s", type(error).__name__, str(path),
                        f" in a job of {job.world_size} processes" if job.enabled else "")
        raise
    finally:
        if handler is not None:
            logger.removeHandler(handler)
            _close(handler)
        logger.setLevel(level)


class _RunLog(logging.FileHandler):
    """The run's ``train.log``. A write that fails (a full disk) ends the log, not the training,
    with one warning instead of logging's traceback per record: the files that matter (the resume
    state, the weights) say so themselves, in one line, if they cannot be written either."""

    failed = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.failed:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:
        if self.failed:
            return
        self.failed = True
        reason = sys.exc_info()[1]
        detail = getattr(reason, "strerror", None) or reason or "write failed"
        log.warning("%s: cannot write (%s); the run goes on without its log", self.baseFilename, detail)


def _close(handler: logging.Handler | None) -> None:
    if handler is not None:
        handler.close()


def _train_repetitions(config: RunConfig, data: PreparedData, device: torch.device, *, progress: bool,
                       log_every: float | None = None, path: Path | None = None,
                       resume_state: TrainingState | None = None, job: Distributed = SINGLE) -> Run:
    series = data.series
    log.info(
        "data %s: %d rows, %d column%s, freq %s, target %s; windows %s",
        series.source, len(series), len(series.columns), "s" * (len(series.columns) != 1), series.freq,
        printable(series.target), data.window_counts(),
    )  # fmt: skip
    repetitions: list[Run] = []
    for repetition in range(config.train.itr):
        seed = config.train.seed + repetition
        torch.manual_seed(seed)
        model = _build(config, data).to(device)
        log.info("%s model, repetition %d/%d, seed %d: %d parameters on %s%s", config.model.kind, repetition + 1,
                 config.train.itr, seed, sum(p.numel() for p in model.parameters()), device,
                 f", {job.world_size} processes (global batch {config.train.batch_size})" if job.enabled else "")
        run_config = replace(config, train=replace(config.train, seed=seed)) if repetition else config
        run = Run(run_config, model, data.scaler, series.target, series.freq, requested_device=device,
                  data_fingerprint=data.fingerprint())
        on_epoch_end = None
        if path is not None and repetition == 0:
            if resume_state is None:
                rundir.write_config(path, run.info())

            def on_epoch_end(state: TrainingState) -> None:
                rundir.atomic_write(path / RESUME_FILE, lambda tmp: save_state(tmp, state))
                rundir.write_text(path / "history.csv", rundir.history_csv(state.history))

        if not model.trainable:
            result = FitResult()
        else:
            try:
                result = fit(model, data, config.train, device=device, seed=seed, progress=progress,
                             log_every=log_every,
                             resume=resume_state if repetition == 0 else None, on_epoch_end=on_epoch_end,
                             job=job)
            except NonFiniteLossError as error:
                partial = error.result
                if partial.best_epoch >= 1 and repetition == 0:
                    run.history = [vars(record) for record in partial.history]
                    run.metrics = _final_metrics(run, data, partial, seed, job)
                    run.metrics["stopped"] = str(error)
                    error.run = run
                raise
        run.history = [vars(record) for record in result.history]
        run.metrics = _final_metrics(run, data, result, seed, job)
        log.info("test: mse %.6f, mae %.6f (seed %d)", run.metrics["mse"], run.metrics["mae"], seed)
        repetitions.append(run)
    first = repetitions[0]
    if len(repetitions) > 1:
        first.metrics = dict(first.metrics, runs=[r.metrics for r in repetitions],
                             **summarise([r.metrics for r in repetitions]))
    return first


def _final_metrics(run: Run, data: PreparedData, result: FitResult, seed: int, job: Distributed = SINGLE) -> dict:
    metrics = _evaluate(run, data, "test", job)
    metrics.update(
        windows=data.window_counts(),
        epochs=len(result.history),
        best_epoch=result.best_epoch,
        train_seconds=round(result.train_seconds, 3),
        seed=seed,
    )
    if job.enabled:
        metrics["processes"] = job.world_size
    return metrics


# The model settings that size its modules, each bounded by what the weights file holds: the
# layers by its number of tensors, the widths (each a dimension of some tensor) by its largest one.
_LAYERS = ("e_layers", "d_layers")
_WIDTHS = ("d_model", "d_ff", "patch_len", "cycle")


def _check_settings_against_weights(path: Path, info: RunInfo) -> None:
    """Refuse a config.json that does not describe the weights beside it, before anything is
    allocated: its sizes are bounded by the weights file's own tensor shapes (read from the file's
    header, not its data), and the model it describes, built on the meta device, must have exactly
    the file's tensor names and shapes.

    Raises:
        RunDirectoryError: naming config.json and the first disagreement.
    """
    weights, source = path / "model.safetensors", path / "config.json"
    try:
        with safe_open(str(weights), framework="pt") as handle:
            shapes = {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
    except (SafetensorError, OSError, RuntimeError, ValueError):
        return  # a missing or damaged file is reported, naming it, where the weights are read
    settings = info.settings
    count, largest = len(shapes), max((max(shape, default=1) for shape in shapes.values()), default=1)
    stacked = settings.get("s_layers") if settings.get("stack") else None
    depths = [settings.get(name) for name in _LAYERS] + (list(stacked) if isinstance(stacked, list) else [])
    depth = sum(d for d in depths if isinstance(d, int) and not isinstance(d, bool) and d > 0)
    if depth > max(count, 1):
        raise RunDirectoryError(f"{source}: {depth} layers cannot be what the {count} tensors of {weights.name} "
                                "hold (edited after training?)")
    for name in _WIDTHS:
        value = settings.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > max(largest, 1) and shapes:
            raise RunDirectoryError(f"{source}: {name} {value} is larger than any dimension of the tensors in "
                                    f"{weights.name} ({largest}; edited after training?)")
    try:
        with torch.device("meta"):  # the architecture without allocating it
            expected = {name: tuple(t.shape) for name, t in rebuild_forecaster(info.kind, settings).state_dict().items()}
    except (ConfigError, TypeError, ValueError) as error:
        raise RunDirectoryError(f"{source}: incomplete or inconsistent ({error})") from error
    if expected != shapes:
        differ = sorted(set(expected) ^ set(shapes)) or sorted(n for n in expected if expected[n] != shapes[n])
        raise RunDirectoryError(f"{source}: describes another model than {weights.name} holds (first difference: "
                                f"{differ[0]}); edited after training?")


def load_run(path: str | Path, *, device: str = "cpu", unchecked_weights: bool = False) -> Run:
    """Rebuild a run (of any model kind) from its directory, with no unpickling.

    Weights carry checksums of the settings they were saved with; weights without any (written
    by hand or another program) load only with ``unchecked_weights``, since nothing then shows
    that config.json still describes them.

    Raises:
        RunDirectoryError: for a missing, truncated or edited file, naming it.
    """
    path = Path(path)
    info = rundir.read_config(path)
    if not (path / "model.safetensors").exists() and not (path / "scaler.json").exists():
        if rundir.training_in_progress(path):
            raise RunDirectoryError(f"{path}: training is still in progress; its weights are written when it ends")
        if (path / RESUME_FILE).exists():
            raise RunDirectoryError(f"{path}: training stopped before it finished; continue it with "
                                    f"`resume({str(path)!r})`")
        raise RunDirectoryError(f"{path}: training never finished an epoch, so there are no weights; train it "
                                f"again with `resume({str(path)!r})`")
    _check_settings_against_weights(path, info)
    try:
        model = rebuild_forecaster(info.kind, info.settings)
    except ConfigError as error:
        raise RunDirectoryError(f"{path / 'config.json'}: incomplete or inconsistent ({error})") from error
    try:
        scaler = Scaler.from_dict(rundir.read_json(path / "scaler.json"))
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, RunDirectoryError):
            raise
        raise RunDirectoryError(f"{path / 'scaler.json'}: invalid ({error})") from error
    if list(scaler.columns) != list(info.columns):
        raise RunDirectoryError(f"{path / 'scaler.json'}: columns differ from config.json's")
    weights = path / "model.safetensors"
    safeio.check_inside(weights, path, error=RunDirectoryError)  # never another run's weights through a link
    if not weights.is_file():
        raise RunDirectoryError(f"{weights}: missing")
    try:
        model.load_state_dict(load_file(str(weights)), strict=True)
        with safe_open(str(weights), framework="pt") as handle:
            stored = handle.metadata() or {}
    except (SafetensorError, OSError, RuntimeError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RunDirectoryError(f"{weights}: corrupt or does not match config.json ({reason})") from error
    stored_digest, stored_run_digest = stored.get("settings_sha256"), stored.get("run_sha256")
    if stored_digest is None and stored_run_digest is None and not unchecked_weights:
        raise RunDirectoryError(f"{weights}: carries no checksum of the settings it was saved with, so nothing shows "
                                "config.json describes it; if you trust it, load it with `unchecked_weights=True`")
    if (stored_digest is not None and stored_digest != info.digest()) or (
            stored_run_digest is not None and stored_run_digest != info.run_digest()):
        raise RunDirectoryError(
            f"{path / 'config.json'}: edited after training (its model or data settings no longer match "
            "the weights in model.safetensors)"
        )
    metrics = rundir.read_json(path / "metrics.json") if (path / "metrics.json").exists() else {}
    placed = resolve_device(device)
    model.to(placed).eval()
    return Run(info.config, model, scaler, info.target, info.freq, metrics=metrics,
               history=rundir.read_history(path), path=path, requested_device=placed,
               data_fingerprint=info.fingerprint)
