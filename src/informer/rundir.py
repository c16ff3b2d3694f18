"""The run directory format, and the one atomic writer every file of the project goes through.

A run directory holds everything evaluate and forecast need, and nothing needs unpickling:

=====================  =====================================================================
``config.json``        the run's configuration, the model's kind and constructor settings,
                       the data's columns, target and frequency
``model.safetensors``  the weights of the best validation epoch (empty for the repeat model),
                       with a checksum of the settings that decide what they compute
``scaler.json``        the train-split mean and std of every column
``history.csv``        per epoch: train, val and test loss, learning rate, seconds
``metrics.json``       test metrics (scaled and original units), windows, epochs, seconds
``train.log``          the training log
``resume.safetensors`` while training: the state after the last finished epoch
=====================  =====================================================================
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from informer import __version__, safeio
from informer.config import RunConfig
from informer.errors import ConfigError, InformerError

FORMAT_VERSION = 1
RUN_FILES = ("config.json", "model.safetensors", "scaler.json", "history.csv", "metrics.json")
LOG_FILE = "train.log"
RESUME_FILE = "resume.safetensors"
HISTORY_FIELDS = ("epoch", "train_loss", "val_loss", "test_loss", "lr", "seconds")


class RunDirectoryError(InformerError):
    """A run directory is missing a file or holds a corrupt one."""


def atomic_write(target: str | Path, write: Callable[[Path], object], *, make_parents: bool = False) -> Path:
    """Write ``target`` through ``write(temporary path)`` in the same directory, fsync, then
    rename over ``target``: readers see the old file or the whole new one, never a part.

    Any error while writing (an ``OSError`` such as a full disk, or an error of the writer
    itself: the weights writer has its own) leaves ``target`` as it was.

    Raises:
        RunDirectoryError: when the file cannot be written (disk full, permissions), naming it.
    """
    target = Path(target)
    if target.is_dir():
        raise RunDirectoryError(f"{target}: is a directory; give a file name")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        if tmp.is_symlink():  # a link planted under the temporary name must not be written through
            tmp.unlink()
        if make_parents:
            target.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        _sync_directory(target.parent)
    except Exception as error:
        tmp.unlink(missing_ok=True)
        raise RunDirectoryError(f"{target}: cannot write ({_write_failure(error, target.parent)})") from error
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _write_failure(error: Exception, folder: Path) -> str:
    """Why a write failed, in a few words: the disk being full first, whoever reported it."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return "disk full: free some space and run the command again"
    if isinstance(error, OSError) and error.errno == errno.EFBIG:
        return "file too large for this file system or the process's file size limit"
    try:
        full = shutil.disk_usage(folder).free == 0
    except OSError:
        full = False
    if full:  # the weights writer reports a full disk in its own words
        return "disk full: free some space and run the command again"
    if isinstance(error, OSError):
        return str(error.strerror or error)
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _sync_directory(path: Path) -> None:
    """Make a rename durable: fsync the directory that holds the new name (POSIX only)."""
    if os.name != "posix":
        return
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    except OSError as error:
        if error.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):  # file systems that cannot sync a folder
            raise
    finally:
        os.close(handle)


def write_text(target: str | Path, text: str, *, make_parents: bool = False) -> Path:
    return atomic_write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"), make_parents=make_parents)


