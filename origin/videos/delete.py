"""Deleting a video: storage removed, every edge purged, the asset kept as ``deleted``.

Whichever API deletes it (``DELETE /api/videos/{id}``, or ``/files/delete`` of its source): its
stream's outputs, its source, any upload parts and thumbnails go, so nothing of it plays any more.
"""

from __future__ import annotations

from origin.catalogue.status import Status
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import Tenant
from origin.streams.service import OUTPUT_SUFFIX, delete_stream
from origin.videos.events import emit_video_event
from origin.videos.objects import tenant_asset
from origin.videos.parts import discard_parts
from origin.videos.thumbnails import discard_thumbnails


async def delete_video(state: OriginState, tenant: Tenant, video_id: str) -> None:
    """Remove the video's stream outputs, source, uploaded parts and thumbnail from storage, purge
    every edge, and mark the asset ``deleted`` (it still answers GET, with that status)."""
    asset = await tenant_asset(state, tenant, video_id)
    if asset.status == Status.DELETED:
        return
    if asset.stream_id and await state.store.streams.get(asset.stream_id) is not None:
        await delete_stream(state, tenant, asset.stream_id)
    await discard_parts(state, tenant, asset)
    await discard_thumbnails(state, tenant, asset)
    file = await state.store.files.get(asset.file_id) if asset.file_id else None
    if file is not None:
        bucket = await state.store.buckets.get(tenant.id, file.bucket)
        if bucket is not None:
            await state.backend(bucket).delete(file.key)
        await state.store.files.delete(file.id)
    async with state.store.transaction() as tx:
        await state.store.assets.advance(asset.id, Status.DELETED, conn=tx)
        deleted = await state.store.assets.update(tenant.id, asset.id, conn=tx, poster=None)
        if deleted is not None:
            await emit_video_event(tx, deleted)
    if file is not None:
        await purge_edges(state, [file.key], [f"{file.key}{OUTPUT_SUFFIX}"])
