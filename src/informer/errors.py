"""The project's error types.

Every problem with a user's input (a file, a column, a flag, a config value) is raised as an
:class:`InformerError`, a ``ValueError`` subclass whose message is one line that names the
file, column or row at fault and, where it can, how to fix it. The CLI turns these into a
message on stderr and exit code 2; Python callers can catch them as ``ValueError``.
"""

from __future__ import annotations


class InformerError(ValueError):
    """Base class of every user-facing error: bad input, never a bug."""


class DataError(InformerError):
    """A data file cannot be used as asked (missing, unreadable, malformed, too short)."""


class ConfigError(InformerError):
    """A configuration value is unknown, out of range or inconsistent with another."""


class NonFiniteLossError(InformerError):
    """The training loss became NaN or infinite (the CLI exits with code 3)."""
