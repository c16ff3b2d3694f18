"""The glibc settings: where large blocks come from under each, and the opt-out.

(Page-fault counts would be a poor test: besides the allocator, a kernel memory-reclaim daemon
may page out heap memory that is free and cold.)
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from informer.allocator import ENVIRONMENT, configure_allocator, reuse_freed_memory

# After a 16 MB tensor is freed, where do a new 64 MB and a new 8 MB tensor live?
PROBE = """
import sys, torch
from informer.allocator import configure_allocator
setting = configure_allocator(low_memory=sys.argv[1] == "lean") if sys.argv[1] != "default" else "default"
torch.ones(4 << 20)  # 16 MB, freed at once
large, small = torch.ones(16 << 20), torch.ones(2 << 20)
maps = [line.split() for line in open("/proc/self/maps")]
def region(tensor):
    address = tensor.data_ptr()
    for fields in maps:
        start, stop = (int(value, 16) for value in fields[0].split("-"))
        if start <= address < stop:
            return fields[-1] if len(fields) > 5 else "mmap"
print(setting, region(large), region(small))
"""


def _probe(setting: str) -> str:
    return subprocess.run([sys.executable, "-c", PROBE, setting], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc settings")
def test_where_blocks_come_from_under_each_setting():
    # glibc's default: a large block gets its own mapping, and freeing it raised the threshold,
    # so the 8 MB block came from the heap.
    assert _probe("default") == "default mmap [heap]"
    assert _probe("fast") == "fast [heap] [heap]"  # everything from the heap, kept there
    assert _probe("lean") == "lean mmap mmap"  # both mapped, so both go back when freed


def test_the_environment_can_refuse_it(monkeypatch):
    monkeypatch.setenv(ENVIRONMENT, "system")
    assert reuse_freed_memory() is False
    assert configure_allocator(low_memory=True) == "system"
