"""File records, including race-free duplicate-name suffixing."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

import sqlalchemy as sa

from mediaedge.keys import build_key, split_ext
from origin.catalogue.status import Status
from origin.store.db import Conn, Database, Records, UniqueViolation
from origin.store.models import FileRecord
from origin.store.schema import assets, files, now

MAX_SUFFIX = 10_000
FILES = Records(FileRecord, files)


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


class FileRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def reserve(
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
        file_id: str | None = None,
    ) -> FileRecord:
        """Claim the first free key among ``name.ext``, ``name_1.ext``, ``name_2.ext`` …

        ``file_id``: the id of the asset an API made before its bytes arrived (asset and file share
        one id); otherwise a new one. :class:`UniqueViolation` when a file with that id exists.

        The UNIQUE constraint on ``key`` makes the claim atomic across requests and processes; the
        row stays ``uploading`` (invisible to delivery) until :meth:`complete`. ``ingest_key``
        (unique too) lets a retried ingest find this reservation (:meth:`by_ingest_key`).
        """
        stem, ext = split_ext(filename)
        for n in range(MAX_SUFFIX):
            name = filename if n == 0 else f"{stem}_{n}{ext}"
            created = now()
            insert = sa.insert(files).values(
                id=file_id or new_file_id(),
                tenant_id=tenant_id,
                bucket=bucket,
                key=build_key(tenant_id, user_id, destination, name),
                filename=name,
                user_id=user_id,
                status="uploading",
                require_signed=require_signed,
                source=source,
                ingest_key=ingest_key,
                created_at=created,
                updated_at=created,
            )
            try:
                record = FILES.first(await self.db.execute(insert.returning(*FILES.columns)))
            except UniqueViolation:
                if file_id is not None and await self.get(file_id) is not None:
                    raise  # the id is taken (a reservation racing this one), not the name
                continue
            assert record is not None
            return record
        raise RuntimeError(f"no free name for {filename!r} after {MAX_SUFFIX} attempts")

    async def complete(self, file_id: str, meta: FileMeta, conn: Conn | None = None) -> FileRecord:
        """Mark a reserved file ready with its metadata. Pass ``conn`` to run inside a transaction."""
        update = (
            sa.update(files)
            .where(files.c.id == file_id)
            .values(status="ready", **asdict(meta), updated_at=now())
            .returning(*FILES.columns)
        )
        record = FILES.first(await self.db.execute(update, conn))
        assert record is not None
        return record

    async def register(
        self,
        tenant_id: str,
        bucket: str,
        key: str,
        filename: str,
        user_id: str,
        require_signed: bool,
        meta: FileMeta,
        conn: Conn | None = None,
        file_id: str | None = None,
    ) -> tuple[FileRecord, bool]:
        """Record an object already in a bucket; re-registering a key updates it (``replaced=True``).

        ``file_id``: the id of the asset an API made before its bytes arrived (a new file takes it).
        """
        async with self.db.joining(conn) as tx:
            existing = await self.by_key(key, tx, for_update=True)
            if existing is not None:
                await tx.execute(
                    sa.update(files)
                    .where(files.c.id == existing.id)
                    .values(bucket=bucket, user_id=user_id, require_signed=require_signed)
                )
                return await self.complete(existing.id, meta, tx), True
            created = now()
            file_id = file_id or new_file_id()
            await tx.execute(
                sa.insert(files).values(
                    id=file_id,
                    tenant_id=tenant_id,
                    bucket=bucket,
                    key=key,
                    filename=filename,
                    user_id=user_id,
                    status="uploading",
                    require_signed=require_signed,
                    source="register",
                    created_at=created,
                    updated_at=created,
                )
            )
            return await self.complete(file_id, meta, tx), False

    async def get(self, file_id: str) -> FileRecord | None:
        return FILES.first(await self.db.execute(FILES.select().where(files.c.id == file_id)))

    async def by_ingest_key(self, ingest_key: str) -> FileRecord | None:
        return FILES.first(await self.db.execute(FILES.select().where(files.c.ingest_key == ingest_key)))

    async def by_key(self, key: str, conn: Conn | None = None, *, for_update: bool = False) -> FileRecord | None:
        statement = FILES.select().where(files.c.key == key)
        return FILES.first(await self.db.execute(statement.with_for_update() if for_update else statement, conn))

    async def list_ready(self, tenant_id: str, limit: int = 100) -> list[FileRecord]:
        """A tenant's ready files, newest first."""
        statement = (
            FILES.select()
            .where(files.c.tenant_id == tenant_id, files.c.status == "ready")
            .order_by(files.c.created_at.desc())
            .limit(limit)
        )
        return FILES.all(await self.db.execute(statement))

    async def page(
        self,
        tenant_id: str,
        *,
        limit: int,
        before: tuple[float, str] | None = None,
        mime_prefix: str | None = None,
        other_kind: bool = False,
        search: str | None = None,
        user_id: str | None = None,
    ) -> list[FileRecord]:
        """A page of a tenant's ready files, newest first (ties by id); ``before`` is the ``(created_at,
        id)`` of the previous page's last file (a keyset cursor: stable while files are added).
        ``mime_prefix`` (``video/``…) filters by type, ``other_kind`` keeps files that are not audio,
        video or image; ``search`` matches the filename (case-insensitive substring)."""
        where: list[sa.ColumnElement[bool]] = [files.c.tenant_id == tenant_id, files.c.status == "ready"]
        if before is not None:
            at, file_id = before
            where.append(sa.or_(files.c.created_at < at, sa.and_(files.c.created_at == at, files.c.id < file_id)))
        if mime_prefix:
            where.append(files.c.mime.startswith(mime_prefix, autoescape=True))
        if other_kind:
            where.append(sa.not_(sa.or_(*(files.c.mime.startswith(p) for p in ("video/", "audio/", "image/")))))
        if search:
            where.append(sa.func.lower(files.c.filename).contains(search.lower(), autoescape=True))
        if user_id:
            where.append(files.c.user_id == user_id)
        statement = FILES.select().where(*where).order_by(files.c.created_at.desc(), files.c.id.desc()).limit(limit)
        return FILES.all(await self.db.execute(statement))

    async def set_require_signed(self, file_id: str, require_signed: bool, conn: Conn | None = None) -> None:
        """Make a file public (``False``) or signed-only (``True``)."""
        update = sa.update(files).where(files.c.id == file_id).values(require_signed=require_signed, updated_at=now())
        await self.db.execute(update, conn)

    async def touch(self, file_id: str) -> None:
        """Mark a reservation as in use again (a retried ingest resumes it), so no sweep takes it."""
        await self.db.execute(sa.update(files).where(files.c.id == file_id).values(updated_at=now()))

    async def stale_reservations(self, before: float, limit: int = 100) -> list[FileRecord]:
        """Files still ``uploading`` since before ``before``: their ingest died with its process."""
        statement = (
            FILES.select()
            .where(files.c.status == "uploading", files.c.updated_at < before)
            .order_by(files.c.updated_at)
            .limit(limit)
        )
        return FILES.all(await self.db.execute(statement))

    async def delete(self, file_id: str) -> None:
        """Forget a file; its catalogue asset (if any) becomes ``deleted`` in the same transaction."""
        async with self.db.transaction() as tx:
            deleted = {"status": Status.DELETED.value, "updated_at": now()}
            await tx.execute(sa.update(assets).where(assets.c.file_id == file_id).values(**deleted))
            await tx.execute(sa.delete(files).where(files.c.id == file_id))