def plain_json(value: Any) -> Any:
    """NaN and infinities become null: JSON has no spelling for them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_json(v) for v in value]
    return value


def write_json(target: str | Path, payload: Any, *, make_parents: bool = False) -> Path:
    return write_text(target, json.dumps(plain_json(payload), indent=2) + "\n", make_parents=make_parents)


def read_json(path: Path) -> dict[str, Any]:
    """Read a JSON file of a run directory: a JSON object, read within the bounds of
    :mod:`informer.safeio` (a regular file of the directory itself, at most
    :data:`~informer.safeio.CONFIG_LIMIT` bytes, nested at most :data:`~informer.safeio.NESTING_LIMIT`).

    Raises:
        RunDirectoryError: naming the file when it is missing, unreadable, not a regular file, a
            link out of its directory, too large, not JSON or not a JSON object.
    """
    try:
        safeio.check_inside(path, path.parent, error=RunDirectoryError)
        value = safeio.read_json(path, limit=safeio.CONFIG_LIMIT, error=RunDirectoryError)
    except FileNotFoundError:
        raise RunDirectoryError(f"{path}: missing; is {path.parent} a run directory made by informer train?") from None
    if not isinstance(value, dict):
        raise RunDirectoryError(f"{path}: not a JSON object but {type(value).__name__}; not a file informer wrote")
    return value


@dataclass(frozen=True)
class RunInfo:
    """What ``config.json`` says: the configuration, the model's settings and the data's shape."""

    config: RunConfig
    settings: dict[str, Any]
    columns: tuple[str, ...]
    target: str
    freq: str
    fingerprint: dict | None = None  # of the data it trained on (PreparedData.fingerprint); None before 0.8

    @property
    def kind(self) -> str:
        return self.config.model.kind

    def digest(self) -> str:
        """A checksum of everything that decides what the weights compute.

        Stored with the weights, it lets a loader notice a config.json edited after training
        (another attention, other lengths...) instead of silently computing something else.
        Informer runs leave the kind out, so that runs saved before there were other kinds load."""
        decisive = {"model": self.settings, "columns": list(self.columns), "target": self.target,
                    "freq": self.freq, "features": self.config.data.features}
        if self.kind != "informer":
            decisive["kind"] = self.kind
        return hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()

    def run_digest(self) -> str:
        """:meth:`digest`, and everything else of config.json that changes what a forecast
        computes: the time features' frequency and the data's layout settings (stored from 0.8 on
        as ``run_sha256``, beside the older checksum)."""
        d = self.config.data
        decisive = {"settings": self.digest(), "time_freq": d.time_freq, "seq_len": d.seq_len,
                    "label_len": d.label_len, "pred_len": d.pred_len, "date_col": d.date_col}
        return hashlib.sha256(json.dumps(decisive, sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "informer_version": __version__,
            "config": self.config.to_dict(),
            "model": self.settings,
            "data": {"columns": list(self.columns), "target": self.target, "freq": self.freq,
                     **({"fingerprint": self.fingerprint} if self.fingerprint else {})},
        }


def write_config(path: Path, info: RunInfo) -> None:
    write_json(path / "config.json", info.to_dict())


def read_config(path: Path) -> RunInfo:
    """Read ``config.json`` of the run directory ``path``: the one reader of that file.

    Raises:
        RunDirectoryError: if ``path`` is not a run directory or the file is missing or damaged.
    """
    if not path.is_dir():
        raise RunDirectoryError(f"{path}: not a run directory")
    source = path / "config.json"
    info = read_json(source)
    try:
        config = RunConfig.from_dict(info["config"], source=str(source), saved=True)
        data = info["data"]
        fingerprint = data.get("fingerprint")
        if fingerprint is not None and not isinstance(fingerprint, dict):
            raise TypeError("data.fingerprint must be a table")
        return RunInfo(config, dict(info["model"]), tuple(data["columns"]), data["target"], data["freq"],
                       fingerprint)
    except ConfigError as error:
        raise RunDirectoryError(f"{source}: inconsistent ({error})") from error
    except (KeyError, TypeError, ValueError, AttributeError) as error:  # AttributeError: a list where a table belongs
        raise RunDirectoryError(f"{source}: incomplete or inconsistent ({error})") from error


def history_csv(history: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: row[k] for k in HISTORY_FIELDS} for row in history)
    return buffer.getvalue()


def read_history(path: Path) -> list[dict]:
    """The rows of ``history.csv`` (as strings), or none when the file is absent; read within the
    bounds of :mod:`informer.safeio` (at most :data:`~informer.safeio.HISTORY_LIMIT` bytes, UTF-8).

    Raises:
        RunDirectoryError: naming the file when it is not a regular file of the run directory, too
            large, not UTF-8 or not CSV.
    """
    source = path / "history.csv"
    if not os.path.lexists(source):
        return []
    try:
        safeio.check_inside(source, path, error=RunDirectoryError)
        text = safeio.read_text(source, limit=safeio.HISTORY_LIMIT, kind="CSV", error=RunDirectoryError)
        return [dict(row) for row in csv.DictReader(io.StringIO(text, newline=""))]
    except FileNotFoundError:
        return []
    except csv.Error as error:
        raise RunDirectoryError(f"{source}: invalid CSV ({error}); not a file informer wrote") from error


def default_run_name(config: RunConfig) -> str:
    """A readable directory name: data, features, lengths, model and a timestamp."""
    d, m = config.data, config.model
    stem = Path(d.data).stem.replace(" ", "_") or "data"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    model = m.attn if m.kind == "informer" else m.kind
    return f"{stem}_{d.features}_sl{d.seq_len}_ll{d.label_len}_pl{d.pred_len}_{model}_{stamp}"


def check_output_dir(path: Path, *, overwrite: bool) -> None:
    """Refuse an existing run directory (unless ``overwrite``) or an unwritable parent, early.

    Raises:
        ConfigError: naming the directory and the way out.
    """
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: exists and is not a directory")
    if path.exists() and any(path.iterdir()) and not overwrite:
        raise ConfigError(f"{path}: run directory exists; pass `overwrite` or choose another `out`")
    parent = path if path.exists() else next((p for p in path.parents if p.exists()), Path("."))
    if not parent.is_dir():
        raise ConfigError(f"{path}: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK):
        raise ConfigError(f"{path}: cannot write there (no permission on {parent})")


def check_free_space(path: Path, needed_bytes: int) -> None:
    """Refuse to start when the disk clearly cannot hold the run's files.

    Raises:
        ConfigError: with the free and the needed space.
    """
    parent = next((p for p in (path, *path.parents) if p.exists()), Path("."))
    free = shutil.disk_usage(parent).free
    if free < needed_bytes:
        raise ConfigError(f"{path}: only {free / 1e6:.0f} MB free on that disk; the run needs about "
                          f"{needed_bytes / 1e6:.0f} MB")


LOCK_FILE = ".training.lock"


def create(path: Path) -> bool:
    """Create ``path`` if needed; True if the directory is new.

    Raises:
        RunDirectoryError: if it cannot be created.
    """
    created = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise RunDirectoryError(f"{path}: cannot create the run directory ({error.strerror or error})") from error
    return created


def clear(path: Path) -> None:
    """Remove an earlier run's files from ``path`` (other files stay)."""
    for name in (*RUN_FILES, LOG_FILE, RESUME_FILE):
        (path / name).unlink(missing_ok=True)


