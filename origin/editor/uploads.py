"""Chunked upload sessions: ``POST /api/upload/media`` then ``PUT /api/upload/media?id=`` chunks with
``Content-Range: bytes a-b/total``.

A session is a resumable upload of :mod:`origin.tus` (spool file, durable offset, a lock per upload
across processes, expiry after ``tus.expires_after`` without a chunk) plus the media file it becomes:
the session's ``id`` is the media file's id, listed with status ``upload`` and its progress while the
bytes arrive. Bytes stream to the spool file as they arrive (never held in memory), are made durable
before the offset that covers them is recorded, and a chunk cut short keeps what arrived: the
``Range: bytes=0-N`` of every answer is exactly what the server holds. A chunk that starts before
that is trimmed to its new bytes; one that starts after it is refused with the same 206 answer (the
client resends from ``N + 1``). When the last byte is durable the file is ingested (bucket, probe)
into the media file and its timeline thumbnails are queued.
"""

from __future__ import annotations

import base64
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from origin.catalogue.ids import new_asset_id
from origin.catalogue.status import Status
from origin.editor.kinds import media_type
from origin.editor.media import editor_extra, get_asset, path_of, set_editor_extra
from origin.editor.sessions import Caller, user_id
from origin.ingest import max_file_size
from origin.state import OriginState
from origin.store import Asset
from origin.tus import uploads as tus
from origin.tus.metadata import ASSET_KEY

_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass(frozen=True)
class Held:
    """What the server holds of an upload after a request: ``offset`` bytes of ``total``."""

    offset: int
    total: int
    asset: Asset

    @property
    def complete(self) -> bool:
        return self.offset >= self.total


def upload_limit(message: str) -> HTTPError:
    return HTTPError(507, message, "exceeded_per_user_size")


def unsupported(name: str) -> HTTPError:
    return HTTPError(514, f"Unsupported media: {name}", "unsupported_media")


async def check_room(state: OriginState, caller: Caller, size: int) -> None:
    """507 when one more file of ``size`` bytes passes the file size limit or the user's quota."""
    if size > max_file_size(state, caller.tenant):
        raise HTTPError(
            507, f"The file exceeds the size limit of {max_file_size(state, caller.tenant)} bytes", "exceeded_file_size"
        )
    used = await state.store.editor.bytes_of_user(caller.tenant.id, user_id(caller.session))
    quota = state.settings.editor.user_quota
    if used + size > quota:
        raise upload_limit(f"Upload limit exceeded: {used} of {quota} bytes are used")


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def create_session(state: OriginState, caller: Caller, body: dict[str, Any]) -> Asset:
    size, name = body.get("size"), body.get("name")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise HTTPError(400, "size must be a positive number of bytes", "editor.upload.invalid")
    if not isinstance(name, str) or not name.strip():
        raise HTTPError(400, "name is required", "editor.upload.invalid")
    kind = media_type(name)
    if kind is None:
        raise unsupported(name)
    await check_room(state, caller, size)
    folder = await path_of(state, caller.tenant, body.get("folder"))
    asset_id = new_asset_id()
    upload = await tus.create(
        state,
        caller.tenant,
        length=size,
        metadata={"filename": _b64(name), "userId": _b64(user_id(caller.session)), ASSET_KEY: _b64(asset_id)},
        bucket=None,
    )
    return await state.store.assets.create(
        caller.tenant.id,
        kind=kind,
        title=name,
        asset_id=asset_id,
        folder=folder,
        user_id=user_id(caller.session),
        source="upload",
        dialect="editor",
        size=size,
        progress=0,
        extra={"editor": {"stage": "upload", "upload": upload.id}},
    )


def parse_content_range(header: str | None) -> tuple[int, int, int]:
    match = _RANGE.match((header or "").strip())
    if match is None:
        raise HTTPError(400, "Content-Range must be 'bytes a-b/total'", "editor.upload.range")
    start, end, total = (int(g) for g in match.groups())
    if end < start or end >= total:
        raise HTTPError(400, "Content-Range is not a range of the file", "editor.upload.range")
    return start, end, total


