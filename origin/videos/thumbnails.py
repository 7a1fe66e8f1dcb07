"""A video's thumbnail: uploaded (PNG or JPEG, checked by its content), or the encoder's poster; and
copies scaled to a resolution's height (never up), made once with ffmpeg and kept beside it.

Uploaded thumbnails and scaled copies live under ``{tenant}/{user}/videos/{id}.thumbnail/``, a
directory no edge serves: the origin answers them (``GET /api/videos/{id}/thumbnail``), behind the
video's playback link when it is private.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from mediaedge.errors import HTTPError
from mediaedge.ffmpeg import ffmpeg_exe, run_tool
from mediaedge.keys import build_key
from mediaedge.qualities import RESOLUTIONS
from mediaedge.storage import ObjectNotFound, StorageBackend
from origin.catalogue.status import Status
from origin.purge import purge_edges
from origin.state import OriginState
from origin.store import Asset, Tenant
from origin.videos.objects import Video, not_found, tenant_asset, view

ORIGINAL = "original"
#: ``resolution=`` values: the original, or a height from the qualities table.
RESOLUTIONS_ALLOWED = (ORIGINAL, *RESOLUTIONS)
TYPES = {b"\x89PNG\r\n\x1a\n": ("png", "image/png"), b"\xff\xd8\xff": ("jpg", "image/jpeg")}
MAX_THUMBNAIL_BYTES = 10 * 1024 * 1024
SCALE_TIMEOUT = 30.0
POSTER = "poster.jpg"


@dataclass(frozen=True)
class Thumbnail:
    """Image bytes the origin answers itself."""

    chunks: AsyncIterator[bytes]
    media_type: str
    size: int


def thumbnail_type(head: bytes) -> tuple[str, str]:
    """``(extension, MIME type)`` of a PNG or JPEG by its first bytes; 400 for anything else."""
    for magic, kind in TYPES.items():
        if head.startswith(magic):
            return kind
    raise HTTPError(400, "file must be a PNG or JPEG image", "THUMBNAIL_INVALID")


def _directory(asset: Asset) -> str:
    return build_key(asset.tenant_id, asset.user_id or "anonymous", "videos", f"{asset.id}.thumbnail") + "/"


async def _backend(state: OriginState, tenant_id: str, bucket: str | None = None) -> StorageBackend:
    found = await state.store.buckets.get(tenant_id, bucket)
    if found is None:
        raise HTTPError(404, "The video has no thumbnail", "THUMBNAIL_NOT_FOUND")
    return state.backend(found)


async def set_thumbnail(state: OriginState, tenant: Tenant, video_id: str, path: str) -> Video:
    """Store the image at ``path`` (a spool file) as the video's thumbnail; scaled copies of the old one go."""
    asset = await tenant_asset(state, tenant, video_id)
    if asset.status == Status.DELETED:
        raise HTTPError(409, "The video is deleted", "VIDEO_DELETED")
    with open(path, "rb") as f:  # noqa: ASYNC230 - bounded by MAX_THUMBNAIL_BYTES, a local spool file
        extension, media_type = thumbnail_type(f.read(16))
        f.seek(0)
        digest = hashlib.file_digest(f, "md5").hexdigest()
    backend = await _backend(state, tenant.id)
    directory = _directory(asset)
    key = f"{directory}{digest}.{extension}"
    await backend.put_file(key, path, media_type)
    updated = await state.store.assets.update(tenant.id, asset.id, poster=key)
    if updated is None:
        raise not_found()
    async for info in backend.list(directory):
        if info.key != key:
            await backend.delete(info.key)
    return await view(state, updated)


async def open_thumbnail(state: OriginState, asset: Asset, resolution: str) -> Thumbnail:
    """The uploaded thumbnail, or a copy of it (or of the encoder's poster) ``resolution`` high."""
    if resolution not in RESOLUTIONS_ALLOWED:
        raise HTTPError(400, f"resolution must be one of {', '.join(RESOLUTIONS_ALLOWED)}", "THUMBNAIL_RESOLUTION")
    if asset.poster:
        backend, source, stem = await _backend(state, asset.tenant_id), asset.poster, asset.poster.rsplit("/", 1)[-1]
    else:
        stream = await state.store.streams.get(asset.stream_id) if asset.stream_id else None
        if stream is None or stream.status != "ready" or not stream.thumbnail or not stream.output_prefix:
            raise HTTPError(404, "The video has no thumbnail", "THUMBNAIL_NOT_FOUND")
        backend = await _backend(state, asset.tenant_id, stream.bucket)
        source, stem = f"{stream.output_prefix}{POSTER}", f"poster-{stream.id}"
    if resolution == ORIGINAL:
        return await _open(backend, source)
    scaled = f"{_directory(asset)}{stem.rsplit('.', 1)[0]}-{resolution}.jpg"
    try:
        return await _open(backend, scaled)
    except HTTPError:
        pass
    image = b"".join([chunk async for chunk in (await _open(backend, source)).chunks])
    height = RESOLUTIONS[resolution].height
    code, out, err = await run_tool(
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        "pipe:0",
        "-vf",
        f"scale=-2:'min({height},ih)'",
        "-frames:v",
        "1",
        "-q:v",
        "3",
        "-f",
        "image2pipe",
        "-c:v",
        "mjpeg",
        "pipe:1",
        deadline=SCALE_TIMEOUT,
        stdin=image,
    )
    if code != 0 or not out:
        raise HTTPError(
            502, f"The thumbnail could not be scaled: {err.decode(errors='replace')[-200:]}", "THUMBNAIL_SCALE_FAILED"
        )

    async def one() -> AsyncIterator[bytes]:
        yield out

    await backend.write(scaled, one(), "image/jpeg")
    return Thumbnail(one(), "image/jpeg", len(out))


async def _open(backend: StorageBackend, key: str) -> Thumbnail:
    try:
        info = await backend.stat(key)
    except ObjectNotFound:
        raise HTTPError(404, "The video has no thumbnail", "THUMBNAIL_NOT_FOUND") from None
    media_type = "image/png" if key.endswith(".png") else "image/jpeg"
    return Thumbnail(backend.open_range(key), media_type, info.size)


async def discard_thumbnails(state: OriginState, tenant: Tenant, asset: Asset) -> None:
    """Remove the uploaded thumbnail and every scaled copy."""
    found = await state.store.buckets.get(tenant.id, None)
    if found is None:
        return
    backend, directory = state.backend(found), _directory(asset)
    async for info in backend.list(directory):
        await backend.delete(info.key)
    await purge_edges(state, [], [directory])
