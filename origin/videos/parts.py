"""Chunked upload of a video's media: parts with a byte range and an MD5, then completion.

A part (``POST /api/videos/{id}/part``) is checked whole before it is kept: its size matches its
``Content-Range``, its MD5 the declared ``hash``, its range lies inside the declared total and
overlaps no other index's range, and it is ``videos.min_part_bytes`` … ``videos.max_part_bytes``
long (the part that ends the file may be shorter). Its bytes go to storage under a key named by the
index and the MD5 (``{tenant}/{user}/videos/{id}.parts/{index}-{md5}``), which no edge serves; sending
an index again replaces it, so a retried part is idempotent.

Completion checks that the parts cover ``0 … total-1`` exactly, streams them in order into the
source object (hashing it with SHA-256 on the way; memory stays flat whatever the size), probes it,
registers the source file under the video's own id, and in one transaction records the media facts,
queues the stream of the video's ladder and moves the video to ``processing`` with its webhook.
Nothing of the video is playable before that commit. A repeated completion answers as the first one.
Parts of an upload never completed are deleted ``videos.parts_expire_after`` after the last one
arrived (:func:`parts_cleaner`, a background service of the origin).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from mediaedge.errors import HTTPError
from mediaedge.keys import build_key, sanitize_filename, sanitize_segment
from mediaedge.settings import parse_duration
from mediaedge.storage import StorageBackend, StorageError
from origin.catalogue.assets import file_stored
from origin.catalogue.status import Status
from origin.ingest import DEFAULT_USER, max_file_size
from origin.probe import ProbeResult, guess_mime, probe
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import Asset, Bucket, FileMeta, Tenant, UniqueViolation
from origin.store.schema import now
from origin.store.videos import VideoPart
from origin.streams.service import OUTPUT_SUFFIX, file_stream, queue_stream
from origin.videos.events import emit_video_event
from origin.videos.objects import Video, qualities_of, tenant_asset, view

log = logging.getLogger("mediaedge.origin.videos")
_MD5 = re.compile(r"^[0-9a-fA-F]{32}$")
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
DESTINATION = "videos"
#: A reservation of the source older than this (seconds) is one a completion left when its process died.
STALE_COMPLETION = 3600.0


@dataclass(frozen=True)
class ContentRange:
    first: int
    last: int
    total: int

    @property
    def size(self) -> int:
        return self.last - self.first + 1


def parse_content_range(header: str | None) -> ContentRange:
    """``bytes {start}-{end}/{total}`` (end inclusive); 400 when absent or inconsistent."""
    match = _RANGE.match((header or "").strip())
    if match is None:
        raise HTTPError(400, "Content-Range must be bytes {start}-{end}/{total}", "PART_RANGE_INVALID")
    first, last, total = (int(g) for g in match.groups())
    if first > last or last >= total:
        raise HTTPError(400, f"Content-Range {first}-{last}/{total} is not inside the file", "PART_RANGE_INVALID")
    return ContentRange(first, last, total)


def _user(asset: Asset) -> str:
    return sanitize_segment(asset.user_id or "", fallback=DEFAULT_USER)


def parts_prefix(tenant: Tenant, asset: Asset) -> str:
    return build_key(tenant.id, _user(asset), DESTINATION, f"{asset.id}.parts") + "/"


async def _bucket(state: OriginState, tenant: Tenant) -> Bucket:
    bucket = await state.store.buckets.get(tenant.id, None)
    if bucket is None:
        raise HTTPError(404, "The tenant has no default bucket", "BUCKET_NOT_FOUND")
    return bucket


def _md5_of(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def _check_open(asset: Asset) -> None:
    if asset.status == Status.DELETED:
        raise HTTPError(409, "The video is deleted", "VIDEO_DELETED")
    if asset.file_id or asset.status != Status.QUEUED:
        raise HTTPError(409, "The video's upload is already complete", "UPLOAD_COMPLETED")


async def put_part(
    state: OriginState,
    tenant: Tenant,
    video_id: str,
    *,
    index: int,
    md5: str,
    byte_range: ContentRange,
    spool_path: str,
    filename: str,
) -> None:
    """Keep one part (consumes ``spool_path``); 400 naming what does not match."""
    asset = await tenant_asset(state, tenant, video_id)
    _check_open(asset)
    settings = state.settings.videos
    if index < 0:
        raise HTTPError(400, "index must be a non-negative integer", "PART_INDEX_INVALID")
    if not _MD5.match(md5):
        raise HTTPError(400, "hash must be the part's MD5 as 32 hex digits", "PART_HASH_INVALID")
    limit = max_file_size(state, tenant)
    if byte_range.total > limit:
        raise HTTPError(413, f"File exceeds the maximum size of {limit} bytes", "PART_TOO_LARGE")
    size = os.stat(spool_path).st_size  # noqa: ASYNC240 - one stat of a local file
    if size != byte_range.size:
        raise HTTPError(
            400, f"The part has {size} bytes but Content-Range says {byte_range.size}", "PART_RANGE_MISMATCH"
        )
    if size > settings.max_part_bytes or (size < settings.min_part_bytes and byte_range.last != byte_range.total - 1):
        raise HTTPError(
            400,
            f"Parts are {settings.min_part_bytes} to {settings.max_part_bytes} bytes long (the last "
            f"one may be shorter); this one has {size}",
            "PART_SIZE_INVALID",
        )
    for other in await state.store.video_parts.list(asset.id):
        if other.idx == index:
            continue
        if other.total != byte_range.total:
            raise HTTPError(
                400,
                f"Content-Range total {byte_range.total} differs from part {other.idx}'s {other.total}",
                "PART_RANGE_MISMATCH",
            )
        if byte_range.first <= other.last_byte and other.first_byte <= byte_range.last:
            raise HTTPError(
                400,
                f"Content-Range {byte_range.first}-{byte_range.last} overlaps part {other.idx} "
                f"({other.first_byte}-{other.last_byte})",
                "PART_RANGE_MISMATCH",
            )
    actual = await asyncio.to_thread(_md5_of, spool_path)
    if not hmac.compare_digest(actual, md5.lower()):
        raise HTTPError(400, f"hash does not match the MD5 of part {index}", "PART_HASH_MISMATCH")
    bucket = await _bucket(state, tenant)
    backend = state.backend(bucket)
    key = f"{parts_prefix(tenant, asset)}{index:06d}-{actual}"
    try:
        await backend.put_file(key, spool_path, "application/octet-stream")
    except StorageError as exc:
        raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
    part = VideoPart(
        asset.id,
        index,
        tenant.id,
        byte_range.first,
        byte_range.last,
        byte_range.total,
        actual,
        key,
        sanitize_filename(filename) if filename else "",
        now(),
    )
    replaced = await state.store.video_parts.put(part)
    if replaced is not None and replaced.key != key:
        await backend.delete(replaced.key)


def _coverage(parts: list[VideoPart]) -> int:
    """The total the parts cover exactly from byte 0, or a 400 saying what is missing."""
    if not parts:
        raise HTTPError(400, "No part has been uploaded", "PARTS_INCOMPLETE")
    ordered = sorted(parts, key=lambda p: p.first_byte)
    total, expected = ordered[0].total, 0
    for part in ordered:
        if part.first_byte != expected:
            raise HTTPError(400, f"Bytes {expected}-{part.first_byte - 1} of {total} are missing", "PARTS_INCOMPLETE")
        expected = part.last_byte + 1
    if expected != total:
        raise HTTPError(400, f"Bytes {expected}-{total - 1} of {total} are missing", "PARTS_INCOMPLETE")
    return total


async def _assemble(backend: StorageBackend, key: str, parts: list[VideoPart], mime: str) -> tuple[int, str]:
    """Write the parts in order as one object; its size and SHA-256."""
    digest = hashlib.sha256()

    async def chunks() -> AsyncIterator[bytes]:
        for part in sorted(parts, key=lambda p: p.first_byte):
            async for chunk in backend.open_range(part.key):
                digest.update(chunk)
                yield chunk

    info = await backend.write(key, chunks(), mime)
    return info.size, digest.hexdigest()


async def complete_upload(state: OriginState, tenant: Tenant, video_id: str) -> Video:
    """Assemble, probe and register the source, and start the ladder (see the module's docstring)."""
    asset = await tenant_asset(state, tenant, video_id)
    if asset.status == Status.DELETED:
        raise HTTPError(409, "The video is deleted", "VIDEO_DELETED")
    if asset.stream_id or asset.status != Status.QUEUED:
        return await view(state, asset)
    parts = await state.store.video_parts.list(asset.id)
    total = _coverage(parts)
    bucket = await _bucket(state, tenant)
    backend = state.backend(bucket)
    filename = min(parts, key=lambda p: p.first_byte).filename or "source.mp4"
    mime = guess_mime(filename, "video/mp4")
    record = await state.store.files.get(asset.id)  # a reservation an interrupted completion left
    if record is None:
        try:
            record = await state.store.files.reserve(
                tenant.id,
                bucket.name,
                _user(asset),
                f"{DESTINATION}/{asset.id}",
                filename,
                require_signed=not asset.is_public,
                source="upload",
                file_id=asset.id,
            )
        except UniqueViolation:
            raise HTTPError(409, "The upload is being completed by another request", "UPLOAD_COMPLETING") from None
    elif record.status == "uploading" and now() - record.updated_at < STALE_COMPLETION:
        raise HTTPError(409, "The upload is being completed by another request", "UPLOAD_COMPLETING")
    try:
        size, sha256 = await _assemble(backend, record.key, parts, mime)
        if size != total:
            raise HTTPError(500, f"Assembled {size} of {total} bytes", "PARTS_INCOMPLETE")
        info = await backend.stat(record.key)
        source = backend.local_path(record.key) or await backend.presign_get(record.key, 600)
        found = await probe(source) if source else ProbeResult()
        if not (found.video_codec or found.audio_codec):
            raise _Unplayable()
        kind = "video" if found.video_codec else "audio"
        if not mime.startswith(("video/", "audio/")):
            mime = f"{kind}/mp4"
        meta = FileMeta(
            info.size, info.etag, mime, found.duration, found.width, found.height, found.video_codec, found.audio_codec
        )
        async with state.store.transaction() as tx:
            record = await state.store.files.complete(record.id, meta, tx)
        new = await file_stream(
            state,
            tenant,
            record,
            name=asset.title,
            signed=not asset.is_public,
            qualities=qualities_of(asset, None),  # the encoder skips what is above the source
            meta={"video_id": asset.id},
        )
        async with state.store.transaction() as tx:
            stream_id = await queue_stream(state, tx, new)
            await file_stored(state.store, record, tx)
            await state.store.assets.advance(asset.id, Status.PROCESSING, conn=tx)
            updated = await state.store.assets.update(
                tenant.id, asset.id, conn=tx, stream_id=stream_id, sha256=sha256, kind=kind
            )
            assert updated is not None
            await emit_video_event(tx, updated)
    except _Unplayable:
        await _discard_source(state, backend, record.id, record.key)
        await _fail(state, asset, "the uploaded file is not a playable video or audio file")
        raise HTTPError(400, "The uploaded file is not a playable video or audio file", "MEDIA_UNREADABLE") from None
    except StorageError as exc:
        await _discard_source(state, backend, record.id, record.key)
        raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
    except BaseException:
        await _discard_source(state, backend, record.id, record.key)
        raise
    await discard_parts(state, tenant, asset)
    await purge_edges(state, [record.key], [f"{record.key}{OUTPUT_SUFFIX}"])  # 404s edges remember from polls
    return await view(state, updated)


class _Unplayable(Exception):
    """The assembled file has neither a video nor an audio stream ffmpeg can read."""


async def _discard_source(state: OriginState, backend: StorageBackend, file_id: str, key: str) -> None:
    """Undo a completion that did not finish: the source object and its reservation (the parts stay)."""
    await backend.delete(key)
    await state.store.files.delete(file_id)


async def _fail(state: OriginState, asset: Asset, error: str) -> None:
    async with state.store.transaction() as tx:
        await state.store.assets.advance(asset.id, Status.FAILED, conn=tx)
        failed = await state.store.assets.update(asset.tenant_id, asset.id, conn=tx, error=error)
        if failed is not None:
            await emit_video_event(tx, failed)


async def discard_parts(state: OriginState, tenant: Tenant, asset: Asset) -> None:
    """Remove the video's uploaded parts (objects and rows)."""
    parts = await state.store.video_parts.list(asset.id)
    if not parts:
        return
    backend = state.backend(await _bucket(state, tenant))
    for part in parts:
        await backend.delete(part.key)
    await state.store.video_parts.delete_all(asset.id)


async def expire_parts(state: OriginState, now: float | None = None) -> int:
    """Delete the parts of uploads not completed within ``videos.parts_expire_after`` of their last part;
    how many uploads. The videos stay (``new``): a client can start their upload again."""
    now = time.time() if now is None else now
    before = now - parse_duration(state.settings.videos.parts_expire_after)
    expired = 0
    for tenant_id, asset_id in await state.store.video_parts.abandoned(before):
        tenant = await state.store.tenants.get(tenant_id)
        asset = await state.store.assets.get(tenant_id, asset_id)
        if tenant is not None and asset is not None:
            await discard_parts(state, tenant, asset)
        else:  # the tenant or the video is gone; its rows went with it (foreign keys)
            await state.store.video_parts.delete_all(asset_id)
        expired += 1
    return expired


async def parts_cleaner(state: OriginState) -> None:
    """Run :func:`expire_parts` every ``videos.cleanup_interval`` seconds until cancelled."""
    while True:
        try:
            count = await expire_parts(state)
            if count:
                log.info("videos: parts of %d abandoned uploads deleted", count)
        except Exception:
            log.exception("videos: parts cleanup failed")
        await asyncio.sleep(state.settings.videos.cleanup_interval)
