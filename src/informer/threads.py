"""How many threads torch computes with: the cores this process may use, or what the user said.

:func:`informer.configure` and the ``informer`` commands both set it through
:func:`configure_threads`. Torch is imported only when the threads are set, so that importing
this module (as the command line does before parsing) stays quick.
"""

from __future__ import annotations

import os

from informer.config import MAX_THREADS
from informer.errors import ConfigError


def available_cores() -> int:
    """The cores this process may run on (its scheduler affinity), shared among the processes
    torchrun started on this machine."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    return max(1, cores // max(1, local_processes))


def configure_threads(threads: int | None) -> int:
    """Set torch's intra-op threads: ``threads``, else what OMP_NUM_THREADS says (torch reads it),
    else the cores this process may use."""
    import torch

    if threads is not None and not 0 < threads <= MAX_THREADS:
        raise ConfigError(f"threads must be from 1 to {MAX_THREADS}, got {threads!r}")
    count = threads or (torch.get_num_threads() if os.environ.get("OMP_NUM_THREADS") else available_cores())
    torch.set_num_threads(count)
    return count
