"""The memory tier: slice bytes in an LRU bounded by their total length.

The bound is ``max_bytes`` (``edge.memory_cache_bytes``) unless :meth:`MemoryTier.limit_to` lowers it:
the process's governor (:mod:`edge.cache.budget`) does so when what the process holds besides these
slices (connections, bytes in flight, the interpreter) would push it past its budget.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from edge.cache.slices import SliceId

__all__ = ["MemoryTier"]


class MemoryTier:
    """Slices by :data:`SliceId`; the least recently used go first once ``limit`` is exceeded."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.limit = max_bytes  # at most max_bytes; lowered by limit_to
        self._data: OrderedDict[SliceId, bytes] = OrderedDict()
        self._used = 0
        self._lookup = self._data.get
        self._touch = self._data.move_to_end

    def get(self, sid: SliceId) -> bytes | None:
        """The slice's bytes (marked most recently used), or None. The hot path: two dict operations."""
        data = self._lookup(sid)
        if data is not None:
            self._touch(sid)
        return data

    def put(self, sid: SliceId, data: bytes) -> None:
        """Keep ``data`` unless it alone exceeds the limit; evict the least recently used to fit."""
        if not 0 < len(data) <= self.limit:
            return
        old = self._data.pop(sid, None)
        if old is not None:
            self._used -= len(old)
        self._data[sid] = data
        self._used += len(data)
        self._evict()

    def limit_to(self, limit: int) -> None:
        """Hold at most ``limit`` bytes (capped at ``max_bytes``), evicting now if needed."""
        self.limit = max(0, min(limit, self.max_bytes))
        self._evict()

    def _evict(self) -> None:
        data = self._data
        while self._used > self.limit and data:
            _, old = data.popitem(last=False)
            self._used -= len(old)

    def discard(self, sid: SliceId) -> None:
        """Forget one slice if held."""
        old = self._data.pop(sid, None)
        if old is not None:
            self._used -= len(old)

    def drop(self, matches: Callable[[SliceId], bool]) -> set[str]:
        """Drop every slice ``matches`` accepts; return the object keys that lost slices."""
        doomed = [sid for sid in self._data if matches(sid)]
        for sid in doomed:
            self.discard(sid)
        return {sid[0] for sid in doomed}

    @property
    def bytes_used(self) -> int:
        return self._used

    def __len__(self) -> int:
        return len(self._data)
