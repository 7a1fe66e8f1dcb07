"""SQL for streams: stream copies of a source made by a provider (seed 000 "Create Stream Copies")."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import orjson

from origin.store.db import Conn, Database, Row

#: Columns a status change may set (see :meth:`StreamStore.update_stream`).
_MUTABLE = frozenset(
    {"status", "progress", "uid", "hls_url", "dash_url", "thumbnail", "duration", "outputs", "error", "job_id"}
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

    @classmethod
    def from_row(cls, row: Row) -> StreamRecord:
        return cls(
            **{
                **row,
                "meta": orjson.loads(row["meta"]),
                "qualities": orjson.loads(row["qualities"]) if row["qualities"] else None,
                "outputs": orjson.loads(row["outputs"]),
                "require_signed": bool(row["require_signed"]),
            }
        )


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


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


class StreamStore:
    db: Database

    async def insert_stream(self, conn: Conn, new: NewStream) -> str:
        """Insert a ``pending`` stream on ``conn``; :class:`IntegrityError` if the source already has one."""
        stream_id = secrets.token_hex(12)
        now = time.time()
        await conn.execute(
            "INSERT INTO streams (id, tenant_id, provider, url, source_ref, source_file_id, bucket, output_prefix,"
            " status, meta, qualities, require_signed, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
            stream_id,
            new.tenant_id,
            new.provider,
            new.url,
            new.source_ref,
            new.source_file_id,
            new.bucket,
            new.output_prefix,
            _json(new.meta),
            _json(new.qualities),
            int(new.require_signed),
            now,
            now,
        )
        return stream_id

    async def restart_stream(self, conn: Conn, stream_id: str, new: NewStream) -> None:
        """Make a failed stream ``pending`` again with the new request."""
        await conn.execute(
            "UPDATE streams SET status = 'pending', progress = 0, uid = NULL, error = NULL, url = ?, meta = ?,"
            " qualities = ?, require_signed = ?, hls_url = NULL, dash_url = NULL, thumbnail = NULL,"
            " outputs = '{}', updated_at = ? WHERE id = ?",
            new.url,
            _json(new.meta),
            _json(new.qualities),
            int(new.require_signed),
            time.time(),
            stream_id,
        )

    async def get_stream(self, stream_id: str, conn: Conn | None = None) -> StreamRecord | None:
        row = await (conn or self.db).fetchone("SELECT * FROM streams WHERE id = ?", stream_id)
        return StreamRecord.from_row(row) if row else None

    async def streams_by_source(self, conn: Conn, tenant_id: str, provider: str, refs: list[str]) -> list[StreamRecord]:
        if not refs:
            return []
        marks = ", ".join("?" * len(refs))
        rows = await conn.fetchall(
            f"SELECT * FROM streams WHERE tenant_id = ? AND provider = ? AND source_ref IN ({marks})",  # noqa: S608
            tenant_id,
            provider,
            *refs,
        )
        return [StreamRecord.from_row(r) for r in rows]

    async def ready_streams_of_source(self, tenant_id: str, source_ref: str) -> list[StreamRecord]:
        """The ready streams made from one source (any provider), oldest first."""
        rows = await self.db.fetchall(
            "SELECT * FROM streams WHERE tenant_id = ? AND source_ref = ? AND status = 'ready' ORDER BY created_at",
            tenant_id,
            source_ref,
        )
        return [StreamRecord.from_row(r) for r in rows]

    async def stream_by_output_prefix(self, prefix: str) -> StreamRecord | None:
        row = await self.db.fetchone("SELECT * FROM streams WHERE output_prefix = ?", prefix)
        return StreamRecord.from_row(row) if row else None

    async def list_streams(
        self, tenant_id: str, *, limit: int, offset: int, status: str | None = None
    ) -> tuple[list[StreamRecord], int]:
        """One page of a tenant's streams, newest first, and the total count."""
        where, args = "tenant_id = ?", [tenant_id]
        if status:
            where, args = where + " AND status = ?", [*args, status]
        rows = await self.db.fetchall(
            f"SELECT * FROM streams WHERE {where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?",  # noqa: S608
            *args,
            limit,
            offset,
        )
        total = await self.db.fetchval(f"SELECT COUNT(*) AS n FROM streams WHERE {where}", *args)  # noqa: S608
        return [StreamRecord.from_row(r) for r in rows], int(total or 0)

    async def update_stream(self, conn: Conn, stream_id: str, **changes: Any) -> bool:
        """Set some of :data:`_MUTABLE`; ``False`` if the stream is gone (deleted meanwhile)."""
        unknown = set(changes) - _MUTABLE
        if unknown:
            raise ValueError(f"not updatable: {', '.join(sorted(unknown))}")
        if "outputs" in changes:
            changes["outputs"] = _json(changes["outputs"])
        assignments = ", ".join(f"{column} = ?" for column in changes)
        changed = await conn.execute(
            f"UPDATE streams SET {assignments}, updated_at = ? WHERE id = ?",  # noqa: S608 - fixed column names
            *changes.values(),
            time.time(),
            stream_id,
        )
        return changed == 1

    async def delete_stream(self, conn: Conn, stream_id: str) -> bool:
        return await conn.execute("DELETE FROM streams WHERE id = ?", stream_id) == 1
