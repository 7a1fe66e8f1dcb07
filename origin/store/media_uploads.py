"""Upload intents of the media API: which asset a tenant's SHA-256 belongs to, and where its bytes go.

The primary key (tenant, sha256) is what makes uploads idempotent: of two concurrent declarations
of the same bytes exactly one inserts, in the transaction that creates the asset; the other finds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from origin.store.db import Conn, Database, Records
from origin.store.schema import media_uploads, now


@dataclass(frozen=True)
class MediaUpload:
    tenant_id: str
    sha256: str
    asset_id: str
    bucket: str
    key: str
    size: int
    mime: str
    filename: str
    user_id: str
    created_at: float


UPLOADS = Records(MediaUpload, media_uploads)
_C = media_uploads.c
_INSERT = sa.insert(media_uploads)


class MediaUploadRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(
        self,
        conn: Conn,
        *,
        tenant_id: str,
        sha256: str,
        asset_id: str,
        bucket: str,
        key: str,
        size: int,
        mime: str,
        filename: str,
        user_id: str,
    ) -> MediaUpload:
        """Record an intent; :class:`~origin.store.db.UniqueViolation` if the tenant declared the hash already."""
        record = MediaUpload(tenant_id, sha256, asset_id, bucket, key, size, mime, filename, user_id, now())
        await self.db.execute(_INSERT, conn, vars(record))
        return record

    async def by_sha256(self, tenant_id: str, sha256: str, conn: Conn | None = None) -> MediaUpload | None:
        statement = UPLOADS.select().where(_C.tenant_id == tenant_id, _C.sha256 == sha256)
        return UPLOADS.first(await self.db.execute(statement, conn))

    async def by_asset(self, asset_id: str, conn: Conn | None = None) -> MediaUpload | None:
        return UPLOADS.first(await self.db.execute(UPLOADS.select().where(_C.asset_id == asset_id), conn))

    async def delete(self, asset_id: str, conn: Conn | None = None) -> None:
        """Forget the intent of an asset (deleted, or failed its checksum): its hash may be uploaded again."""
        await self.db.execute(sa.delete(media_uploads).where(_C.asset_id == asset_id), conn)
