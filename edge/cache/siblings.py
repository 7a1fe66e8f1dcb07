"""One origin fetch per edge, not per worker: a fetch lock shared by sibling worker processes, and
reads of what a sibling stored.

Each worker (``edge.workers`` > 1, :mod:`edge.workers`) has a disk tier of its own (``wN/``). Before a
worker asks the origin for an object's meta or a slice, it takes an exclusive ``flock`` on a lock file
named after it under ``fetch/`` in the shared cache directory. A sibling that missed the same thing
at the same moment waits on that lock, then finds the first worker's result in that worker's disk
tier: the meta in its index (read-only), the slice in its file. Both are complete once the lock is
released (slice files are renamed into place whole: a half file is never visible), so the second
worker answers from them and the origin sees one request. The holder removes the lock file before
releasing it; a waiter that locked a file removed meanwhile tries again on the new one. A worker
that dies releases its locks with its descriptors; a wait longer than :data:`LOCK_WAIT` seconds
gives up and fetches anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

from anyio.to_thread import run_sync

from edge.cache.disk import INDEX_FILE
from edge.cache.index import read_meta
from edge.cache.meta import ObjectMeta
from edge.cache.slicefile import read_slice, slice_name, slice_path
from edge.cache.slices import SliceId

__all__ = ["LOCK_WAIT", "Siblings"]

log = logging.getLogger("mediaedge.edge.cache")

LOCK_WAIT = 30.0  # seconds a worker waits for a sibling's fetch before fetching itself
_POLL_FIRST, _POLL_MAX = 0.002, 0.05  # seconds between attempts to take a held lock


def _try_lock(path: Path) -> int | None:
    """The descriptor of ``path`` locked exclusively, or None if a sibling holds it (or removed it)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.fstat(fd).st_ino == os.stat(path).st_ino:
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass
    os.close(fd)
    return None


class Siblings:
    """The fetch lock in ``shared`` and the sibling workers' disk tiers ``roots`` (their cache dirs)."""

    def __init__(self, shared: Path, roots: list[Path], slice_bytes: int) -> None:
        self._locks = shared
        self._roots = roots
        self._slice_bytes = slice_bytes
        shared.mkdir(parents=True, exist_ok=True)

    @contextlib.asynccontextmanager
    async def fetching(self, what: str) -> AsyncIterator[bool]:
        """Hold the lock on ``what`` across the sibling processes; yields whether this worker had to
        wait for a sibling first (then the sibling's result is worth looking for)."""
        path = self._locks / hashlib.sha256(what.encode()).hexdigest()
        deadline = time.monotonic() + LOCK_WAIT
        delay, waited = _POLL_FIRST, False
        fd = _try_lock(path)
        while fd is None and time.monotonic() < deadline:
            waited = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX)
            fd = _try_lock(path)
        if fd is None:
            log.warning("a sibling worker's fetch of %s took over %.0f s: fetching anyway", what, LOCK_WAIT)
        try:
            yield waited
        finally:
            if fd is not None:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # before unlocking: the next holder works on a new file
                os.close(fd)

    async def meta(self, key: str) -> ObjectMeta | None:
        """The newest meta a sibling's disk tier records for ``key``."""
        found = [m for m in await run_sync(self._metas, key) if m is not None]
        return max(found, key=lambda m: m.fetched_at) if found else None

    def _metas(self, key: str) -> list[ObjectMeta | None]:
        return [read_meta(root / INDEX_FILE, key) for root in self._roots]

    async def slice(self, sid: SliceId, length: int) -> bytes | None:
        """Slice ``sid`` (``length`` bytes) from a sibling's disk tier, if one stored it whole."""
        return await run_sync(self._slice, slice_name(sid, self._slice_bytes), length)

    def _slice(self, name: str, length: int) -> bytes | None:
        for root in self._roots:
            try:
                data = read_slice(slice_path(root / "slices", name))
            except (OSError, ValueError):
                continue
            if len(data) == length:
                return data
        return None
