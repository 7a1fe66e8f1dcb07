"""The lifecycle of a TUS upload over the metadata store, the spool file and ingest.

create → (append)* → finish: when the last byte is durable, :func:`finish` hands the spool file to
:func:`origin.ingest.ingest_file` (bucket, probe, record, webhook event) through a second name, so a
failed ingest leaves the bytes in place and the upload complete but unregistered. The next HEAD, an
empty PATCH or the cleaner retries it (:func:`settle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

from cachetools import LRUCache

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from origin.ingest import ingest_file
from origin.state import OriginState
from origin.store import FileRecord, Tenant, TusUpload
from origin.tus import spool
from origin.tus.checksum import Checksum
from origin.tus.locks import HeldLock, upload_lock
from origin.tus.metadata import Metadata, ingest_request
from origin.tus.receive import Outcome, receive_body

#: The tenant of each upload (it never changes), so most requests check ownership without a query.
_tenant_of: LRUCache[str, str] = LRUCache(maxsize=65536)


def not_found() -> HTTPError:
    return HTTPError(404, "Upload not found", "UPLOAD_NOT_FOUND")


def too_large(limit: int) -> HTTPError:
    return HTTPError(413, f"Upload exceeds the maximum size of {limit} bytes", headers={"Tus-Max-Size": str(limit)})


def max_size(state: OriginState, tenant: Tenant) -> int:
    """Tus-Max-Size: the tenant's own limit, else ``tus.max_size`` (capped by ``origin.max_file_size``)."""
    return tenant.max_file_size or min(state.settings.tus.max_size, state.settings.origin.max_file_size)


def _expiry(state: OriginState) -> float:
    return time.time() + parse_duration(state.settings.tus.expires_after)


async def _record(
    state: OriginState, tenant: Tenant, length: int | None, metadata: Metadata, bucket: str | None, **kind: Any
) -> TusUpload:
    """The upload's row (``kind``: ``is_partial``, or ``is_final`` with ``parts``), expiring per settings."""
    upload = await state.store.uploads.create(
        tenant.id, length=length, metadata=metadata, bucket=bucket, expires_at=_expiry(state), **kind
    )
    _tenant_of[upload.id] = tenant.id
    return upload


async def create(
    state: OriginState,
    tenant: Tenant,
    *,
    length: int | None,
    metadata: Metadata,
    bucket: str | None,
    is_partial: bool = False,
) -> TusUpload:
    upload = await _record(state, tenant, length, metadata, bucket, is_partial=is_partial)
    await asyncio.to_thread(spool.create, spool.spool_path(state.settings, upload.id))
    return upload


async def create_final(
    state: OriginState, tenant: Tenant, part_ids: list[str], *, metadata: Metadata, bucket: str | None
) -> TusUpload:
    """A final upload: the finished partial uploads ``part_ids`` concatenated, in order (not yet ingested)."""
    parts = [await state.store.uploads.get(part_id, tenant.id) for part_id in part_ids]
    found = [p for p in parts if p is not None]
    if len(found) != len(parts):
        raise HTTPError(404, "A partial upload of Upload-Concat was not found", "UPLOAD_NOT_FOUND")
    if not all(p.is_partial and p.complete for p in found):
        raise HTTPError(400, "Upload-Concat may only list finished partial uploads", "TUS_CONCAT_INVALID")
    length = sum(p.offset for p in found)
    if length > (limit := max_size(state, tenant)):
        raise too_large(limit)
    upload = await _record(state, tenant, length, metadata, bucket, is_final=True, parts=part_ids)
    sources = [(spool.spool_path(state.settings, p.id), p.offset) for p in found]
    await asyncio.to_thread(spool.concatenate, spool.spool_path(state.settings, upload.id), sources)
    await state.store.uploads.set_progress(upload.id, length)
    return dataclasses.replace(upload, offset=length)


@contextlib.asynccontextmanager
async def locked(
    state: OriginState,
    upload_id: str,
    tenant_id: str | None = None,
    *,
    interrupt: bool = True,
    wait: float | None = None,
) -> AsyncIterator[tuple[TusUpload, HeldLock]]:
    """The upload under its lock, its offset reconciled with the bytes on disk.

    404 unless it exists (and, with ``tenant_id``, is that tenant's): ownership is checked before taking
    the lock, so nobody can interrupt another tenant's PATCH.
    """
    if tenant_id is not None and await _owner(state, upload_id) != tenant_id:
        raise not_found()
    settings = state.settings.tus
    async with upload_lock(
        state.store,
        upload_id,
        wait=settings.lock_timeout if wait is None else wait,
        lease=settings.lock_lease,
        interrupt=interrupt,
    ) as held:
        yield await _reconcile(state, held.upload), held


