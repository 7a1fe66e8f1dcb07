"""What the origin tells an edge about a derived object it may serve — a stream's output or an asset's
variant or caption: the storage backend holding it, its size and its policy headers (the edge checks
tokens against the file and asset ids, and whitelists against the tenant)."""

from __future__ import annotations

from email.utils import formatdate

from mediaedge.storage import ObjectNotFound, StorageBackend
from origin.probe import guess_mime
from origin.state import OriginState

Served = tuple[StorageBackend, int, dict[str, str]]


async def derived_object(
    state: OriginState,
    key: str,
    *,
    tenant_id: str,
    bucket: str,
    file_id: str,
    asset_id: str,
    signed: bool,
    cache_control: str,
) -> Served | None:
    """``key`` in the tenant's ``bucket`` with its headers, or None when the bucket or object is gone."""
    found = await state.store.buckets.get(tenant_id, bucket)
    if found is None:
        return None
    backend = state.backend(found)
    try:
        info = await backend.stat(key)
    except ObjectNotFound:
        return None
    headers = {
        "ETag": f'"{info.etag}"',
        "Last-Modified": formatdate(info.last_modified, usegmt=True),
        "Content-Type": guess_mime(key, info.content_type),
        "Cache-Control": cache_control,
        "Accept-Ranges": "bytes",
        "X-Mediaedge-File-Id": file_id,
        "X-Mediaedge-Asset-Id": asset_id,
        "X-Mediaedge-Tenant": tenant_id,
        "X-Mediaedge-Access": "signed" if signed else "public",
    }
    return backend, info.size, headers
