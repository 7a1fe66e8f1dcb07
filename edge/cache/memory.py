"""The memory tier: slice bytes in an LRU bounded by their total length."""

from __future__ import annotations

from collections.abc import Callable

from cachetools import LRUCache

from edge.cache.slices import SliceId

__all__ = ["MemoryTier"]


class MemoryTier:
    """Slices by :data:`SliceId`; the least recently used go first once ``max_bytes`` is exceeded."""

    def __init__(self, max_bytes: int) -> None:
        self._lru: LRUCache[SliceId, bytes] = LRUCache(maxsize=max_bytes, getsizeof=len)
        self.get = self._lru.get  # the hot path: one dict lookup plus an LRU touch

    def put(self, sid: SliceId, data: bytes) -> None:
        """Keep ``data`` unless it alone exceeds the budget."""
        if 0 < len(data) <= self._lru.maxsize:
            self._lru[sid] = data

    def discard(self, sid: SliceId) -> None:
        """Forget one slice if held."""
        self._lru.pop(sid, None)

    def drop(self, matches: Callable[[SliceId], bool]) -> set[str]:
        """Drop every slice ``matches`` accepts; return the object keys that lost slices."""
        doomed = [sid for sid in self._lru if matches(sid)]
        for sid in doomed:
            del self._lru[sid]
        return {sid[0] for sid in doomed}

    @property
    def bytes_used(self) -> int:
        return int(self._lru.currsize)
