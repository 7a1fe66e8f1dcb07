"""A third-party storage plugin, written as a plugin author would: only ``mediaedge`` is imported."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any

from mediaedge import hookimpl
from mediaedge.storage import ObjectInfo, ObjectNotFound, StorageBackend

#: Every object any DictStorage stored, so tests can look inside.
STORED: dict[str, bytes] = {}


class DictStorage(StorageBackend):
    kind = "dict"

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> DictStorage:
        if "namespace" not in options:
            raise ValueError("namespace: required")
        return cls(options["namespace"])

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    def _data(self, key: str) -> bytes:
        try:
            return STORED[self._key(key)]
        except KeyError:
            raise ObjectNotFound(key) from None

    async def stat(self, key: str) -> ObjectInfo:
        data = self._data(key)
        return ObjectInfo(key, len(data), hashlib.sha256(data).hexdigest()[:16], time.time())

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        data = self._data(key)
        yield data[start : len(data) if end is None else end + 1]

    async def write(self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None) -> ObjectInfo:
        STORED[self._key(key)] = b"".join([c async for c in chunks])
        return await self.stat(key)

    async def delete(self, key: str) -> None:
        STORED.pop(self._key(key), None)

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        for name in sorted(STORED):
            ns, _, key = name.partition(":")
            if ns == self.namespace and key.startswith(prefix):
                yield await self.stat(key)


@hookimpl
def register_storage_backends() -> list[type[StorageBackend]]:
    return [DictStorage]
