"""Local-disk storage backend (``kind = "local"``).

Objects live under ``root`` as plain files, so the page cache serves hot ones. Writes go to a temp
file in the same directory, are fsynced, then renamed over the key: readers never see half a file.
Keys are validated by :func:`mediaedge.keys.validate_key` and then resolved under ``root``; a key
that would resolve elsewhere is refused, so traversal is impossible by construction.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import aiofiles
import aiofiles.os

from mediaedge import hookimpl
from mediaedge.keys import validate_key
from mediaedge.storage import CHUNK_SIZE, ObjectInfo, ObjectNotFound, StorageBackend, StorageError

TMP_SUFFIX = ".mediaedge-tmp"


class LocalStorage(StorageBackend):
    kind = "local"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> LocalStorage:
        root = options.get("root")
        if not root or not isinstance(root, str):
            raise ValueError("root: a directory path is required for a local storage backend")
        return cls(root)

    def path(self, key: str) -> Path:
        """The file for ``key``; refuses anything that would resolve outside the root."""
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise ValueError(f"key escapes the storage root: {key!r}")
        return path

    def local_path(self, key: str) -> str | None:
        return str(self.path(key))

    @staticmethod
    def _info(key: str, st: os.stat_result) -> ObjectInfo:
        # size + mtime in ns identify a version of the file; replace() gives a new inode/mtime.
        etag = f"{st.st_size:x}-{st.st_mtime_ns:x}"
        return ObjectInfo(key, st.st_size, etag, st.st_mtime)

    async def stat(self, key: str) -> ObjectInfo:
        try:
            st = await aiofiles.os.stat(self.path(key))
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        return self._info(key, st)

    async def open_range(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        try:
            f = await aiofiles.open(self.path(key), "rb")
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(key) from None
        try:
            await f.seek(start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                chunk = await f.read(CHUNK_SIZE if remaining is None else min(CHUNK_SIZE, remaining))
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            await f.close()

    def _tmp_path(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.with_name(f".{path.name}.{uuid.uuid4().hex}{TMP_SUFFIX}")

    async def write(self, key: str, chunks: AsyncIterable[bytes], content_type: str | None = None) -> ObjectInfo:
        path = self.path(key)
        tmp = self._tmp_path(path)
        try:
            async with aiofiles.open(tmp, "wb") as f:
                async for chunk in chunks:
                    await f.write(chunk)
                await f.flush()
                await asyncio.to_thread(os.fsync, f.fileno())
            await aiofiles.os.replace(tmp, path)
        except OSError as exc:
            raise StorageError(f"local write failed: {exc}") from exc
        finally:
            if tmp.exists():
                tmp.unlink()
        return await self.stat(key)

    async def put_file(self, key: str, path: str, content_type: str | None = None) -> ObjectInfo:
        """Move the spool file into place when it is on the same filesystem; copy otherwise."""
        dest = self.path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            await asyncio.to_thread(_fsync_path, path)
            await aiofiles.os.replace(path, dest)
        except OSError:  # EXDEV: another filesystem
            return await super().put_file(key, path, content_type)
        return await self.stat(key)

    async def delete(self, key: str) -> None:
        try:
            await aiofiles.os.remove(self.path(key))
        except FileNotFoundError:
            pass

    async def list(self, prefix: str) -> AsyncIterator[ObjectInfo]:
        def walk() -> list[tuple[str, os.stat_result]]:
            found = []
            for dirpath, _dirs, files in os.walk(self.root):
                for name in files:
                    if name.endswith(TMP_SUFFIX):
                        continue
                    full = os.path.join(dirpath, name)
                    key = os.path.relpath(full, self.root).replace(os.sep, "/")
                    if key.startswith(prefix):
                        found.append((key, os.stat(full)))
            return sorted(found)

        for key, st in await asyncio.to_thread(walk):
            yield self._info(key, st)


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@hookimpl
def register_storage_backends() -> list[type[StorageBackend]]:
    return [LocalStorage]
