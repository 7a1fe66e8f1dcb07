"""Where a video plays from: its asset URLs, the edge URLs they lead to, and its thumbnail.

A video's asset URLs are routes of this API (``/api/videos/{id}/m3u8``, ``/manifest``, ``/source``,
``/mp4``, ``/thumbnail``) that answer ``302`` to the edge; ``/player`` answers ``302`` to the embeddable
player (``/embed`` with an embed token, hls.js). A public video's routes need nothing and
lead to its public edge URLs (``{EDGE}/{id}/{key}``). A private video's asset URLs carry a signed link
(``?expires=…&signature=…``, an HMAC valid for ``videos.link_expires_in``), and lead to edge URLs with
a fresh URL token: exact for the source, prefix-scoped to the stream's folder for the playlists, so
the player's relative requests for media playlists and segments pass too.

The thumbnail is the one uploaded (``POST /api/videos/{id}/thumbnail``: PNG or JPEG, checked by its
content), kept beside the source and answered by the origin itself; else the poster the encoder made,
on the edge.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlencode

from mediaedge.errors import HTTPError
from mediaedge.keys import build_key
from mediaedge.settings import parse_duration
from mediaedge.storage import ObjectNotFound
from origin.catalogue.status import Status
from origin.embedding import embed_url
from origin.purge import purge_edges
from origin.signing import check_link, link_signature, sign_edge_url
from origin.state import OriginState
from origin.store import Asset, Tenant
from origin.store.streams import StreamRecord
from origin.videos.objects import Video, not_found, tenant_asset, view

Target = Literal["m3u8", "manifest", "source", "mp4", "thumbnail", "player"]
TARGETS: tuple[Target, ...] = ("m3u8", "manifest", "source", "mp4", "thumbnail", "player")
PLAYBACK_LINK = "video-playback"
MASTER, MPD, POSTER = "master.m3u8", "manifest.mpd", "poster.jpg"
THUMBNAIL_TYPES = {b"\x89PNG\r\n\x1a\n": ("png", "image/png"), b"\xff\xd8\xff": ("jpg", "image/jpeg")}
MAX_THUMBNAIL_BYTES = 10 * 1024 * 1024
THUMBNAIL_RESOLUTIONS = ("original",)


def _base(state: OriginState, video_id: str) -> str:
    return f"{state.settings.origin.url}/api/videos/{quote(video_id, safe='')}"


def asset_urls(state: OriginState, video: Video) -> dict[Target, str]:
    """Each asset URL of ``video``; a private video's carry a signed link."""
    base = _base(state, video.asset.id)
    query = ""
    if not video.asset.is_public:
        expires = int(time.time()) + parse_duration(state.settings.videos.link_expires_in)
        signature = link_signature(state, PLAYBACK_LINK, video.asset.id, expires)
        query = "?" + urlencode({"expires": expires, "signature": signature})
    urls: dict[Target, str] = {target: f"{base}/{target}{query}" for target in TARGETS}
    urls["thumbnail"] = f"{base}/thumbnail{query or '?'}{'&' if query else ''}resolution=original"
    return urls


@dataclass(frozen=True)
class Thumbnail:
    """An uploaded thumbnail's bytes, as the origin answers them."""

    chunks: AsyncIterator[bytes]
    media_type: str
    size: int


async def _playable(state: OriginState, video_id: str, expires: str | None, signature: str | None) -> Asset:
    asset = await state.store.assets.by_id(video_id)
    if asset is None or asset.kind not in ("video", "audio") or asset.status == Status.DELETED:
        raise not_found()
    if not asset.is_public:
        check_link(state, PLAYBACK_LINK, asset.id, expires, signature, what="playback link", code="PLAYBACK_LINK")
    return asset


async def _ready_stream(state: OriginState, asset: Asset) -> StreamRecord:
    stream = await state.store.streams.get(asset.stream_id) if asset.stream_id else None
    if stream is None or stream.status != "ready" or not stream.output_prefix:
        raise HTTPError(404, "The video is not transcoded yet", "VIDEO_NOT_READY")
    return stream


async def _lifetime(state: OriginState) -> int:
    return parse_duration(state.settings.videos.link_expires_in)


async def _stream_url(state: OriginState, asset: Asset, stream: StreamRecord, name: str) -> str:
    assert stream.output_prefix is not None
    key = f"{stream.output_prefix}{name}"
    if not stream.require_signed:
        return f"{state.settings.edge.url}/{asset.file_id}/{quote(key)}"
    signed = await sign_edge_url(state, asset.tenant_id, key=quote(key), path=stream.output_prefix, scope="prefix",
                                 lifetime=await _lifetime(state), duration=asset.duration, asset_id=stream.id)
    return signed.url


