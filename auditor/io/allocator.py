"""The C allocator set for streaming large inputs: buffers of a few megabytes reused, not mapped afresh.

Reading a large export allocates and frees, block after block, the same few buffers of 1 to 10 MB (each
block's bytes, numpy's temporaries, the converted columns). glibc serves an allocation above its mmap
threshold (128 KiB, raised on the fly to at most 32 MiB, and per thread arena not at all) with a fresh
mapping that the kernel zeroes page by page and that is unmapped again on free: measured on 10 M GPS fixes,
1.6–1.8 s of system time and ~0.8 s of user time of a ~10 s load went to page faults and zeroing. With the
threshold fixed at 32 MiB and memory trimmed back to the system only beyond 64 MiB of free space at the top
of the heap, those buffers are reused (system time 1.0 s; peak resident memory unchanged, within a few MB).

Only glibc has ``mallopt``; elsewhere (macOS, musl, Windows) this does nothing, and so it does when the
user set glibc's own ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_``. Only while a read runs
(``streaming``): afterwards the metrics' threads each have an arena, and with those thresholds each arena kept
its freed memory (qmatic, 5 M tickets: 874 MB peak instead of 644 MB), so glibc's defaults are put back and the
free memory returned.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 64 << 20
#: glibc's starting values, put back after a read (fixed: the dynamic mmap threshold does not come back).
DEFAULT_THRESHOLD = 128 << 10

_lock = threading.Lock()
_done = False
_depth = 0


@contextmanager
def streaming() -> Iterator[None]:
    """The thresholds set for the duration of a read (reads may nest or run side by side)."""
    global _depth
    tune_for_streaming()
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _restore()


def _restore() -> None:
    """glibc's thresholds back, and the free memory at the top of each arena returned (lock held)."""
    global _done
    if not _done:
        return
    libc = ctypes.CDLL(None)
    libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    libc.mallopt(M_MMAP_THRESHOLD, DEFAULT_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_THRESHOLD)
    libc.malloc_trim.argtypes = (ctypes.c_size_t,)
    libc.malloc_trim(0)
    _done = False


def tune_for_streaming() -> bool:
    """Fix glibc's mmap and trim thresholds (once); True if they are set."""
    global _done
    with _lock:
        if _done:
            return True
        if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
            return False
        try:
            if not os.confstr("CS_GNU_LIBC_VERSION"):
                return False
            mallopt = ctypes.CDLL(None).mallopt
        except (AttributeError, OSError, ValueError):
            return False
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        mallopt.restype = ctypes.c_int
        _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        return _done