async def _owner(state: OriginState, upload_id: str) -> str | None:
    if upload_id not in _tenant_of:
        upload = await state.store.uploads.get(upload_id)
        if upload is None:
            return None
        _tenant_of[upload_id] = upload.tenant_id
    return _tenant_of[upload_id]


async def _reconcile(state: OriginState, upload: TusUpload) -> TusUpload:
    if upload.file_id is not None:  # registered: the bytes live in the bucket now
        return upload
    # A stat (a truncate only after a crash): cheap enough to stay on the event loop.
    durable = spool.reconcile(spool.spool_path(state.settings, upload.id), upload.offset)
    if durable == upload.offset:
        return upload
    await state.store.uploads.set_progress(upload.id, durable)
    return dataclasses.replace(upload, offset=durable)


async def set_length(state: OriginState, tenant: Tenant, upload: TusUpload, length: int) -> TusUpload:
    """Fix a deferred Upload-Length (creation-defer-length); a known length may only be repeated."""
    if upload.length is not None:
        if length != upload.length:
            raise HTTPError(400, "Upload-Length cannot change once set", "TUS_LENGTH_INVALID")
        return upload
    if length < upload.offset:
        raise HTTPError(400, "Upload-Length is below the current offset", "TUS_LENGTH_INVALID")
    if length > (limit := max_size(state, tenant)):
        raise too_large(limit)
    await state.store.uploads.set_progress(upload.id, upload.offset, length=length)
    return dataclasses.replace(upload, length=length)


async def append(
    state: OriginState,
    tenant: Tenant,
    upload: TusUpload,
    held: HeldLock,
    chunks: AsyncIterator[bytes],
    checksum: Checksum | None = None,
) -> tuple[TusUpload, FileRecord | None]:
    """Append a body at the upload's offset, record the durable offset, finish the upload when complete.

    Without a checksum every received byte is kept, however the body ends. With one the body is
    all-or-nothing: a mismatch (460) or a body that did not arrive whole leaves the offset unchanged.
    After saving, a body that overflowed answers 413 and an interrupted one 400.
    """
    path = spool.spool_path(state.settings, upload.id)
    room = (upload.length if upload.length is not None else max_size(state, tenant)) - upload.offset

    async def heartbeat(durable: int) -> None:
        if await held.renew(state.store) and checksum is None:
            await state.store.uploads.set_progress(upload.id, durable)

    got = await receive_body(
        chunks, path, upload.offset, room, held, heartbeat, checksum.hasher() if checksum else None
    )
    offset = got.offset
    verified = checksum is None or (got.outcome is Outcome.DONE and checksum.matches(got.digest or b""))
    if not verified:
        await asyncio.to_thread(spool.truncate, path, upload.offset)
        offset = upload.offset
    expires_at = _expiry(state)
    await state.store.uploads.set_progress(upload.id, offset, expires_at=expires_at)
    upload = dataclasses.replace(upload, offset=offset, expires_at=expires_at)
    saved = {"Upload-Offset": str(offset)}
    if checksum is not None and got.outcome is Outcome.DONE and not verified:
        raise HTTPError(460, f"Upload-Checksum ({checksum.algorithm}) does not match", "TUS_CHECKSUM_MISMATCH", saved)
    upload, record = await settle(state, tenant, upload)
    if got.outcome is Outcome.OVERFLOW:
        raise HTTPError(413, "The body went past Upload-Length or the maximum size; what fitted was kept", None, saved)
    if got.outcome is Outcome.STOPPED:
        raise HTTPError(400, "Interrupted by another request for this upload", "UPLOAD_INTERRUPTED", saved)
    if got.outcome is Outcome.DISCONNECTED:
        raise HTTPError(400, "The client disconnected", "CLIENT_DISCONNECTED", saved)
    return upload, record


async def settle(state: OriginState, tenant: Tenant, upload: TusUpload) -> tuple[TusUpload, FileRecord | None]:
    """The upload and its file: ingested now if complete but not yet registered."""
    if upload.needs_ingest:
        return await finish(state, tenant, upload)
    return upload, await state.store.files.get(upload.file_id) if upload.file_id else None


async def finish(state: OriginState, tenant: Tenant, upload: TusUpload) -> tuple[TusUpload, FileRecord]:
    """Ingest the complete upload as a file and record it; on failure the spool file stays for a retry."""
    path = spool.spool_path(state.settings, upload.id)
    link = await asyncio.to_thread(spool.ingest_link, path)
    record = await ingest_file(state, tenant, link, ingest_request(upload))
    await state.store.uploads.set_file(upload.id, record.id)
    await asyncio.to_thread(spool.remove, path)
    return dataclasses.replace(upload, file_id=record.id), record


async def remove(state: OriginState, upload: TusUpload) -> None:
    """Delete the upload and its bytes (a registered file stays: it is the tenant's file now)."""
    await asyncio.to_thread(spool.remove, spool.spool_path(state.settings, upload.id))
    await state.store.uploads.delete(upload.id)
