"""Media-info tasks: what the editor needs to know of a file an integrator serves itself.

``POST /api/task/mediainfo {originalUrl, previewUrl?}`` queues a job (``editor.mediainfo``) that
downloads ``originalUrl`` through the SSRF guard (:func:`origin.fetch_url.download`: private,
loopback and link-local addresses refused unless ``net.allow`` lists them; the tenant's size limit
enforced while it streams), probes it, and takes its thumbnail and a timeline strip (one PNG every
``editor.thumbnail_step`` seconds, at most :data:`MAX_THUMBNAILS`). The result is kept per source:
asking again for the same ``originalUrl`` + ``previewUrl`` answers the same task (a failed one runs
again). Retries follow the upload-from-URL rules: none for a 4xx or a refused address, three
(5 s → 10 s → 20 s) for a 5xx or a network error.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from mediaedge.errors import HTTPError
from mediaedge.net import NetError
from origin.editor import frames
from origin.editor.developers import check_url
from origin.editor.kinds import filetype, media_type
from origin.editor.sealed import digest
from origin.fetch_url import BACKOFF, MAX_ATTEMPTS, download
from origin.jobs import Job, PermanentJobError, RetryableJobError, enqueue, register_job
from origin.probe import guess_mime, probe
from origin.state import OriginState
from origin.store import Tenant
from origin.store.db import Conn
from origin.store.editor import MediaInfoTask

MEDIAINFO = "editor.mediainfo"
MAX_THUMBNAILS = 200


def source_hash(original_url: str, preview_url: str | None) -> str:
    return digest(f"{original_url}\n{preview_url or ''}")


async def create_task(state: OriginState, tenant: Tenant, body: dict[str, Any]) -> MediaInfoTask:
    """The task for this source: queued now, or the one made before (a failed one is queued again)."""
    original = check_url("originalUrl", body.get("originalUrl"))
    if not original:
        raise HTTPError(400, "originalUrl is required", "editor.mediainfo.invalid")
    preview = check_url("previewUrl", body.get("previewUrl")) or None
    task, created = await state.store.editor.mediainfo_task(
        tenant.id, source_hash(original, preview), original, preview
    )
    if created or task.status == "failed":
        async with state.store.transaction() as tx:
            if not created:
                await state.store.editor.settle_mediainfo(task.id, tx, status="running", error=None)
            await enqueue(tx, MEDIAINFO, tenant.id, {"task_id": task.id})
    return task


async def get_task(state: OriginState, tenant: Tenant, task_id: str) -> MediaInfoTask:
    task = await state.store.editor.get_mediainfo(tenant.id, task_id)
    if task is None:
        raise HTTPError(404, "No such media-info task", "editor.mediainfo.not_found")
    return task


async def describe(state: OriginState, source: str, name: str, size: int, mime: str) -> dict[str, Any]:
    """The seed's ``info`` object and the thumbnail strip of a local file."""
    kind = media_type(name, mime)
    if kind is None:
        raise PermanentJobError(f"Unsupported media: {name}")
    found = await probe(source)  # ffprobe reads a still image's dimensions like a video's
    width = state.settings.editor.thumbnail_width
    try:
        thumbnail = await frames.frame_png(source, 0.0, width) if kind != "audio" else b""
        step = state.settings.editor.thumbnail_step
        strip = await frames.strip_pngs(source, step, width, MAX_THUMBNAILS) if kind == "video" else []
    except frames.FrameError as exc:
        raise PermanentJobError(f"Unsupported media: {exc}") from exc
    info = {
        "name": name,
        "filetype": filetype(name, mime),
        "mediaType": kind,
        "duration": frames.ticks(found.duration) if kind != "image" else 0,
        "size": size,
        "width": found.width,
        "height": found.height,
        "thumbnail": frames.b64(thumbnail),
        "audioTracks": await frames.audio_tracks(source) if kind != "image" else [],
    }
    thumbs = [{"time": frames.ticks(i * step), "data": frames.b64(png)} for i, png in enumerate(strip)]
    return {"info": info, "thumbnails": thumbs}


async def run_mediainfo(state: OriginState, job: Job) -> dict[str, Any]:
    task = await state.store.editor.get_mediainfo(job.tenant_id, job.payload["task_id"])
    tenant = await state.store.tenants.get(job.tenant_id)
    if task is None or tenant is None:
        raise PermanentJobError("The task or its tenant is gone")
    try:
        fetched = await download(state, tenant, task.original_url)
    except NetError as exc:
        raise (RetryableJobError if exc.retryable else PermanentJobError)(str(exc)) from exc
    try:
        size = os.stat(fetched.path).st_size  # noqa: ASYNC240 - one stat of a local file
        mime = guess_mime(fetched.filename, fetched.content_type)
        result = await describe(state, fetched.path, fetched.filename or "media", size, mime)
    finally:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, fetched.path)
    result["info"]["previewUrl"] = task.preview_url or task.original_url
    await state.store.editor.settle_mediainfo(
        task.id, status="ready", info=result["info"], thumbnails=result["thumbnails"], error=None
    )
    return {"task_id": task.id}


async def mediainfo_failed(state: OriginState, job: Job, error: str, tx: Conn) -> None:
    await state.store.editor.settle_mediainfo(job.payload["task_id"], tx, status="failed", error=error)


register_job(MEDIAINFO, run_mediainfo, on_failed=mediainfo_failed, backoff=BACKOFF, max_attempts=MAX_ATTEMPTS)
