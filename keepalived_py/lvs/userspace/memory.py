"""Handing memory back after a connection storm, so a burst of clients leaves no lasting mark.

A storm of thousands of connections grows what the dataplane's own tables (sets, dicts),
the allocators and caches hold; once the connections are gone most of it is free but still
the process's. Python's dicts and sets never shrink when emptied, glibc keeps freed heap
pages until something trims them, and cycles wait for the collector. `StormTracker` notices
a storm that ended (enough connections since the last clean-up, and few still open or
lingering: `QUIET`, so one long-lived client does not keep a clean-up away for ever); the
port then makes its emptied tables again and `release()` runs a full collection and glibc's
malloc_trim(0): once per storm, from the once-a-second sweep, never on the connection path.

What stays (measured in tests/integration/test_dataplane_leaks.py): pymalloc arenas that
still hold one live object each (Python cannot move objects to free an arena), and uvloop's
module-level cache of 2,048 converted UDP peer addresses (bounded, not ours to clear).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable

#: connections (TCP) and sessions (UDP) since the last clean-up that make it worth one
STORM = 1024
#: at most this many connections open or lingering: the storm is over
QUIET = 64


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None elsewhere (musl, other libcs have none)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_trim = _malloc_trim()


def release() -> None:
    """Collect cycles, then give glibc's free heap pages back to the system."""
    gc.collect()
    if _trim is not None:
        _trim(0)


class StormTracker:
    """Decides when a storm ended: pure, fed the running connection count and how many are
    open or lingering now."""

    def __init__(self, storm: int = STORM, quiet: int = QUIET) -> None:
        self.storm = storm
        self.quiet = quiet
        self.mark = 0              # the connection total at the last clean-up
        self.released = 0          # how many clean-ups ran (tests wait on it)

    def ended(self, total: int, open_now: int) -> bool:
        """True once per storm: `total` (a running count of connections, never going back)
        moved by `storm` since the last clean-up and at most `quiet` are open now."""
        if open_now > self.quiet or total - self.mark < self.storm:
            return False
        self.mark = total
        self.released += 1
        return True
