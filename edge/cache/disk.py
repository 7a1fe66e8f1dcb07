"""The disk tier: slice files under a directory, bounded in bytes, LRU across restarts.

Runtime LRU order and byte accounting live in memory (an ``OrderedDict``); the SQLite index
(:mod:`edge.cache.index`) persists them, with each object's meta, so a restarted edge serves what it
cached before. On open, the directory is reconciled with the index: leftover temporary files are
removed, rows whose file is gone are dropped, and files the index does not know (a lost index, or a
crash between rename and insert) are adopted from their headers. File and index work runs in threads.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar

from anyio.to_thread import run_sync

from edge.cache.droplog import Drop, DropLog
from edge.cache.index import DiskIndex, SliceRow
from edge.cache.meta import ObjectMeta
from edge.cache.slicefile import TMP_SUFFIX, read_header, read_slice, slice_name, slice_path, write_slice
from edge.cache.slices import SliceId

__all__ = ["DiskTier"]

INDEX_FILE = "index.sqlite3"

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Entry:
    key: str
    etag: str
    size: int  # bytes on disk, header included


class DiskTier:
    """Slices of ``slice_bytes`` as files under ``root/slices``; total file size kept at or under
    ``max_bytes``. Files of another slice size are never served and age out."""

    def __init__(self, root: Path, max_bytes: int, slice_bytes: int) -> None:
        self._dir = root / "slices"
        self._index = DiskIndex(root / INDEX_FILE)
        self._max = max_bytes
        self._slice_bytes = slice_bytes
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first
        self._by_key: dict[str, set[str]] = {}
        self._used = 0
        self._drops = DropLog()  # so that a write overtaken by a drop does not resurrect what it dropped

    @property
    def bytes_used(self) -> int:
        return self._used

    @property
    def max_bytes(self) -> int:
        return self._max

    def __len__(self) -> int:
        return len(self._entries)

    async def open(self) -> None:
        """Open the index, reconcile it with the directory, and trim to the budget."""
        for row in await run_sync(self._load):
            self._remember(row.name, _Entry(row.key, row.etag, row.size))
        await self._evict()

    async def close(self) -> None:
        """Close the index (LRU order and metas are already persisted)."""
        await run_sync(self._index.close)

    async def get(self, sid: SliceId, length: int) -> bytes | None:
        """The bytes of a slice if stored intact (exactly ``length`` bytes), else ``None``."""
        name = slice_name(sid, self._slice_bytes)
        if name not in self._entries:
            return None
        self._entries.move_to_end(name)
        try:
            data: bytes | None = await run_sync(self._read, name, time.time())
        except (OSError, ValueError):
            data = None
        if data is not None and len(data) == length:
            return data
        self._forget(name)
        await run_sync(self._delete, [name])
        return None

    def open_slice(self, sid: SliceId, length: int) -> tuple[BinaryIO, int] | None:
        """The slice's file, open, and the offset of its ``length`` bytes in it, for a zero-copy send
        (the caller closes it); None if not stored intact. No read: one ``open`` and one ``fstat``."""
        name = slice_name(sid, self._slice_bytes)
        entry = self._entries.get(name)
        if entry is None or entry.size <= length:
            return None
        try:
            file = open(slice_path(self._dir, name), "rb", buffering=0)  # noqa: SIM115  (the caller closes it)
        except OSError:
            return None
        if os.fstat(file.fileno()).st_size != entry.size:  # replaced under us: let read() sort it out
            file.close()
            return None
        self._entries.move_to_end(name)
        return file, entry.size - length

    async def put(self, meta: ObjectMeta, index: int, data: bytes) -> None:
        """Store slice ``index`` of ``meta``'s version, evicting least recently used slices to fit."""
        name = slice_name((meta.key, meta.etag, index), self._slice_bytes)
        if name in self._entries or not data or len(data) > self._max:
            return
        kept, size = await self._write(meta.key, meta.etag, lambda: self._write_slice(meta, index, data))
        if not kept:  # a drop covering this slice ran meanwhile
            await run_sync(self._delete, [name])
            return
        self._remember(name, _Entry(meta.key, meta.etag, size))
        await self._evict()

    async def get_meta(self, key: str) -> ObjectMeta | None:
        """The latest meta recorded for ``key``, if any."""
        return await run_sync(self._index.get_meta, key)

    async def put_meta(self, meta: ObjectMeta) -> None:
        """Record ``meta`` as the latest version of its object."""
        kept, _ = await self._write(meta.key, meta.etag, lambda: self._index.put_meta(meta))
        if not kept:
            await run_sync(lambda: self._index.drop_metas(meta.key))

    async def _write(self, key: str, etag: str, work: Callable[[], T]) -> tuple[bool, T]:
        """Run a blocking write about version ``etag`` of ``key`` in a thread; also say whether it
        stands, i.e. no drop covering it overlapped."""
        mark = self._drops.start()
        try:
            result = await run_sync(work)
            return not self._drops.overtaken(mark, key, etag), result
        finally:
            self._drops.finish()

    async def drop(self, key: str, *, prefix: bool = False, keep_etag: str | None = None) -> set[str]:
        """Delete the slices (and, unless ``keep_etag`` is given, the meta) of ``key`` or of every key
        under the prefix ``key``; with ``keep_etag``, slices of that version stay. Returns the keys hit."""
        self._drops.record(Drop(key, prefix, keep_etag))
        if prefix:
            keys = [k for k in self._by_key if k.startswith(key)]
        else:
            keys = [key] if key in self._by_key else []
        names = [n for k in keys for n in self._by_key[k] if self._entries[n].etag != keep_etag]
        dropped = {self._entries[n].key for n in names}
        for name in names:
            self._forget(name)
        if keep_etag is None:
            dropped |= await run_sync(lambda: self._index.drop_metas(key, prefix=prefix))
        if names:
            await run_sync(self._delete, names)
        return dropped

    # -- bookkeeping (event loop) ---------------------------------------------------------------

    def _remember(self, name: str, entry: _Entry) -> None:
        self._forget(name)
        self._entries[name] = entry
        self._by_key.setdefault(entry.key, set()).add(name)
        self._used += entry.size

    def _forget(self, name: str) -> None:
        entry = self._entries.pop(name, None)
        if entry is None:
            return
        self._used -= entry.size
        names = self._by_key[entry.key]
        names.discard(name)
        if not names:
            del self._by_key[entry.key]

    async def _evict(self) -> None:
        victims = []
        while self._used > self._max:
            name = next(iter(self._entries))
            self._forget(name)
            victims.append(name)
        if victims:
            await run_sync(self._delete, victims)

    # -- blocking work (threads) ----------------------------------------------------------------

    def _read(self, name: str, atime: float) -> bytes:
        data = read_slice(slice_path(self._dir, name))
        self._index.touch(name, atime)
        return data

    def _write_slice(self, meta: ObjectMeta, index: int, data: bytes) -> int:
        name, size = write_slice(self._dir, meta, index, self._slice_bytes, data)
        self._index.add([SliceRow(name, meta.key, meta.etag, index, size, time.time())])
        return size

    def _delete(self, names: list[str]) -> None:
        for name in names:
            slice_path(self._dir, name).unlink(missing_ok=True)
        self._index.remove(names)

    def _load(self) -> list[SliceRow]:
        self._dir.mkdir(parents=True, exist_ok=True)
        rows = {row.name: row for row in self._index.open()}
        files: dict[str, Path] = {}
        for path in self._dir.glob("*/*"):
            if not path.is_file():
                continue
            if path.name.endswith(TMP_SUFFIX):
                path.unlink(missing_ok=True)
            else:
                files[path.name] = path
        self._index.remove([name for name in rows if name not in files])
        adopted = [row for name, path in files.items() if name not in rows and (row := self._adopt(path))]
        self._index.add(adopted)
        self._index.drop_orphan_metas()
        present = [row for name, row in rows.items() if name in files] + adopted
        return sorted(present, key=lambda row: row.atime)

    def _adopt(self, path: Path) -> SliceRow | None:
        """The index row for a slice file found on disk, or ``None`` (and the file removed) if invalid."""
        try:
            meta, index, slice_bytes = read_header(path)
            if slice_bytes != self._slice_bytes or slice_name((meta.key, meta.etag, index), slice_bytes) != path.name:
                raise ValueError(f"{path}: another slice size, or a name that does not match its header")
            stat = os.stat(path)
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            return None
        self._index.put_meta(meta, replace=False)
        return SliceRow(path.name, meta.key, meta.etag, index, stat.st_size, stat.st_mtime)
