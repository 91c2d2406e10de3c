"""clvlib.memory: freed memory goes back to the system, and the call degrades where it cannot."""

import sys

import pytest

from clvlib import memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim and /proc are glibc / Linux")
def test_free_pages_held_between_live_objects_are_given_back():
    big, keep = [], []
    for _ in range(1500):  # 60 KB buffers interleaved with small live ones: freeing the big ones leaves holes
        big.append(bytearray(60 * 1024))
        keep.append(bytearray(2000))
    held = memory.resident_bytes()
    del big
    assert memory.resident_bytes() > held - 20e6  # the allocator keeps the holes (about 90 MB)
    freed = memory.release_free_memory()
    assert freed > 50e6 and memory.resident_bytes() < held - 50e6
    assert len(keep) == 1500  # the live objects are untouched


def test_without_malloc_trim_the_garbage_is_still_collected_and_none_is_returned(monkeypatch):
    monkeypatch.setattr(memory.ctypes.util, "find_library", lambda name: None)
    collected = []
    monkeypatch.setattr(memory.gc, "collect", lambda: collected.append(1) or 0)
    assert memory.release_free_memory() is None and collected == [1]
