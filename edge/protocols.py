"""The interface the edge app consumes from its cache layer (:class:`edge.cache.EdgeCache` implements it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from edge.cache import ObjectMeta


class Cache(Protocol):
    """Objects by key: metadata lookups, byte ranges (from memory without I/O when possible), purges."""

    @property
    def stats(self) -> Mapping[str, int]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def lookup(self, key: str) -> tuple[ObjectMeta, str]: ...

    def read(self, meta: ObjectMeta, start: int, end: int) -> AsyncIterator[bytes]: ...

    def read_fast(self, meta: ObjectMeta, start: int, end: int) -> bytes | None: ...

    async def purge(self, key: str, prefix: bool = False) -> int: ...

    def histogram(self) -> Mapping[str, Any]: ...
