"""The C allocator set for streaming large inputs: buffers of a few megabytes reused, not mapped afresh.

Reading a large export allocates and frees, block after block, the same few buffers of 1 to 10 MB (each
block's bytes, numpy's temporaries, the converted columns); so does auditing it, bucket after bucket. glibc
serves an allocation above its mmap threshold (128 KiB, raised on the fly to at most 32 MiB, and per thread
arena not at all) with a fresh mapping that the kernel zeroes page by page and that is unmapped again on
free: measured on 10 M GPS fixes, 1.6–1.8 s of system time and ~0.8 s of user time of a ~10 s load went to
page faults and zeroing, and 1.6 M page faults (4.4 s of system time) to a 10 s audit. With the threshold
fixed at 32 MiB and memory trimmed back to the system only beyond 64 MiB of free space at the top of the
heap, those buffers are reused: load system time 1.0 s; audit 1.6 M → 0.2 M faults, 10.2–10.6 → 9.1–9.3 s.

Those thresholds hold in every arena, and glibc gives each new thread an arena of its own (up to eight per
core): each arena then keeps the freed memory of its own peak, and the peaks of the metrics' two workers
added up (qmatic, 5 M tickets: 874 MB instead of 644 MB). So the process keeps one arena
(``single_arena``, on importing ``auditor``: a thread keeps the arena it was given, and importing pyarrow
starts one), whose peak is the workers' peak together, which the runner keeps apart: 10 M fixes 825–840 MB
(770–785 MB with glibc's defaults, 930 MB with an arena per thread).

Only glibc has ``mallopt``; elsewhere (macOS, musl, Windows) this does nothing, and so it does for a setting
the user made in glibc's own ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` or ``MALLOC_ARENA_MAX``.
Only while a read or an audit runs (``streaming``): afterwards glibc's thresholds are put back and the free
memory returned.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
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
    libc = _glibc()
    if not _done or libc is None:
        return
    libc.mallopt(M_MMAP_THRESHOLD, DEFAULT_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_THRESHOLD)
    _trim(libc)
    _done = False


def tune_for_streaming() -> bool:
    """Fix glibc's mmap and trim thresholds (once); True if they are set."""
    global _done
    with _lock:
        if _done:
            return True
        if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
            return False
        libc = _glibc()
        if libc is None:
            return False
        _done = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
        return _done


def single_arena() -> None:
    """One malloc arena for every thread started from now on (see above); nothing outside glibc, nothing when
    the user set ``MALLOC_ARENA_MAX``."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_ARENA_MAX, 1)


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (its ``mallopt`` typed), else None."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION"):
            return None
        libc = ctypes.CDLL(None)
        libc.mallopt.argtypes, libc.mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    except (AttributeError, OSError, ValueError):
        return None
    return libc


def _trim(libc: ctypes.CDLL) -> None:
    """glibc's free memory returned to the system, wherever it lies in the heap."""
    libc.malloc_trim.argtypes = (ctypes.c_size_t,)
    libc.malloc_trim(0)
