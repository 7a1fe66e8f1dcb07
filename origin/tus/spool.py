"""An upload's bytes on disk: ``{origin.spool_dir}/tus/{id}.bin``, append-only, made durable before recorded.

Durability rule: bytes are fdatasync'd before the offset that covers them is written to the database,
so the recorded offset never exceeds the durable bytes. After a crash the file may hold more than the
record (bytes written but never acknowledged); :func:`reconcile` cuts them off, so the database stays
the one truth and a resumed upload continues exactly at the offset HEAD reports.

The functions here block: callers run them with :func:`asyncio.to_thread`, except :func:`reconcile`
(a stat, on every request) which runs inline. :class:`SpoolWriter` uses a worker thread itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from mediaedge.settings import Settings
from origin.multipart import _write_all

#: Received bytes go to disk in batches of about this size, one in flight while the next one fills,
#: and are synced at least this often while a body streams (and at its end).
BATCH_BYTES = 1024 * 1024
SYNC_SECONDS = 1.0
COPY_BYTES = 1024 * 1024
_datasync = getattr(os, "fdatasync", os.fsync)


def spool_path(settings: Settings, upload_id: str) -> Path:
    return Path(settings.origin.spool_dir) / "tus" / f"{upload_id}.bin"


def create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def reconcile(path: Path, recorded: int) -> int:
    """The durable offset: ``recorded``, or fewer if the file lost bytes; longer files are cut back to it."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        create(path)
        size = 0
    if size > recorded:
        os.truncate(path, recorded)
    return min(size, recorded)


def truncate(path: Path, size: int) -> None:
    os.truncate(path, size)


def concatenate(dest: Path, parts: list[tuple[Path, int]]) -> None:
    """Write the first ``length`` bytes of each part, in order, to ``dest`` and make it durable."""
    with dest.open("wb") as out:
        for path, length in parts:
            with path.open("rb") as src:
                remaining = length
                while remaining and (block := src.read(min(COPY_BYTES, remaining))):
                    out.write(block)
                    remaining -= len(block)
            if remaining:
                raise OSError(f"partial upload {path.name} holds fewer bytes than recorded")
        out.flush()
        os.fsync(out.fileno())


def ingest_link(path: Path) -> str:
    """A second name of the spool file for ``ingest_file`` to consume: a failed ingest keeps the bytes."""
    target = path.with_name(f"{path.stem}.{secrets.token_hex(4)}.ingest")
    try:
        os.link(path, target)
    except OSError:  # no hard links on this filesystem
        shutil.copyfile(path, target)
    return str(target)


class SpoolWriter:
    """Appends chunks to a spool file from ``offset`` on, batching writes off the event loop.

    A batch goes to a worker thread once it holds ``BATCH_BYTES``, or after ``SYNC_SECONDS`` of a
    slow body; one batch is in flight while the next one fills. Batches are written and their
    writeback started without waiting; the file is fdatasync'd at :meth:`close` and at least every
    ``SYNC_SECONDS`` while a long body streams. ``durable`` is the offset up to which bytes are
    synced. A ``hasher`` sees every byte in order (the checksum extension). One coroutine at a time
    may use a writer; cancelling it never cancels a write in progress.
    """

    def __init__(self, path: Path, offset: int, hasher: Any = None) -> None:
        self.durable = self.received = offset
        self._fd = os.open(path, os.O_WRONLY)
        os.lseek(self._fd, offset, os.SEEK_SET)
        self._hasher = hasher
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._inflight: asyncio.Future[int] | None = None
        self._loop = asyncio.get_running_loop()
        self._sync_at = self._loop.time() + SYNC_SECONDS

    async def write(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        self._batch_bytes += len(chunk)
        self.received += len(chunk)
        if self._batch_bytes >= BATCH_BYTES or self._loop.time() >= self._sync_at:
            await self._settle()
            self._submit(sync=self._loop.time() >= self._sync_at)

    async def close(self) -> int:
        """Write what is left, sync, close the file; returns ``durable`` (all received bytes)."""
        try:
            await self._settle()
            if self.durable < self.received:
                self._submit(sync=True)
                await self._settle()
        finally:
            if self._inflight is None:
                os.close(self._fd)
            else:  # cancelled or failed while a batch was being written: close once it is done
                self._inflight.add_done_callback(lambda _: os.close(self._fd))
        return self.durable

    def digest(self) -> bytes:
        return bytes(self._hasher.digest())

    async def _settle(self) -> None:
        if self._inflight is not None:
            await asyncio.shield(self._inflight)
            self._inflight = None

    def _submit(self, sync: bool) -> None:
        if sync:
            self._sync_at = self._loop.time() + SYNC_SECONDS
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        self._inflight = self._loop.run_in_executor(None, self._write_batch, batch, self.received, sync)
        self._inflight.add_done_callback(self._written)

    def _written(self, done: asyncio.Future[int]) -> None:
        if not done.cancelled() and done.exception() is None and done.result() >= 0:
            self.durable = done.result()

    def _write_batch(self, batch: list[bytes], end: int, sync: bool) -> int:
        """Write ``batch`` (ending at offset ``end``); returns ``end`` if synced, else -1."""
        _write_all([(self._fd, chunk) for chunk in batch])
        if self._hasher is not None:
            for chunk in batch:
                self._hasher.update(chunk)
        if sync:
            _datasync(self._fd)
            return end
        size = sum(map(len, batch))
        _start_writeback(self._fd, end - size, size)
        return -1


def _start_writeback(fd: int, offset: int, size: int) -> None:
    """Ask the kernel to start writing these dirty pages now, so the next sync has less to wait for."""
    if hasattr(os, "posix_fadvise"):
        os.posix_fadvise(fd, offset, size, os.POSIX_FADV_DONTNEED)
