"""The glibc settings: where blocks come from under each, and the environment's override.

(Page-fault counts would be a poor test: besides the allocator, a kernel memory-reclaim daemon
may page out heap memory that is free and cold.)
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from informer.allocator import ENVIRONMENT, configure_allocator
from informer.errors import ConfigError

# In a fresh process: where do a 64 MB and an 8 MB tensor live, and, after a 16 MB tensor is
# freed, a second 8 MB one? "heap" or "mmap" (a mapping of its own, returned when freed).
PROBE = """
import sys, torch
from informer.allocator import configure_allocator
setting = "default" if sys.argv[1] == "default" else configure_allocator(low_memory=sys.argv[1] == "low")
def region(tensor):
    address = tensor.data_ptr()
    for line in open("/proc/self/maps"):
        fields = line.split()
        start, stop = (int(value, 16) for value in fields[0].split("-"))
        if start <= address < stop:
            return "heap" if fields[-1] == "[heap]" else "mmap"
large, small = torch.ones(16 << 20), torch.ones(2 << 20)
torch.ones(4 << 20)  # 16 MB, freed at once
again = torch.ones(2 << 20)
print(setting, region(large), region(small), region(again))
"""


def _probe(argument: str, malloc: str | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if k != ENVIRONMENT}
    if malloc:
        env[ENVIRONMENT] = malloc
    return subprocess.run([sys.executable, "-c", PROBE, argument], capture_output=True, text=True,
                          check=True, env=env).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc settings")
def test_where_blocks_come_from_under_each_setting():
    # glibc's default: both mapped at first; freeing a 16 MB block raises its threshold.
    assert _probe("default") == "default mmap mmap heap"
    assert _probe("normal") == "reuse mmap heap heap"  # up to 32 MB from the heap
    assert _probe("low") == "lean mmap mmap mmap"  # from 1 MB up mapped, so returned when freed
    assert _probe("low", malloc="heap") == "heap heap heap heap"  # the environment wins
    assert _probe("normal", malloc="system") == "system mmap mmap heap"


def test_an_unknown_setting_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv(ENVIRONMENT, "turbo")
    with pytest.raises(ConfigError, match="INFORMER_MALLOC='turbo': expected one of reuse, heap, lean, system"):
        configure_allocator()
