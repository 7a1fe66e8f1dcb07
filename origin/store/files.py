"""SQL for file records, including race-free duplicate-name suffixing."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from mediaedge.keys import build_key, split_ext
from origin.store.db import Conn, Database, UniqueViolation
from origin.store.models import FileRecord

MAX_SUFFIX = 10_000


@dataclass(frozen=True)
class FileMeta:
    """What ingest learned about the bytes: storage facts plus the probe's findings."""

    size: int
    etag: str
    mime: str
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None


def new_file_id() -> str:
    return secrets.token_hex(12)


class FileStore:
    db: Database

    async def reserve_file(
        self,
        tenant_id: str,
        bucket: str,
        user_id: str,
        destination: str,
        filename: str,
        *,
        require_signed: bool,
        source: str,
        ingest_key: str | None = None,
    ) -> FileRecord:
        """Claim the first free key among ``name.ext``, ``name_1.ext``, ``name_2.ext`` …

        The UNIQUE constraint on ``key`` makes the claim atomic across requests and processes; the
        row stays ``uploading`` (invisible to delivery) until :meth:`complete_file`. ``ingest_key``
        (unique too) lets a retried ingest find this reservation (:meth:`file_by_ingest_key`).
        """
        stem, ext = split_ext(filename)
        now = time.time()
        for n in range(MAX_SUFFIX):
            name = filename if n == 0 else f"{stem}_{n}{ext}"
            key = build_key(tenant_id, user_id, destination, name)
            file_id = new_file_id()
            try:
                await self.db.execute(
                    "INSERT INTO files (id, tenant_id, bucket, key, filename, user_id, status, require_signed,"
                    " source, ingest_key, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, 'uploading', ?, ?, ?, ?, ?)",
                    file_id,
                    tenant_id,
                    bucket,
                    key,
                    name,
                    user_id,
                    int(require_signed),
                    source,
                    ingest_key,
                    now,
                    now,
                )
            except UniqueViolation:
                continue
            record = await self.get_file(file_id)
            assert record is not None
            return record
        raise RuntimeError(f"no free name for {filename!r} after {MAX_SUFFIX} attempts")

    async def complete_file(self, file_id: str, meta: FileMeta, conn: Conn | None = None) -> FileRecord:
        """Mark a reserved file ready with its metadata. Pass ``conn`` to run inside a transaction."""
        db = conn or self.db
        await db.execute(
            "UPDATE files SET status = 'ready', size = ?, etag = ?, mime = ?, duration = ?, width = ?,"
            " height = ?, video_codec = ?, audio_codec = ?, updated_at = ? WHERE id = ?",
            meta.size,
            meta.etag,
            meta.mime,
            meta.duration,
            meta.width,
            meta.height,
            meta.video_codec,
            meta.audio_codec,
            time.time(),
            file_id,
        )
        row = await db.fetchone("SELECT * FROM files WHERE id = ?", file_id)
        assert row is not None
        return FileRecord.from_row(row)

    async def register_file(
        self,
        tenant_id: str,
        bucket: str,
        key: str,
        filename: str,
        user_id: str,
        require_signed: bool,
        meta: FileMeta,
    ) -> tuple[FileRecord, bool]:
        """Record an object already in a bucket; re-registering a key updates it (``replaced=True``)."""
        existing = await self.get_file_by_key(key)
        if existing is not None:
            await self.db.execute(
                "UPDATE files SET bucket = ?, user_id = ?, require_signed = ?, status = 'uploading' WHERE id = ?",
                bucket,
                user_id,
                int(require_signed),
                existing.id,
            )
            return await self.complete_file(existing.id, meta), True
        now = time.time()
        file_id = new_file_id()
        await self.db.execute(
            "INSERT INTO files (id, tenant_id, bucket, key, filename, user_id, status, require_signed, source,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'uploading', ?, 'register', ?, ?)",
            file_id,
            tenant_id,
            bucket,
            key,
            filename,
            user_id,
            int(require_signed),
            now,
            now,
        )
        return await self.complete_file(file_id, meta), False

    async def get_file(self, file_id: str) -> FileRecord | None:
        row = await self.db.fetchone("SELECT * FROM files WHERE id = ?", file_id)
        return FileRecord.from_row(row) if row else None

    async def file_by_ingest_key(self, ingest_key: str) -> FileRecord | None:
        row = await self.db.fetchone("SELECT * FROM files WHERE ingest_key = ?", ingest_key)
        return FileRecord.from_row(row) if row else None

    async def get_file_by_key(self, key: str) -> FileRecord | None:
        row = await self.db.fetchone("SELECT * FROM files WHERE key = ?", key)
        return FileRecord.from_row(row) if row else None

    async def list_files(self, tenant_id: str, limit: int = 100) -> list[FileRecord]:
        rows = await self.db.fetchall(
            "SELECT * FROM files WHERE tenant_id = ? AND status = 'ready' ORDER BY created_at DESC LIMIT ?",
            tenant_id,
            limit,
        )
        return [FileRecord.from_row(r) for r in rows]

    async def touch_file(self, file_id: str) -> None:
        """Mark a reservation as in use again (a retried ingest resumes it), so no sweep takes it."""
        await self.db.execute("UPDATE files SET updated_at = ? WHERE id = ?", time.time(), file_id)

    async def stale_reservations(self, before: float, limit: int = 100) -> list[FileRecord]:
        """Files still ``uploading`` since before ``before``: their ingest died with its process."""
        rows = await self.db.fetchall(
            "SELECT * FROM files WHERE status = 'uploading' AND updated_at < ? ORDER BY updated_at LIMIT ?",
            before,
            limit,
        )
        return [FileRecord.from_row(r) for r in rows]

    async def delete_file(self, file_id: str) -> None:
        await self.db.execute("DELETE FROM files WHERE id = ?", file_id)
