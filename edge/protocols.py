"""The interfaces the edge consumes from its cache layer (:mod:`edge.cache` implements them).

:class:`Cache` is what every cache offers: lifespan, counters, purges and byte reads.
:class:`ObjectCache` (:class:`edge.cache.EdgeCache`) adds the default zone's lookup of an origin
object; :class:`ZoneCache` (:class:`edge.cache.PullCache`) a pull zone's RFC 9111 lookup of a request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, BinaryIO, Protocol

from edge.cache import ObjectMeta
from edge.cache.http11 import HintSink
from edge.freshness import ClientRequest


class Slices(Protocol):
    """Byte ranges of exactly one version of an object (from memory without I/O when possible)."""

    def read(self, meta: ObjectMeta, start: int, end: int) -> AsyncIterator[bytes]: ...

    def read_fast(self, meta: ObjectMeta, start: int, end: int) -> bytes | None: ...

    def read_held(self, meta: ObjectMeta, start: int, end: int) -> bytes | tuple[memoryview, ...] | None:
        """Bytes ``[start, end]`` from memory without copying them (one slice's bytes, or a view of each
        slice in order), or None."""
        ...

    def open_fast(self, meta: ObjectMeta, start: int, end: int) -> list[tuple[BinaryIO, int, int]] | None:
        """Open files, offsets and counts holding bytes ``[start, end]`` (a zero-copy send), or None."""
        ...


class Cache(Slices, Protocol):
    """Objects by key: byte ranges, purges, counters; ``start`` before use and ``close`` after."""

    @property
    def stats(self) -> Mapping[str, int]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def purge(self, key: str, prefix: bool = False) -> int: ...

    def histogram(self) -> Mapping[str, Any]: ...

    def tiers(self) -> Mapping[str, Mapping[str, int]]:
        """Per tier (``memory``, ``disk``) its ``bytes``, ``entries`` and ``limit`` now, for gauges."""
        ...


class ObjectCache(Cache, Protocol):
    """The default zone's cache: the meta of an origin object and how it was obtained."""

    async def lookup(self, key: str) -> tuple[ObjectMeta, str]: ...

    def lookup_fast(self, key: str) -> ObjectMeta | None:
        """The meta ``lookup`` would answer as a ``"hit"`` without I/O, or None."""
        ...


class ZoneCache(Cache, Protocol):
    """A pull zone's cache: the stored response for a request target and a client's request."""

    async def lookup(
        self, key: str, request: ClientRequest, *, share: bool = True, hints: HintSink | None = None
    ) -> tuple[ObjectMeta, str]:
        """``hints`` gets the ``Link`` values of each ``103 Early Hints`` received for this request."""
        ...

    def release(self, meta: ObjectMeta) -> None: ...

    async def invalidate(self, target: str) -> int: ...

    def bytes_cached(self) -> dict[str, int]: ...
