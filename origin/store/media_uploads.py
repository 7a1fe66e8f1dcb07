"""Upload intents of the media API: which asset a tenant's SHA-256 belongs to, and where its bytes go.

The primary key (tenant, sha256) is what makes uploads idempotent: of two concurrent declarations
of the same bytes exactly one inserts, in the transaction that creates the asset; the other finds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

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


class MediaUploadRepository:
    def __init__(self, db: Database) -> None:
        self.db = db
        dialect = postgresql if db.dialect == "postgresql" else sqlite
        #: ``INSERT … ON CONFLICT DO NOTHING RETURNING``: whether this call recorded the intent.
        self._claim = dialect.insert(media_uploads).on_conflict_do_nothing().returning(_C.asset_id)

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
    ) -> MediaUpload | None:
        """Record an intent; None (nothing written) when the tenant declared this hash already. A
        concurrent declaration of the same hash waits for this one's transaction (PostgreSQL's unique
        index, SQLite's write lock), so exactly one of them records it."""
        record = MediaUpload(tenant_id, sha256, asset_id, bucket, key, size, mime, filename, user_id, now())
        return record if (await self.db.execute(self._claim, conn, vars(record))).first() is not None else None

    async def by_sha256(self, tenant_id: str, sha256: str, conn: Conn | None = None) -> MediaUpload | None:
        statement = UPLOADS.select().where(_C.tenant_id == tenant_id, _C.sha256 == sha256)
        return UPLOADS.first(await self.db.execute(statement, conn))

    async def by_asset(self, asset_id: str, conn: Conn | None = None) -> MediaUpload | None:
        return UPLOADS.first(await self.db.execute(UPLOADS.select().where(_C.asset_id == asset_id), conn))

    async def delete(self, asset_id: str, conn: Conn | None = None) -> None:
        """Forget the intent of an asset (deleted, or failed its checksum): its hash may be uploaded again."""
        await self.db.execute(sa.delete(media_uploads).where(_C.asset_id == asset_id), conn)
