"""clvlib.memory: freed memory goes back to the system, and the call degrades where it cannot."""

import subprocess
import sys

import pytest

from clvlib import memory


#: Run in a fresh interpreter, whose heap is the same every time (inside the suite, earlier tests change
#: how glibc trims): 60 KB buffers interleaved with small live ones, so freeing the big ones leaves holes
#: the allocator keeps until it is asked to give them back.
FRAGMENTED = """
from clvlib import memory
big, keep = [], []
for _ in range(1500):
    big.append(bytearray(60 * 1024))
    keep.append(bytearray(2000))
held = memory.resident_bytes()
del big
kept = memory.resident_bytes()
freed = memory.release_free_memory()
print(held, kept, freed, memory.resident_bytes(), len(keep))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim and /proc are glibc / Linux")
def test_free_pages_held_between_live_objects_are_given_back():
    out = subprocess.run([sys.executable, "-c", FRAGMENTED], capture_output=True, text=True, check=True)
    held, kept, freed, after, live = map(int, out.stdout.split())
    assert kept > held - 20e6  # the allocator keeps the holes (about 90 MB)
    assert freed > 50e6 and after < held - 50e6  # and gives them back when asked
    assert live == 1500  # the live objects are untouched


def test_without_malloc_trim_the_garbage_is_still_collected_and_none_is_returned(monkeypatch):
    monkeypatch.setattr(memory.ctypes.util, "find_library", lambda name: None)
    collected = []
    monkeypatch.setattr(memory.gc, "collect", lambda: collected.append(1) or 0)
    assert memory.release_free_memory() is None and collected == [1]
