"""Streams: stream copies of a source made by a provider (seed 000 "Create Stream Copies")."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from origin.store.db import Conn, Database, Records
from origin.store.schema import now, streams

#: Columns a status change may set (see :meth:`StreamRepository.update`).
_MUTABLE = frozenset(
    {
        "status",
        "progress",
        "uid",
        "hls_url",
        "dash_url",
        "thumbnail",
        "duration",
        "outputs",
        "error",
        "job_id",
        "require_signed",
    }
)


@dataclass(frozen=True)
class StreamRecord:
    id: str
    tenant_id: str
    provider: str
    url: str
    source_ref: str  # what duplicates are detected by: the source file's id, or the URL
    source_file_id: str | None
    bucket: str | None
    output_prefix: str | None
    uid: str | None
    status: str  # pending | processing | downloading | ready | failed
    progress: float
    meta: dict[str, Any]
    qualities: list[dict[str, Any]] | None
    require_signed: bool
    hls_url: str | None
    dash_url: str | None
    thumbnail: str | None
    duration: float | None
    outputs: dict[str, Any]
    error: str | None
    job_id: str | None
    created_at: float
    updated_at: float


STREAMS = Records(StreamRecord, streams)


@dataclass(frozen=True)
class NewStream:
    """A stream to insert (the row's identity and request; status starts ``pending``)."""

    tenant_id: str
    provider: str
    url: str
    source_ref: str
    meta: dict[str, Any]
    require_signed: bool
    qualities: list[dict[str, Any]] | None = None
    source_file_id: str | None = None
    bucket: str | None = None
    output_prefix: str | None = None


class StreamRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, conn: Conn, new: NewStream) -> str:
        """Insert a ``pending`` stream on ``conn``; :class:`IntegrityError` if the source already has one."""
        stream_id = secrets.token_hex(12)
        created = now()
        await conn.execute(
            sa.insert(streams).values(
                id=stream_id, **vars(new), status="pending", created_at=created, updated_at=created
            )
        )
        return stream_id

    async def restart(self, conn: Conn, stream_id: str, new: NewStream) -> None:
        """Make a failed stream ``pending`` again with the new request."""
        await conn.execute(
            sa.update(streams)
            .where(streams.c.id == stream_id)
            .values(
                status="pending",
                progress=0,
                uid=None,
                error=None,
                url=new.url,
                meta=new.meta,
                qualities=new.qualities,
                require_signed=new.require_signed,
                hls_url=None,
                dash_url=None,
                thumbnail=None,
                outputs={},
                updated_at=now(),
            )
        )

    async def get(self, stream_id: str, conn: Conn | None = None, *, for_update: bool = False) -> StreamRecord | None:
        """The stream; ``for_update`` locks its row until ``conn``'s transaction ends (PostgreSQL)."""
        statement = STREAMS.select().where(streams.c.id == stream_id)
        return STREAMS.first(await self.db.execute(statement.with_for_update() if for_update else statement, conn))

    async def get_many(self, stream_ids: list[str]) -> dict[str, StreamRecord]:
        """The streams of ``stream_ids`` that exist, by id (one query)."""
        if not stream_ids:
            return {}
        found = STREAMS.all(await self.db.execute(STREAMS.select().where(streams.c.id.in_(stream_ids))))
        return {stream.id: stream for stream in found}

    async def by_source(self, conn: Conn, tenant_id: str, provider: str, refs: list[str]) -> list[StreamRecord]:
        """The tenant's streams of ``provider`` made from ``refs``, locked until ``conn``'s transaction ends."""
        if not refs:
            return []
        statement = (
            STREAMS.select()
            .where(streams.c.tenant_id == tenant_id, streams.c.provider == provider, streams.c.source_ref.in_(refs))
            .with_for_update()
        )
        return STREAMS.all(await conn.execute(statement))

    async def of_source(self, tenant_id: str, source_ref: str, status: str | None = None) -> list[StreamRecord]:
        """The streams made from one source (any provider; only those with ``status`` if given), oldest first."""
        where = [streams.c.tenant_id == tenant_id, streams.c.source_ref == source_ref]
        if status is not None:
            where.append(streams.c.status == status)
        statement = STREAMS.select().where(*where).order_by(streams.c.created_at)
        return STREAMS.all(await self.db.execute(statement))

    async def by_output_prefix(self, prefix: str) -> StreamRecord | None:
        return STREAMS.first(await self.db.execute(STREAMS.select().where(streams.c.output_prefix == prefix)))

    async def page(
        self, tenant_id: str, *, limit: int, offset: int, status: str | None = None
    ) -> tuple[list[StreamRecord], int]:
        """One page of a tenant's streams, newest first, and the total count."""
        where = [streams.c.tenant_id == tenant_id]
        if status:
            where.append(streams.c.status == status)
        listed = STREAMS.select().where(*where).order_by(streams.c.created_at.desc(), streams.c.id)
        found = STREAMS.all(await self.db.execute(listed.limit(limit).offset(offset)))
        total = (await self.db.execute(sa.select(sa.func.count()).select_from(streams).where(*where))).scalar()
        return found, int(total or 0)

    async def update(self, conn: Conn, stream_id: str, **changes: Any) -> bool:
        """Set some of :data:`_MUTABLE`; ``False`` if the stream is gone (deleted meanwhile)."""
        unknown = set(changes) - _MUTABLE
        if unknown:
            raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
        update = sa.update(streams).where(streams.c.id == stream_id).values(**changes, updated_at=now())
        return (await conn.execute(update)).rowcount == 1

    async def delete(self, conn: Conn, stream_id: str) -> bool:
        return (await conn.execute(sa.delete(streams).where(streams.c.id == stream_id))).rowcount == 1
