"""SQL for TUS uploads: their progress, and the lease that lets one request of one process write one.

The lease (``lock_owner``/``lock_until``) is taken with a conditional UPDATE, so two origin processes
can never both hold it; ``release_requested`` lets a request in another process ask the holder to stop.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson

from origin.store.db import Database


@dataclass(frozen=True)
class TusUpload:
    id: str
    tenant_id: str
    length: int | None  # None while the length is deferred
    offset: int
    #: Upload-Metadata as sent: key → base64 value (None for a key without value), in order.
    metadata: dict[str, str | None]
    bucket: str | None
    is_partial: bool
    is_final: bool
    parts: list[str]  # ids of the partial uploads a final upload was concatenated from
    file_id: str | None  # the registered file, once complete and ingested
    expires_at: float
    created_at: float
    updated_at: float

    @property
    def complete(self) -> bool:
        return self.length is not None and self.offset == self.length

    @property
    def needs_ingest(self) -> bool:
        """All bytes are here but the file is not registered yet (partial uploads never are)."""
        return self.complete and not self.is_partial and self.file_id is None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TusUpload:
        return cls(
            id=row["id"],
            tenant_id=row["tenant_id"],
            length=row["upload_length"],
            offset=row["upload_offset"],
            metadata=orjson.loads(row["metadata"]),
            bucket=row["bucket"],
            is_partial=bool(row["is_partial"]),
            is_final=bool(row["is_final"]),
            parts=orjson.loads(row["parts"]),
            file_id=row["file_id"],
            expires_at=row["expires_at"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )


def new_upload_id() -> str:
    return secrets.token_hex(16)


class UploadStore:
    db: Database

    async def create_upload(
        self,
        tenant_id: str,
        *,
        length: int | None,
        metadata: dict[str, str | None],
        bucket: str | None,
        expires_at: float,
        is_partial: bool = False,
        is_final: bool = False,
        parts: list[str] | None = None,
    ) -> TusUpload:
        now = time.time()
        upload_id = new_upload_id()
        await self.db.execute(
            "INSERT INTO tus_uploads (id, tenant_id, upload_length, upload_offset, metadata, bucket, is_partial,"
            " is_final, parts, expires_at, created_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
            upload_id,
            tenant_id,
            length,
            orjson.dumps(metadata).decode(),
            bucket,
            int(is_partial),
            int(is_final),
            orjson.dumps(parts or []).decode(),
            expires_at,
            now,
            now,
        )
        upload = await self.get_upload(upload_id)
        assert upload is not None
        return upload

    async def get_upload(self, upload_id: str, tenant_id: str | None = None) -> TusUpload | None:
        """The upload, or None if absent or (with ``tenant_id``) another tenant's."""
        row = await self.db.fetchone("SELECT * FROM tus_uploads WHERE id = ?", upload_id)
        if row is None or (tenant_id is not None and row["tenant_id"] != tenant_id):
            return None
        return TusUpload.from_row(row)

    async def set_upload_progress(
        self, upload_id: str, offset: int, *, length: int | None = None, expires_at: float | None = None
    ) -> None:
        """Record the durable offset; also fix a deferred length or push the expiry out."""
        await self.db.execute(
            "UPDATE tus_uploads SET upload_offset = ?, upload_length = COALESCE(?, upload_length),"
            " expires_at = COALESCE(?, expires_at), updated_at = ? WHERE id = ?",
            offset,
            length,
            expires_at,
            time.time(),
            upload_id,
        )

    async def set_upload_file(self, upload_id: str, file_id: str) -> None:
        await self.db.execute(
            "UPDATE tus_uploads SET file_id = ?, updated_at = ? WHERE id = ?", file_id, time.time(), upload_id
        )

    async def delete_upload(self, upload_id: str) -> None:
        await self.db.execute("DELETE FROM tus_uploads WHERE id = ?", upload_id)

    async def expired_uploads(self, now: float, limit: int = 100) -> list[TusUpload]:
        """Uploads past their expiry, except finished ones still waiting to be registered."""
        rows = await self.db.fetchall(
            "SELECT * FROM tus_uploads WHERE expires_at < ? ORDER BY expires_at LIMIT ?",
            now,
            limit,
        )
        return [u for u in map(TusUpload.from_row, rows) if not u.needs_ingest]

    async def unregistered_uploads(self, limit: int = 100) -> list[TusUpload]:
        """Finished non-partial uploads whose ingest failed or was cut short."""
        rows = await self.db.fetchall(
            "SELECT * FROM tus_uploads WHERE file_id IS NULL AND is_partial = 0"
            " AND upload_offset = upload_length ORDER BY updated_at LIMIT ?",
            limit,
        )
        return [TusUpload.from_row(r) for r in rows]

    # -- the lease -----------------------------------------------------------------------------------

    async def take_upload_lease(self, upload_id: str, owner: str, seconds: float) -> TusUpload | None:
        """Take the lease if it is free or expired: the upload as it is now, or None if not taken."""
        now = time.time()
        row = await self.db.fetchone(
            "UPDATE tus_uploads SET lock_owner = ?, lock_until = ?, release_requested = 0"
            " WHERE id = ? AND (lock_owner IS NULL OR lock_until < ?) RETURNING *",
            owner,
            now + seconds,
            upload_id,
            now,
        )
        return TusUpload.from_row(row) if row else None

    async def renew_upload_lease(self, upload_id: str, owner: str, seconds: float) -> bool:
        """Extend a held lease; False if it was lost or another process asked for it."""
        changed = await self.db.execute(
            "UPDATE tus_uploads SET lock_until = ? WHERE id = ? AND lock_owner = ? AND release_requested = 0",
            time.time() + seconds,
            upload_id,
            owner,
        )
        return changed == 1

    async def request_upload_release(self, upload_id: str) -> None:
        await self.db.execute(
            "UPDATE tus_uploads SET release_requested = 1 WHERE id = ? AND lock_owner IS NOT NULL", upload_id
        )

    async def release_upload_lease(self, upload_id: str, owner: str) -> None:
        await self.db.execute(
            "UPDATE tus_uploads SET lock_owner = NULL, lock_until = NULL WHERE id = ? AND lock_owner = ?",
            upload_id,
            owner,
        )
