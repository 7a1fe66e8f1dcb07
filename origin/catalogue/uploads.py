"""Video uploads into the catalogue: one file in, one video asset out, transcoded in the background.

:func:`accept_video_upload` checks that the spooled file is a video, stores it atomically (it is in
the bucket before the caller answers) under the asset's own id — in its folder, whose folder rows
(the editor's) are made on demand — and in one transaction makes the
asset ``queued`` and queues its HLS/DASH transcode (a ``stream.process`` job with the tenant's default
ladder). The stream's progress then moves the asset forward: ``processing`` while ffmpeg encodes,
``storing`` while the renditions are written to final storage, ``ready`` — or ``failed`` once the
job's retries are spent. Assets only move forward (:mod:`origin.catalogue.status`).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass

from mediaedge.errors import HTTPError
from mediaedge.keys import sanitize_filename, sanitize_segment
from origin.catalogue.folders import ROOT, ensure_folders
from origin.catalogue.intake import NewMedia, create_media_asset, store_media
from origin.catalogue.status import Status
from origin.probe import probe
from origin.state import OriginState
from origin.store import Asset, Tenant
from origin.streams.service import start_file_stream

__all__ = [
    "MIME_CODE",
    "RECENT_LIMIT",
    "SIZE_CODE",
    "VideoUpload",
    "accept_video_upload",
    "normalise_folder",
    "recent_videos",
    "tenant_video",
]

RECENT_LIMIT = 50
SIZE_CODE = "validation.size.exceeds_limit"
MIME_CODE = "validation.mime.unsupported"
NOT_FOUND_CODE = "upload.not_found"


@dataclass(frozen=True)
class VideoUpload:
    """What the client sent beside the bytes."""

    filename: str
    folder: str
    declared_type: str | None = None


def normalise_folder(folder: str) -> str:
    """``"my-folder"``, ``"/root/my-folder/"`` → ``"root/my-folder"``: every folder lives under ``root``.

    Segments are made safe like object key segments; ``.`` and ``..`` are refused (400), so a folder
    never escapes the tenant's tree.
    """
    parts = [p.strip() for p in re.split(r"[/\\]+", folder.strip()) if p.strip()]
    if not parts:
        raise HTTPError(400, "folder is required, e.g. root/my-folder", "validation.folder.required")
    if any(p in (".", "..") for p in parts):
        raise HTTPError(400, f"folder {folder!r}: '.' and '..' are not folder names", "validation.folder.invalid")
    safe = [sanitize_segment(p, fallback="_") for p in parts]
    if safe[0] != ROOT:
        safe.insert(0, ROOT)
    return "/".join(safe)


async def accept_video_upload(state: OriginState, tenant: Tenant, spool_path: str, upload: VideoUpload) -> Asset:
    """Store a spooled video and start its pipeline; the asset is ``queued``. Consumes ``spool_path``.

    Not a video (ffmpeg finds no video stream) → 415 ``validation.mime.unsupported``, nothing stored.
    """
    try:
        folder = normalise_folder(upload.folder)
        found = await probe(spool_path)
        if not found.video_codec:
            raise HTTPError(415, "video: the file is not a video ffmpeg can read", MIME_CODE)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(spool_path)
        raise
    await ensure_folders(state, tenant, folder)
    name = sanitize_filename(upload.filename)
    new = NewMedia(
        kind="video",
        filename=name,
        dialect="uploads",
        title=name,
        folder=folder,
        destination=folder.partition("/")[2],
        declared_type=upload.declared_type,
        extra={"filename": name},
        probed=found,
    )
    asset = await create_media_asset(state, tenant, new)
    file = await store_media(state, tenant, asset, spool_path, new)
    try:
        async with state.store.transaction() as tx:
            stream_id = await start_file_stream(state, tx, tenant, file)
            updated = await state.store.assets.update(tenant.id, asset.id, tx, stream_id=stream_id)
    except Exception as exc:  # stored, but its pipeline could not start: say so instead of pending forever
        await state.store.assets.advance(asset.id, Status.FAILED, error=f"the transcode could not start: {exc}")
        raise
    return updated or asset


async def recent_videos(state: OriginState, tenant: Tenant, limit: int = RECENT_LIMIT) -> list[Asset]:
    """The tenant's most recent video assets, newest first, whichever API made them (deleted ones not)."""
    assets, _ = await state.store.assets.page(
        tenant.id, kinds=["video"], sort="created_at", descending=True, limit=limit
    )
    return assets


async def tenant_video(state: OriginState, tenant: Tenant, asset_id: str) -> Asset:
    """One of the tenant's assets; 404 ``upload.not_found`` when it has none by that id (or it was deleted)."""
    asset = await state.store.assets.get(tenant.id, asset_id)
    if asset is None or asset.status == Status.DELETED:
        raise HTTPError(404, f"No upload with id {asset_id!r}", NOT_FOUND_CODE)
    return asset
