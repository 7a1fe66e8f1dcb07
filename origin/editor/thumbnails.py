"""Thumbnails of media files: one frame at a time (frame-accurate), and the timeline strip.

The strip is prepared once per media file by the ``editor.thumbnails`` job, queued when an editor
upload or import becomes ready (or when the editor first sees a file made by another API): one PNG
every ``editor.thumbnail_step`` seconds, ``editor.thumbnail_width`` pixels wide, stored beside the
file in its bucket under ``{tenantId}/_editor/thumbs/{assetId}/{n}.png``. While it runs the file
shows the ``prepare_thumbnails`` status. ``cached=true`` requests read the strip (the picture
nearest each time); others take frames from the file now.
"""

from __future__ import annotations

import math
from typing import Any

from mediaedge.errors import HTTPError
from mediaedge.storage import ObjectNotFound
from origin.editor import frames
from origin.editor.media import editor_extra, set_editor_extra, source_file
from origin.jobs import Job, PermanentJobError, enqueue, register_job
from origin.state import OriginState
from origin.store import Asset
from origin.store.db import Conn

THUMBNAILS = "editor.thumbnails"
#: The longest strip (10 hours at one a second).
MAX_STRIP = 36_000
#: Thumbnails one request may ask for.
MAX_COUNT = 200
PRESIGN_SECONDS = 3600


def thumb_key(asset: Asset, index: int) -> str:
    return f"{asset.tenant_id}/_editor/thumbs/{asset.id}/{index:06d}.png"


async def media_source(state: OriginState, asset: Asset) -> str:
    """Where ffmpeg reads the asset's bytes: a local path, or a presigned URL of its bucket."""
    record = await source_file(state, asset)
    if record is None:
        raise HTTPError(409, "The media file is not ready", "editor.media.not_ready")
    bucket = await state.store.buckets.get(record.tenant_id, record.bucket)
    if bucket is None:
        raise HTTPError(500, "The media file's bucket is gone")
    backend = state.backend(bucket)
    source = backend.local_path(record.key) or await backend.presign_get(record.key, PRESIGN_SECONDS)
    if source is None:
        raise HTTPError(500, "The media file's storage cannot be read by ffmpeg")
    return source


def _clamp(asset: Asset, at: float) -> float:
    """A time inside the media: past the end means its last frame (one frame before the end)."""
    if asset.duration:
        return min(max(at, 0.0), max(asset.duration - 0.04, 0.0))
    return max(at, 0.0)


async def frame(state: OriginState, asset: Asset, ticks: int) -> bytes:
    """The PNG of the frame shown at ``ticks`` (100 ns units)."""
    if asset.kind not in ("video", "image"):
        raise HTTPError(400, "Only video and image files have thumbnails", "unsupported_media")
    source = await media_source(state, asset)
    at = 0.0 if asset.kind == "image" else _clamp(asset, frames.seconds(ticks))
    try:
        return await frames.frame_png(source, at, state.settings.editor.thumbnail_width)
    except frames.FrameError as exc:
        raise HTTPError(422, f"No frame at that time: {exc}", "unsupported_media") from exc


async def prepared(state: OriginState, asset: Asset, ticks: int) -> bytes | None:
    """The prepared strip's picture nearest ``ticks``, or ``None`` if none was prepared."""
    thumbs = editor_extra(asset).get("thumbs")
    if not thumbs or not thumbs.get("count"):
        return None
    index = min(max(round(frames.seconds(ticks) / thumbs["step"]), 0), thumbs["count"] - 1)
    record = await source_file(state, asset)
    bucket = await state.store.buckets.get(asset.tenant_id, record.bucket) if record else None
    if bucket is None:
        return None
    try:
        return b"".join([chunk async for chunk in state.backend(bucket).open_range(thumb_key(asset, index))])
    except ObjectNotFound:
        return None