class TrainingLock:
    """An exclusive lock on a run directory while a training writes to it (POSIX ``flock``;
    released by the kernel when the process dies, so a killed run never leaves it held).

    Raises:
        RunDirectoryError: on entering, if another process holds it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path / LOCK_FILE
        self.handle = None

    def __enter__(self) -> "TrainingLock":
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            return self
        self.handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            self.handle = None
            raise RunDirectoryError(f"{self.path.parent}: another training is writing to this run directory; "
                                    "wait for it to finish or stop it first") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.handle is not None:
            self.path.unlink(missing_ok=True)
            self.handle.close()


def training_in_progress(path: Path) -> bool:
    """Whether a training holds ``path``'s lock right now."""
    if not (path / LOCK_FILE).exists():
        return False
    try:
        with TrainingLock(path):
            return False
    except RunDirectoryError:
        return True


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def holds_run(path: Path) -> bool:
    """Whether ``path`` holds a finished run (its weights or its scaler)."""
    return (path / "model.safetensors").exists() or (path / "scaler.json").exists()


def replace_directory(new: Path, old: Path) -> None:
    """Put the directory ``new`` in ``old``'s place: ``old`` moves aside, ``new`` moves in, then
    ``old`` is removed. Each step is one rename, so a crash leaves one whole run at ``old``'s name
    (the new one, or the old one with the new one beside it), never a mix.

    Raises:
        RunDirectoryError: if the renames fail; ``old`` is then as it was.
    """
    aside = old.with_name(f".{old.name}.replaced-{os.getpid()}")
    try:
        os.replace(old, aside)
    except OSError as error:
        raise RunDirectoryError(f"{old}: cannot move the old run aside ({error.strerror or error})") from error
    try:
        os.replace(new, old)
    except OSError as error:
        os.replace(aside, old)
        raise RunDirectoryError(f"{old}: cannot move the new run in ({error.strerror or error}); it is in {new}"
                                ) from error
    _sync_directory(old.parent)
    shutil.rmtree(aside, ignore_errors=True)