async def playback_redirect(
    state: OriginState, video_id: str, target: Target, expires: str | None, signature: str | None
) -> str | Thumbnail:
    """The edge URL an asset URL leads to, or an uploaded thumbnail to answer directly."""
    asset = await _playable(state, video_id, expires, signature)
    if target == "thumbnail":
        if asset.poster:
            return await _open_thumbnail(state, asset)
        stream = await _ready_stream(state, asset)
        if not stream.thumbnail:
            raise HTTPError(404, "The video has no thumbnail", "THUMBNAIL_NOT_FOUND")
        return await _stream_url(state, asset, stream, POSTER)
    if target in ("m3u8", "manifest"):
        stream = await _ready_stream(state, asset)
        if target == "manifest" and not stream.dash_url:
            raise HTTPError(404, "The video has no DASH rendition", "DASH_NOT_AVAILABLE")
        return await _stream_url(state, asset, stream, MASTER if target == "m3u8" else MPD)
    if target == "player":
        await _ready_stream(state, asset)
        assert asset.file_id is not None
        return embed_url(state, asset.tenant_id, asset.file_id, parse_duration(state.settings.embed.url_expires_in))
    if target == "mp4":
        raise HTTPError(404, "The video has no progressive MP4 rendition (is_mp4 is false)", "MP4_NOT_AVAILABLE")
    file = await state.store.files.get(asset.file_id) if asset.file_id else None
    if file is None or file.status != "ready":
        raise HTTPError(404, "The video has no source yet", "VIDEO_NOT_READY")
    if not file.require_signed:
        return state.access_url(file)
    signed = await sign_edge_url(state, asset.tenant_id, key=quote(file.key), path=file.key, scope="exact",
                                 lifetime=await _lifetime(state), duration=asset.duration, file_id=file.id)
    return signed.url


async def _open_thumbnail(state: OriginState, asset: Asset) -> Thumbnail:
    assert asset.poster is not None
    bucket = await state.store.buckets.get(asset.tenant_id, None)
    if bucket is None:
        raise HTTPError(404, "The video has no thumbnail", "THUMBNAIL_NOT_FOUND")
    backend = state.backend(bucket)
    try:
        info = await backend.stat(asset.poster)
    except ObjectNotFound:
        raise HTTPError(404, "The video has no thumbnail", "THUMBNAIL_NOT_FOUND") from None
    media_type = "image/png" if asset.poster.endswith(".png") else "image/jpeg"
    return Thumbnail(backend.open_range(asset.poster), media_type, info.size)


def thumbnail_type(head: bytes) -> tuple[str, str]:
    """``(extension, MIME type)`` of a PNG or JPEG by its first bytes; 400 for anything else."""
    for magic, kind in THUMBNAIL_TYPES.items():
        if head.startswith(magic):
            return kind
    raise HTTPError(400, "file must be a PNG or JPEG image", "THUMBNAIL_INVALID")


async def set_thumbnail(state: OriginState, tenant: Tenant, video_id: str, path: str) -> Video:
    """Store the image at ``path`` (a spool file, consumed) as the video's thumbnail."""
    asset = await tenant_asset(state, tenant, video_id)
    if asset.status == Status.DELETED:
        raise HTTPError(409, "The video is deleted", "VIDEO_DELETED")
    with open(path, "rb") as f:  # noqa: ASYNC230 - a few bytes of a local spool file
        head = f.read(16)
    extension, media_type = thumbnail_type(head)
    with open(path, "rb") as f:  # noqa: ASYNC230 - bounded by MAX_THUMBNAIL_BYTES
        digest = hashlib.file_digest(f, "md5").hexdigest()
    bucket = await state.store.buckets.get(tenant.id, None)
    if bucket is None:
        raise HTTPError(404, "The tenant has no default bucket", "BUCKET_NOT_FOUND")
    backend = state.backend(bucket)
    user = asset.user_id or "anonymous"
    key = build_key(tenant.id, user, "videos", f"{asset.id}.thumbnail") + f"/{digest}.{extension}"
    await backend.put_file(key, path, media_type)
    old = asset.poster
    updated = await state.store.assets.update(tenant.id, asset.id, poster=key)
    if updated is None:
        raise not_found()
    if old and old != key:
        await backend.delete(old)
    return await view(state, updated)


async def discard_thumbnail(state: OriginState, tenant: Tenant, asset: Asset) -> None:
    """Remove an uploaded thumbnail's object."""
    if not asset.poster:
        return
    bucket = await state.store.buckets.get(tenant.id, None)
    if bucket is not None:
        await state.backend(bucket).delete(asset.poster)
    await purge_edges(state, [asset.poster])
