"""Reading and deleting a tenant's assets for the media API, and what an asset shows with it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mediaedge.errors import HTTPError
from mediaedge.storage import StorageError
from origin.catalogue.status import Status
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import Asset, Caption, Rendition, Tenant, Transcript
from origin.store.streams import StreamRecord

log = logging.getLogger("mediaedge.origin.media")


async def tenant_asset(state: OriginState, tenant: Tenant, asset_id: str) -> Asset:
    """The tenant's asset; 404 ``media.not_found`` for unknown, deleted or other tenants' assets."""
    asset = await state.store.assets.get(tenant.id, asset_id)
    if asset is None or asset.status == Status.DELETED:
        raise HTTPError(404, "Media asset not found", "media.not_found")
    return asset


def require_not_quarantined(asset: Asset) -> None:
    if asset.status == Status.QUARANTINED:
        raise HTTPError(
            451, f"The asset is quarantined: {asset.error or 'its content was refused'}", "media.quarantined"
        )


def require_ready(asset: Asset) -> None:
    """451 ``media.quarantined``; 409 ``media.transcoding`` until the asset is ready."""
    require_not_quarantined(asset)
    if asset.status == Status.FAILED:
        raise HTTPError(409, f"The asset failed: {asset.error or 'processing failed'}", "media.failed")
    if asset.status != Status.READY:
        raise HTTPError(409, "The asset is not ready yet (transcoding)", "media.transcoding")


@dataclass(frozen=True)
class AssetView:
    """An asset with what hangs off it."""

    asset: Asset
    renditions: list[Rendition]
    captions: list[Caption]
    transcript: Transcript | None
    stream: StreamRecord | None


async def asset_view(state: OriginState, asset: Asset) -> AssetView:
    stream = await state.store.streams.get(asset.stream_id) if asset.stream_id else None
    return AssetView(
        asset=asset,
        renditions=await state.store.renditions.list(asset.id),
        captions=await state.store.captions.list(asset.id),
        transcript=await state.store.transcripts.get(asset.id),
        stream=stream,
    )


async def delete_asset(state: OriginState, tenant: Tenant, asset_id: str) -> None:
    """Remove the asset's stream, variants, captions and source object, then mark it ``deleted``;
    the edges forget all of it. Its SHA-256 may be uploaded again (a new asset)."""
    from origin.streams.service import delete_stream  # noqa: PLC0415 - streams import the catalogue

    asset = await tenant_asset(state, tenant, asset_id)
    if asset.stream_id and await state.store.streams.get(asset.stream_id) is not None:
        await delete_stream(state, tenant, asset.stream_id)
    keys: list[str] = []
    record = await state.store.files.get(asset.file_id) if asset.file_id else None
    intent = await state.store.media_uploads.by_asset(asset.id)
    bucket_name = record.bucket if record else intent.bucket if intent else None
    bucket = await state.store.buckets.get(tenant.id, bucket_name) if bucket_name else None
    if bucket is not None:
        backend = state.backend(bucket)
        keys = [r.key for r in await state.store.renditions.list(asset.id) if r.key]
        keys += [c.key for c in await state.store.captions.list(asset.id) if c.key]
        source_key = record.key if record else intent.key if intent else None
        if source_key:
            keys.append(source_key)
        try:
            for key in keys:
                await backend.delete(key)
        except StorageError as exc:
            raise HTTPError(503, f"Storage failed: {exc}", "storage.unavailable") from exc
    if record is not None:
        await state.store.files.delete(record.id)
    await state.store.media_uploads.delete(asset.id)
    await state.store.assets.advance(asset.id, Status.DELETED)
    prefixes = [record.key + ".variants/", record.key + ".captions/"] if record else []
    await purge_edges(state, keys, prefixes)
