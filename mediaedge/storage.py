"""The storage backend contract, and an in-memory test double beside it.

A backend stores opaque objects under keys (``tenant/user/dest/file.mp4``). Keys reaching a backend
are already validated by :func:`mediaedge.keys.validate_key`; backends still map them so that no key
can name anything outside their own root.

Shape after httpx's transports: a small async interface (:class:`StorageBackend`), built-ins in
``plugins/mediaedge_storage_*`` registered through the ``register_storage_backends`` hook, and
:class:`MemoryStorage` for tests.
"""

from __future__ import annotations

import abc
import hashlib
import time
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import aiofiles

__all__ = [
    "MemoryStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "PresignedPost",
    "StorageBackend",
    "StorageError",
]

CHUNK_SIZE = 1024 * 1024


class StorageError(Exception):
    """A backend failed in a way worth retrying (network, disk full, 5xx from S3)."""


class ObjectNotFound(StorageError):
    """No object under that key."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a backend knows about one stored object."""

    key: str
    size: int
    etag: str
    last_modified: float  # POSIX seconds
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class PresignedPost:
    """A browser-usable form POST: send ``fields`` plus the file to ``url``."""

    url: str
    fields: dict[str, str]


class StorageBackend(abc.ABC):
    """An async object store. Subclasses set ``kind`` and implement the abstract methods.

    ``options`` come from the settings table of the backend (``[storage.backends.NAME]``).
    """

    kind: ClassVar[str]

    @classmethod
    @abc.abstractmethod
    def from_options(cls, options: Mapping[str, Any]) -> StorageBackend:
        """Build a backend from its settings table; raise ``ValueError`` naming a bad option."""

    @abc.abstractmethod
    async def stat(self, key: str) -> ObjectInfo:
        """Size, ETag and modification time; :class:`ObjectNotFound` if absent."""

    @abc.abstractmethod
    def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream bytes ``start..end`` inclusive (``end=None``: to the end of the object)."""

    @abc.abstractmethod
    async def write(self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None) -> ObjectInfo:
        """Store the chunks under ``key`` atomically: readers see the old object or the whole new one."""

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Remove ``key``; deleting a missing key is not an error."""

    @abc.abstractmethod
    def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order."""

    async def put_file(self, key: str, path: str, content_type: str | None = None) -> ObjectInfo:
        """Store a local file (e.g. a finished upload spool). Backends may move it instead of copying."""

        async def chunks() -> AsyncIterator[bytes]:
            async with aiofiles.open(path, "rb") as f:
                while chunk := await f.read(CHUNK_SIZE):
                    yield chunk

        return await self.write(key, chunks(), content_type)

    def local_path(self, key: str) -> str | None:
        """A filesystem path holding the object's bytes, if the backend keeps them on local disk."""
        return None

    async def presign_get(self, key: str, expires_in: int, filename: str | None = None) -> str | None:
        """A URL that downloads the object without credentials, or ``None`` if the backend has none."""
        return None

    async def presign_post(
        self, key: str, expires_in: int, max_size: int, content_type: str | None = None, min_size: int = 0
    ) -> PresignedPost | None:
        """A direct browser upload form for ``key`` of ``min_size``..``max_size`` bytes (both inclusive;
        equal for an exact size), or ``None`` if the backend cannot sign one."""
        return None

    async def close(self) -> None:  # noqa: B027 - optional hook with a no-op default
        """Release connections. Called once at shutdown."""


class MemoryStorage(StorageBackend):
    """Keeps objects in a dict. The test double for code that needs *a* backend."""

    kind = "memory"

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, ObjectInfo]] = {}

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> MemoryStorage:
        return cls()

    async def stat(self, key: str) -> ObjectInfo:
        try:
            return self.objects[key][1]
        except KeyError:
            raise ObjectNotFound(key) from None

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        data = await self._data(key)
        yield data[start : (len(data) if end is None else end + 1)]

    async def _data(self, key: str) -> bytes:
        try:
            return self.objects[key][0]
        except KeyError:
            raise ObjectNotFound(key) from None

    async def write(self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None) -> ObjectInfo:
        data = b"".join([c async for c in chunks])
        info = ObjectInfo(key, len(data), hashlib.md5(data).hexdigest(), time.time(), content_type)
        self.objects[key] = (data, info)
        return info

    async def delete(self, key: str) -> None:
        self.objects.pop(key, None)

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        for key in sorted(self.objects):
            if key.startswith(prefix):
                yield self.objects[key][1]
