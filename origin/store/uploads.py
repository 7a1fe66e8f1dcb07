"""TUS uploads: their progress, and the lease that lets one request of one process write one.

The lease (``lock_owner``/``lock_until``) is taken with a conditional UPDATE, so two origin processes
can never both hold it; ``release_requested`` lets a request in another process ask the holder to stop.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from origin.store.db import Database, Records
from origin.store.schema import now, tus_uploads


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


UPLOADS = Records(TusUpload, tus_uploads, length="upload_length", offset="upload_offset")
_ID = tus_uploads.c.id


def new_upload_id() -> str:
    return secrets.token_hex(16)


class UploadRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
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
        created = now()
        insert = sa.insert(tus_uploads).values(
            id=new_upload_id(),
            tenant_id=tenant_id,
            upload_length=length,
            upload_offset=0,
            metadata=metadata,
            bucket=bucket,
            is_partial=is_partial,
            is_final=is_final,
            parts=parts or [],
            expires_at=expires_at,
            created_at=created,
            updated_at=created,
        )
        upload = UPLOADS.first(await self.db.execute(insert.returning(*UPLOADS.columns)))
        assert upload is not None
        return upload

    async def get(self, upload_id: str, tenant_id: str | None = None) -> TusUpload | None:
        """The upload, or None if absent or (with ``tenant_id``) another tenant's."""
        upload = UPLOADS.first(await self.db.execute(UPLOADS.select().where(_ID == upload_id)))
        if upload is None or (tenant_id is not None and upload.tenant_id != tenant_id):
            return None
        return upload

    async def set_progress(
        self, upload_id: str, offset: int, *, length: int | None = None, expires_at: float | None = None
    ) -> None:
        """Record the durable offset; also fix a deferred length or push the expiry out."""
        changes = {"upload_length": length, "expires_at": expires_at}
        given = {column: value for column, value in changes.items() if value is not None}
        await self.db.execute(
            sa.update(tus_uploads).where(_ID == upload_id).values(upload_offset=offset, updated_at=now(), **given)
        )

    async def set_file(self, upload_id: str, file_id: str) -> None:
        await self.db.execute(sa.update(tus_uploads).where(_ID == upload_id).values(file_id=file_id, updated_at=now()))

    async def delete(self, upload_id: str) -> None:
        await self.db.execute(sa.delete(tus_uploads).where(_ID == upload_id))

    async def expired(self, at: float, limit: int = 100) -> list[TusUpload]:
        """Uploads past their expiry, except finished ones still waiting to be registered."""
        statement = UPLOADS.select().where(tus_uploads.c.expires_at < at).order_by(tus_uploads.c.expires_at)
        return [u for u in UPLOADS.all(await self.db.execute(statement.limit(limit))) if not u.needs_ingest]

    async def unregistered(self, limit: int = 100) -> list[TusUpload]:
        """Finished non-partial uploads whose ingest failed or was cut short."""
        statement = (
            UPLOADS.select()
            .where(
                tus_uploads.c.file_id.is_(None),
                tus_uploads.c.is_partial.is_(False),
                tus_uploads.c.upload_offset == tus_uploads.c.upload_length,
            )
            .order_by(tus_uploads.c.updated_at)
            .limit(limit)
        )
        return UPLOADS.all(await self.db.execute(statement))

    # -- the lease -----------------------------------------------------------------------------------

    async def take_lease(self, upload_id: str, owner: str, seconds: float) -> TusUpload | None:
        """Take the lease if it is free or expired: the upload as it is now, or None if not taken."""
        at = now()
        update = (
            sa.update(tus_uploads)
            .where(_ID == upload_id, sa.or_(tus_uploads.c.lock_owner.is_(None), tus_uploads.c.lock_until < at))
            .values(lock_owner=owner, lock_until=at + seconds, release_requested=False)
            .returning(*UPLOADS.columns)
        )
        return UPLOADS.first(await self.db.execute(update))

    async def renew_lease(self, upload_id: str, owner: str, seconds: float) -> bool:
        """Extend a held lease; False if it was lost or another process asked for it."""
        update = (
            sa.update(tus_uploads)
            .where(_ID == upload_id, tus_uploads.c.lock_owner == owner, tus_uploads.c.release_requested.is_(False))
            .values(lock_until=now() + seconds)
        )
        return (await self.db.execute(update)).rowcount == 1

    async def request_release(self, upload_id: str) -> None:
        await self.db.execute(
            sa.update(tus_uploads)
            .where(_ID == upload_id, tus_uploads.c.lock_owner.is_not(None))
            .values(release_requested=True)
        )

    async def release_lease(self, upload_id: str, owner: str) -> None:
        await self.db.execute(
            sa.update(tus_uploads)
            .where(_ID == upload_id, tus_uploads.c.lock_owner == owner)
            .values(lock_owner=None, lock_until=None)
        )
