"""The glibc setting that keeps freed memory: large tensors come from the heap, and it can be refused.

(Whether freed pages stay resident also depends on the kernel: a memory-reclaim daemon may page
out heap memory that is free and cold, so page-fault counts are not a reliable test.)
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from informer.allocator import ENVIRONMENT, reuse_freed_memory

# Prints where a freshly allocated 64 MB tensor lives: "[heap]" or an anonymous mapping.
PROBE = """
import sys, torch
from informer.allocator import reuse_freed_memory
applied = reuse_freed_memory() if sys.argv[1] == "on" else False
tensor = torch.ones(16 << 20)
address = tensor.data_ptr()
for line in open("/proc/self/maps"):
    fields = line.split()
    start, stop = (int(value, 16) for value in fields[0].split("-"))
    if start <= address < stop:
        print(applied, fields[-1] if len(fields) > 5 else "anonymous")
"""


def _where_a_large_tensor_lives(setting: str) -> str:
    return subprocess.run([sys.executable, "-c", PROBE, setting], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a glibc setting")
def test_large_tensors_come_from_the_heap_once_applied():
    assert _where_a_large_tensor_lives("off") == "False anonymous"  # glibc's default: its own mmap
    assert _where_a_large_tensor_lives("on") == "True [heap]"


def test_the_environment_can_refuse_it(monkeypatch):
    monkeypatch.setenv(ENVIRONMENT, "system")
    assert reuse_freed_memory() is False
