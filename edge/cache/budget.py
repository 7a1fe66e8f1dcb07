"""Keep the edge process within its memory budget: ``edge.memory_cache_bytes`` + :data:`HEADROOM`.

The memory tier's slices are most of what an edge holds, but not all: every connection has buffers,
responses in flight hold slices the tier may have evicted meanwhile, reads from disk or origin hold a
slice until it is stored, and the interpreter itself takes tens of MB. :class:`Governor` measures what
the process really holds (its resident set, ``/proc/self/statm``) every :data:`INTERVAL` seconds and on
fills, and lowers the memory tier's limit by whatever the rest takes beyond :data:`HEADROOM`, raising
it again (up to the configured budget) as that goes away.

For the resident set to follow what is freed, :func:`release_freed_memory` fixes glibc's mmap
threshold: slices (1 MiB by default) are then always their own mappings, returned to the kernel as
soon as the last reference goes, instead of lingering in a heap that glibc's dynamic threshold would
otherwise move them to. Without ``/proc`` (not Linux) the governor does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import time
from collections.abc import Callable

from edge.cache.memory import MemoryTier

__all__ = ["HEADROOM", "INTERVAL", "Governor", "release_freed_memory", "resident_bytes"]

log = logging.getLogger("mediaedge.edge.cache")

#: What the process may hold besides the memory tier (interpreter, connections, bytes in flight).
HEADROOM = 64 * 1024 * 1024
INTERVAL = 0.25  # seconds between checks while serving
_MIN_RECHECK = 0.02  # seconds: fills check at most this often
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
_MMAP_THRESHOLD = 128 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_released = False


def resident_bytes() -> int | None:
    """This process's resident set in bytes, or None where ``/proc`` is missing."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


def release_freed_memory() -> None:
    """Make glibc map allocations of :data:`_MMAP_THRESHOLD` bytes and more on their own and unmap them
    when freed (a fixed threshold: glibc otherwise raises it after the first such free). Once per process."""
    global _released
    if _released:
        return
    _released = True
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)


class Governor:
    """Adjusts ``tier``'s limit so the process's resident set stays within ``tier.max_bytes`` + ``headroom``.

    ``resident`` measures the process (tests pass their own).
    """

    def __init__(
        self, tier: MemoryTier, headroom: int = HEADROOM, resident: Callable[[], int | None] = resident_bytes
    ) -> None:
        self.tier = tier
        self.headroom = headroom
        self._resident = resident
        self._checked = 0.0
        self.rss = 0  # the last measurement, for the gauges
        release_freed_memory()

    def check(self) -> None:
        """Measure the process and set the tier's limit: the budget minus what is held outside it."""
        rss = self._resident()
        self._checked = time.monotonic()
        if rss is None:
            return
        self.rss = rss
        tier = self.tier
        outside = rss - tier.bytes_used
        limit = tier.max_bytes + self.headroom - outside
        if limit < tier.limit:
            log.debug("memory tier limited to %d bytes: the process holds %d besides it", limit, outside)
        tier.limit_to(limit)

    def maybe_check(self) -> None:
        """:meth:`check`, unless one ran within the last few milliseconds (called on every fill)."""
        if time.monotonic() - self._checked >= _MIN_RECHECK:
            self.check()

    async def run(self) -> None:
        """Check every :data:`INTERVAL` seconds until cancelled."""
        while True:
            self.check()
            await asyncio.sleep(INTERVAL)
