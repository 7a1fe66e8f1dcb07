"""The last step of every ingest path (direct upload, TUS, from-URL): spool file → bucket → record.

A name is reserved first (race-free ``_1`` suffixing), the spool file is probed, moved into the
bucket's backend atomically, and the record flips to ``ready`` — only then can the edge serve it.
Then the edges are told to forget the key: one that answered 404 for it a moment ago (a player
polling, or the URL of a file deleted before) remembers that for a few seconds. Any failure removes
the reservation and the spool file: nothing half-done stays visible.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from typing import Any

from mediaedge.errors import HTTPError
from mediaedge.keys import sanitize_destination, sanitize_filename, sanitize_segment
from mediaedge.storage import StorageError
from origin.catalogue.assets import file_stored
from origin.probe import ProbeResult, guess_mime, is_media, probe
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import FileMeta, FileRecord, Tenant
from origin.webhooks import emit, file_uploaded_event, url_uploaded_event

DEFAULT_USER = "anonymous"


@dataclass(frozen=True)
class IngestRequest:
    """What the client asked for, before sanitising."""

    filename: str
    user_id: str | None = None
    destination: str | None = None
    bucket: str | None = None
    require_signed: bool = False
    declared_type: str | None = None
    source: str = "direct"
    source_url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    #: Set by ingests that can be retried after a crash (TUS, upload from URL): see ingest_file.
    ingest_key: str | None = None
    #: The catalogue asset the bytes are for, when an API made it first (the file takes its id).
    asset_id: str | None = None
    #: What the caller's own probe of the spool file found, so it is not probed twice.
    probed: ProbeResult | None = None


def max_file_size(state: OriginState, tenant: Tenant) -> int:
    return tenant.max_file_size or state.settings.origin.max_file_size


def parse_bool(value: str | bool | None) -> bool:
    if isinstance(value, bool):
        return value
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


async def ingest_file(state: OriginState, tenant: Tenant, spool_path: str, req: IngestRequest) -> FileRecord:
    """Move a finished spool file into the tenant's bucket and register it. Consumes ``spool_path``.

    With ``req.ingest_key`` the ingest is idempotent: a retry after a crash returns the file an
    earlier attempt registered (no second file, no second webhook), or finishes the reservation an
    interrupted attempt left (same key, no ``_1`` suffix).
    """
    try:
        prior = await state.store.files.by_ingest_key(req.ingest_key) if req.ingest_key else None
        if prior is not None and prior.status == "ready":
            return prior
        if prior is not None:
            await state.store.files.touch(prior.id)
        size = os.stat(spool_path).st_size  # noqa: ASYNC240 - one stat of a local file
        limit = max_file_size(state, tenant)
        if size > limit:
            raise HTTPError(413, f"File exceeds the maximum size of {limit} bytes")
        bucket = await state.store.buckets.get(tenant.id, req.bucket)
        if bucket is None:
            raise HTTPError(404, f"Bucket not found: {req.bucket}", "BUCKET_NOT_FOUND")
        backend = state.backend(bucket)
        filename = sanitize_filename(req.filename)
        record = prior or await state.store.files.reserve(
            tenant.id,
            bucket.name,
            sanitize_segment(req.user_id or "", fallback=DEFAULT_USER),
            sanitize_destination(req.destination),
            filename,
            require_signed=req.require_signed,
            source=req.source,
            ingest_key=req.ingest_key,
            file_id=req.asset_id,
        )
        try:
            mime = guess_mime(filename, req.declared_type)
            if req.probed is not None:
                found = req.probed
            else:
                found = await probe(spool_path) if is_media(mime) else ProbeResult()
            info = await backend.put_file(record.key, spool_path, mime)
            meta = FileMeta(
                size=info.size,
                etag=info.etag,
                mime=mime,
                duration=found.duration,
                width=found.width,
                height=found.height,
                video_codec=found.video_codec,
                audio_codec=found.audio_codec,
            )
            async with state.store.transaction() as tx:
                record = await state.store.files.complete(record.id, meta, conn=tx)
                await on_file_ready(state, tenant, record, req, tx)
        except BaseException:
            await state.store.files.delete(record.id)
            raise
        await purge_edges(state, [record.key])
    except StorageError as exc:
        raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(spool_path)
    return record


async def on_file_ready(state: OriginState, tenant: Tenant, record: FileRecord, req: IngestRequest, tx: Any) -> None:
    """The catalogue entry and the events of a file becoming ready, committed in the same transaction."""
    await file_stored(state.store, record, tx)
    url = state.access_url(record)
    if req.source == "url" and req.source_url:
        event = url_uploaded_event(record, url, req.source_url, req.meta)
    else:
        event = file_uploaded_event(record, url, req.meta)
    await emit(tx, tenant, event)
