"""How the C allocator hands memory to tensors.

glibc's ``malloc`` serves large blocks (above a threshold that starts at 128 kB and moves with
use, up to 32 MB) with a fresh ``mmap`` and returns them to the kernel on ``free``, and it gives
the top of its heap back once enough of it is free. PyTorch on the CPU allocates and frees
tensors of the same sizes at every step, so their pages are faulted in and zeroed by the kernel
again and again. The settings, applied with ``mallopt``:

* ``"reuse"`` (the default of the ``informer`` commands): blocks up to 32 MB (every tensor of
  the default model) come from the heap and the heap is never trimmed below 2 GiB of free top;
  larger blocks are still mapped and returned. Peak memory as with glibc's defaults (4.4 GB for
  a 720/336/720 bf16 step either way), steps faster: that step 10.2 -> 8.7 s, default fp32 step
  1.10 -> 1.06 s on a 2-core machine (docs/performance.md).
* ``"heap"`` (``INFORMER_MALLOC=heap``): every block comes from the heap and stays there. The
  fastest for long inputs (that step 6.5 s) but the heap fragments, so peak memory grows (7.0 GB
  for that step; a 1440/720/720 fp32 step with full attention, 20.8 GB otherwise, no longer
  fitted in 24 GiB). For long inputs on a machine with memory to spare.
* ``"lean"`` (with ``--checkpoint-activations``, which asks for low memory): a fixed 1 MB
  threshold, so every block from 1 MB up goes back to the kernel when freed: resident memory
  follows the live tensors, at the cost of the page faults.
* ``"system"`` (``INFORMER_MALLOC=system``): glibc's defaults, untouched.

``INFORMER_MALLOC`` (``reuse``, ``heap``, ``lean`` or ``system``) overrides the choice. Only glibc
(Linux) has these settings; elsewhere nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys

from informer.errors import ConfigError

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_LARGEST_INT = 2**31 - 1  # mallopt takes an int: about 2 GiB
_MMAP_DEFAULT_MAX = 1 << 16  # glibc's default M_MMAP_MAX

SETTINGS = {
    "reuse": ((_M_MMAP_MAX, _MMAP_DEFAULT_MAX), (_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, _LARGEST_INT)),
    "heap": ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, _LARGEST_INT)),
    "lean": ((_M_MMAP_MAX, _MMAP_DEFAULT_MAX), (_M_MMAP_THRESHOLD, 1 << 20)),
}

ENVIRONMENT = "INFORMER_MALLOC"


def _mallopt(settings: tuple[tuple[int, int], ...]) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    accepted = [bool(mallopt(option, value)) for option, value in settings]  # apply every one
    return all(accepted)


def configure_allocator(*, low_memory: bool = False) -> str:
    """Apply ``"lean"`` when ``low_memory``, else ``"reuse"``, unless ``INFORMER_MALLOC`` names
    another setting (module docstring). Process-wide, from now on.

    Returns:
        The setting in force; ``"system"`` when none was (or could be) applied.

    Raises:
        ConfigError: if ``INFORMER_MALLOC`` names no setting.
    """
    chosen = os.environ.get(ENVIRONMENT, "").strip().lower() or ("lean" if low_memory else "reuse")
    if chosen != "system" and chosen not in SETTINGS:
        raise ConfigError(f"{ENVIRONMENT}={chosen!r}: expected one of reuse, heap, lean, system")
    if chosen == "system" or not _mallopt(SETTINGS[chosen]):
        return "system"
    log.debug("memory allocator: %s", chosen)
    return chosen