async def _window(chunks: AsyncIterator[bytes], skip: int, take: int) -> AsyncIterator[bytes]:
    """The body without its first ``skip`` bytes, and no more than ``take`` bytes after them."""
    async for chunk in chunks:
        if skip:
            dropped = min(skip, len(chunk))
            chunk, skip = chunk[dropped:], skip - dropped
        if not chunk:
            continue
        if len(chunk) >= take:
            yield chunk[:take]
            return
        take -= len(chunk)
        yield chunk


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read what is left of a body the upload did not take, so the connection stays usable (a
    server that answers before reading the body makes the client see a reset)."""
    with contextlib.suppress(ClientDisconnect):
        async for _ in chunks:
            pass


async def put_chunk(
    state: OriginState, caller: Caller, asset_id: str, content_range: str | None, chunks: AsyncIterator[bytes]
) -> Held:
    """Store one chunk; what the server holds afterwards (complete: the media file is ingested)."""
    asset = await get_asset(state, caller.tenant, asset_id)
    upload_id = editor_extra(asset).get("upload")
    if upload_id is None:
        raise HTTPError(404, "No upload session for this media file", "not_found")
    start, end, total = parse_content_range(content_range)
    async with tus.locked(state, upload_id, caller.tenant.id) as (upload, held):
        if total != upload.length:
            raise HTTPError(
                400, f"Content-Range total must be the session's size ({upload.length})", "editor.upload.range"
            )
        offset = upload.offset
        if upload.file_id is None and start <= offset <= end:
            try:
                upload, record = await tus.append(
                    state, caller.tenant, upload, held, _window(chunks, offset - start, end + 1 - offset)
                )
            except HTTPError as exc:
                if exc.code not in ("UPLOAD_INTERRUPTED", "CLIENT_DISCONNECTED"):
                    raise
                upload = await state.store.uploads.get(upload.id) or upload
                record = None
        else:
            upload, record = await tus.settle(state, caller.tenant, upload)
    await _drain(chunks)
    if record is not None and asset.status != "ready":
        from origin.editor.imports import adopt_file

        asset = await adopt_file(state, asset, record, caller.session.id)
    elif upload.file_id is None:
        asset = (
            await state.store.assets.update(
                caller.tenant.id, asset.id, progress=round(100 * upload.offset / max(total, 1), 1)
            )
            or asset
        )
    return Held(total if upload.file_id else upload.offset, total, asset)


async def status(state: OriginState, caller: Caller, asset_id: str) -> Held:
    """What the server holds of an upload now (``GET`` of the session)."""
    asset = await get_asset(state, caller.tenant, asset_id)
    upload_id = editor_extra(asset).get("upload")
    upload = await state.store.uploads.get(upload_id, caller.tenant.id) if upload_id else None
    if upload is None:
        size = asset.size or 0
        return Held(size, size, asset)
    total = upload.length or 0
    return Held(total if upload.file_id else upload.offset, total, asset)


__all__ = ["Held", "create_session", "parse_content_range", "put_chunk", "set_editor_extra", "status"]


async def fail_expired(state: OriginState, at: float) -> list[str]:
    """Media files whose upload session expired (``tus.expires_after`` without a chunk, then swept)
    become failed uploads; their ids."""
    idle = await state.store.editor.uploads_idle_since(at - parse_duration(state.settings.tus.expires_after))
    failed = []
    for asset in idle:
        upload_id = editor_extra(asset).get("upload")
        if upload_id and await state.store.uploads.get(upload_id) is not None:
            continue  # not swept yet
        async with state.store.transaction() as tx:
            extra = {
                **asset.extra,
                "editor": {**editor_extra(asset), "stage": None, "errorType": "internal_server_error"},
            }
            await state.store.assets.update(
                asset.tenant_id,
                asset.id,
                tx,
                error="The upload session expired before the file was complete",
                extra=extra,
            )
            await state.store.assets.advance(asset.id, Status.FAILED, conn=tx)
        failed.append(asset.id)
    return failed