async def timeline(
    state: OriginState, asset: Asset, start: int, step: int, count: int, cached: bool
) -> list[tuple[int, bytes]]:
    """``count`` thumbnails from ``start`` every ``step`` (100 ns units), as (time, PNG)."""
    if count > MAX_COUNT:
        raise HTTPError(400, f"count is at most {MAX_COUNT}", "editor.param.invalid")
    times = [start + n * step for n in range(count)]
    out: list[tuple[int, bytes]] = []
    for at in times:
        png = await prepared(state, asset, at) if cached else None
        out.append((at, png if png is not None else await frame(state, asset, at)))
    return out


async def queue_preparation(state: OriginState, conn: Conn, asset: Asset, session_id: str | None = None) -> None:
    """Queue the strip for ``asset`` on ``conn``; it shows ``prepare_thumbnails`` until done, then
    ``session_id`` (the session that uploaded or imported it) gets the ``media_ready`` callback."""
    await enqueue(conn, THUMBNAILS, asset.tenant_id, {"asset_id": asset.id, "session": session_id})


async def run_thumbnails(state: OriginState, job: Job) -> dict[str, Any]:
    asset = await state.store.assets.get(job.tenant_id, job.payload["asset_id"])
    if asset is None:
        raise PermanentJobError("The media file is gone")
    record = await source_file(state, asset)
    if record is None:
        raise PermanentJobError("The media file is not ready")
    source = await media_source(state, asset)
    step = state.settings.editor.thumbnail_step
    tracks = await frames.audio_tracks(source) if asset.kind in ("video", "audio") else []
    count = 0
    if asset.kind == "video":
        limit = min(MAX_STRIP, math.ceil((asset.duration or record.duration or 0) / step) or 1)
        pngs = await frames.strip_pngs(source, step, state.settings.editor.thumbnail_width, limit)
        bucket = await state.store.buckets.get(asset.tenant_id, record.bucket)
        assert bucket is not None
        backend = state.backend(bucket)
        for index, png in enumerate(pngs):
            await backend.write(thumb_key(asset, index), _once(png), "image/png")
        count = len(pngs)
    thumbnail = (
        frames.b64(await frames.frame_png(source, 0.0, state.settings.editor.thumbnail_width))
        if asset.kind in ("video", "image")
        else ""
    )
    await set_editor_extra(
        state, asset, stage=None, thumbs={"step": step, "count": count}, audioTracks=tracks, thumbnail=thumbnail
    )
    from origin.editor.imports import announce_ready

    await announce_ready(state, asset, job.payload.get("session"))
    return {"asset_id": asset.id, "thumbnails": count}


async def _once(data: bytes) -> Any:
    yield data


async def thumbnails_failed(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    asset = await state.store.assets.get(job.tenant_id, job.payload["asset_id"], tx)
    if asset is not None:
        await set_editor_extra(state, asset, tx, stage=None, thumbs={"step": 0, "count": 0, "error": error})


async def drop_prepared(state: OriginState, asset: Asset) -> None:
    """Delete the asset's prepared strip."""
    thumbs = editor_extra(asset).get("thumbs") or {}
    record = await state.store.files.get(asset.file_id or asset.id)
    bucket = await state.store.buckets.get(asset.tenant_id, record.bucket) if record else None
    if bucket is None:
        return
    backend = state.backend(bucket)
    for index in range(int(thumbs.get("count") or 0)):
        await backend.delete(thumb_key(asset, index))


register_job(THUMBNAILS, run_thumbnails, on_failed=thumbnails_failed, backoff=(5, 30), max_attempts=3)


async def ensure_prepared(state: OriginState, assets: list[Asset]) -> None:
    """Queue the strip of ready videos and images that have none yet (files made by other APIs)."""
    from origin.catalogue.status import Status

    for asset in assets:
        extra = editor_extra(asset)
        if (
            asset.status != Status.READY
            or asset.kind not in ("video", "image")
            or "thumbs" in extra
            or extra.get("stage")
        ):
            continue
        async with state.store.transaction() as tx:
            await state.store.assets.update(
                asset.tenant_id,
                asset.id,
                conn=tx,
                extra={**asset.extra, "editor": {**extra, "stage": "prepare_thumbnails"}},
            )
            await queue_preparation(state, tx, asset)
