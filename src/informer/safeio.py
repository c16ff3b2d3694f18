"""Bounded reading of the small files the program is given: config files and run-directory files.

A path named by a config or found in a run directory can be anything: a named pipe that never
sends a byte, a device that never ends (``/dev/zero``), a directory, a file of gigabytes, bytes
that are not UTF-8, JSON nested deeper than Python's stack, or a symbolic link to another run's
files. The readers here refuse each case before it costs time or memory, with one line that
names the file:

- only regular files are read: the type is checked with ``stat`` before opening, the file is
  opened non-blocking (a pipe swapped in meanwhile cannot block) and checked again once open;
- at most ``limit`` bytes are read (:data:`CONFIG_LIMIT`, :data:`HISTORY_LIMIT`);
- text must be UTF-8;
- JSON and TOML may nest at most :data:`NESTING_LIMIT` levels;
- :func:`check_inside` refuses a file that is a link out of its directory.

Every function raises the error class its caller passes (``error``), so a config file's problem
is a :class:`~informer.errors.ConfigError` and a run directory's a ``RunDirectoryError``. A file
that does not exist raises :class:`FileNotFoundError`: callers say what a missing file means.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from informer.errors import InformerError

MIB = 1024 * 1024
CONFIG_LIMIT = 16 * MIB  # a TOML config, config.json, scaler.json, metrics.json: kilobytes when written by informer
HISTORY_LIMIT = 64 * MIB  # history.csv: about 100 bytes per epoch
DATA_LIMIT = 4 * 1024 * MIB  # a data file: pandas needs a few times its size in memory
NESTING_LIMIT = 64  # levels of lists and tables; the files informer writes nest 4 deep

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def _refuse_special(path: Path, mode: int, error: type[InformerError]) -> None:
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        raise error(f"{path}: is {kind}, not a regular file; informer reads regular files only")


def read_bytes(path: str | Path, *, limit: int, error: type[InformerError] = InformerError) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        InformerError: (of class ``error``) for a directory, pipe, device or socket, a file
            larger than ``limit`` bytes, or one that cannot be read, naming it.
    """
    path = Path(path)
    try:
        _refuse_special(path, os.stat(path).st_mode, error)  # before opening: opening a device can block
        descriptor = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:
        raise
    except OSError as failure:
        raise error(f"{path}: cannot read ({failure.strerror or failure})") from None
    with os.fdopen(descriptor, "rb") as handle:
        try:
            status = os.fstat(descriptor)
            _refuse_special(path, status.st_mode, error)  # replaced by a pipe since the first look
            if status.st_size > limit:
                raise error(f"{path}: too large ({_size(status.st_size)}; a file of this kind may have at most "
                            f"{_size(limit)})")
            data = handle.read(status.st_size + 1)  # one more byte: notice a file that grows as we read
            if len(data) > status.st_size:
                data += handle.read(limit + 1 - len(data))
        except OSError as failure:
            raise error(f"{path}: cannot read ({failure.strerror or failure})") from None
    if len(data) > limit:  # it grew while we read
        raise error(f"{path}: too large (a file of this kind may have at most {_size(limit)})")
    return data


def _size(count: int) -> str:
    return f"{count / MIB:.1f} MiB" if count >= MIB else f"{count} bytes"


def read_text(path: str | Path, *, limit: int, kind: str, error: type[InformerError] = InformerError) -> str:
    """The UTF-8 text of the regular file ``path`` (``kind`` names the format in messages: "CSV").

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        InformerError: (of class ``error``) as :func:`read_bytes`, and for bytes that are not UTF-8.
    """
    data = read_bytes(path, limit=limit, error=error)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as failure:
        raise error(f"{path}: invalid {kind}: not UTF-8 text (byte {failure.start}); save it as UTF-8") from None


def too_deep(value: Any, limit: int = NESTING_LIMIT) -> bool:
    """Whether lists and dicts in ``value`` nest more than ``limit`` levels (checked without recursion)."""
    pending = [(value, 1)] if isinstance(value, (dict, list)) else []
    while pending:
        item, level = pending.pop()
        if level > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return False


def parse_json(text: str, *, where: str | Path, error: type[InformerError] = InformerError) -> Any:
    """``text`` as JSON, nested at most :data:`NESTING_LIMIT` levels; ``where`` names it in messages.

    Raises:
        InformerError: (of class ``error``) for text that is not JSON or nests too deeply.
    """
    try:
        value = json.loads(text)
    except RecursionError:  # nested past Python's stack
        value, deep = None, True
    except ValueError as failure:  # JSONDecodeError, and integers of more than 4300 digits
        detail = str(failure).splitlines()[0][:200] if str(failure) else type(failure).__name__
        raise error(f"{where}: unreadable or not valid JSON ({detail})") from None
    else:
        deep = too_deep(value)
    if deep:
        raise error(f"{where}: JSON nested more than {NESTING_LIMIT} levels deep; not a file informer wrote")
    return value


def read_json(path: str | Path, *, limit: int = CONFIG_LIMIT, error: type[InformerError] = InformerError) -> Any:
    """The JSON value in the regular file ``path``: bounded in size, UTF-8, bounded in nesting.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        InformerError: (of class ``error``) as :func:`read_text` and :func:`parse_json`.
    """
    path = Path(path)
    data = read_bytes(path, limit=limit, error=error)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as failure:
        raise error(f"{path}: unreadable or not valid JSON (not UTF-8 text: byte {failure.start})") from None
    return parse_json(text, where=path, error=error)


def check_inside(path: str | Path, directory: str | Path, *, error: type[InformerError] = InformerError) -> None:
    """Refuse ``path`` when it is (or passes through) a symbolic link that leads out of ``directory``:
    a run directory's files are its own, never another run's or another user's.

    Raises:
        InformerError: (of class ``error``) naming the link and where it leads.
    """
    target = Path(os.path.realpath(path))
    home = Path(os.path.realpath(directory))
    if target != home and home not in target.parents:
        raise error(f"{path}: a symbolic link to {target}, outside the run directory {directory}; copy the file "
                    "into the run directory instead")
