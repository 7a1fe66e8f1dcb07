"""What both lookup policies share: the slice store behind them and single-flight lookups.

A policy (:mod:`edge.cache.objects`, :mod:`edge.cache.pull`) decides what a key's current meta is;
everything else (byte reads, counters, start and close, purges) is the :class:`SliceStore`'s.
Concurrent lookups of a key share one :class:`~edge.singleflight.Answer`: one request behind them,
run in a task of its own, answered as soon as the meta is known (its bytes may still be arriving).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from edge.cache.errors import ObjectNotFound
from edge.cache.meta import ObjectMeta
from edge.cache.store import SliceStore, closed, matcher
from edge.singleflight import Answer, SingleFlight
from mediaedge.errors import HTTPError

__all__ = ["CacheFront", "LookupResult"]

#: A meta and how the lookup obtained it (``"hit"``, ``"miss"``, ...).
LookupResult = tuple[ObjectMeta, str]


class CacheFront:
    """A lookup policy in front of ``store``; ``clock`` (wall-clock seconds) is for tests."""

    def __init__(self, store: SliceStore, clock: Callable[[], float]) -> None:
        self.store = store
        self.stats = store.stats
        self.start, self.close, self.join = store.start, store.close, store.join
        self.read, self.read_fast, self.read_held = store.read, store.read_fast, store.read_held  # no extra call
        self.open_fast = store.open_fast
        self.histogram, self.bytes_cached, self.tiers = store.histogram, store.bytes_cached, store.tiers
        self._clock = clock
        self._lookups: SingleFlight[str, Answer[LookupResult]] = SingleFlight(store.tasks, closed)

    async def purge(self, key: str, prefix: bool = False) -> int:
        """Forget ``key`` (or every key starting with ``key``) in every tier; return how many objects
        were cached. Lookups under way still answer their waiters; new lookups start afresh."""
        self._lookups.forget(matcher(key, prefix))
        return await self.store.purge(key, prefix)

    async def _wait(
        self, answer: Answer[LookupResult], on_note: Callable[[Any], Awaitable[None]] | None = None
    ) -> LookupResult:
        """A shared lookup's result (``on_note``: see :meth:`Answer.wait`); an error is counted
        (``lookup.not_found``, ``lookup.error``)."""
        try:
            return await answer.wait(on_note)
        except HTTPError as exc:
            self.stats["lookup.not_found" if isinstance(exc, ObjectNotFound) else "lookup.error"] += 1
            raise
