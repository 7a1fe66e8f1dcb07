"""Where a video plays from: its asset URLs, the edge URLs they lead to, and its thumbnail.

A video's asset URLs are routes of this API (``/api/videos/{id}/m3u8``, ``/manifest``, ``/source``,
``/mp4``, ``/thumbnail``) that answer ``302`` to the edge; ``/player`` answers ``302`` to the embeddable
player (``/embed`` with an embed token: hls.js, or dash.js with ``?format=dash``). A public video's
routes need nothing and lead to its public edge URLs (``{EDGE}/{id}/{key}``). A private video's asset
URLs carry a signed link (``?expires=…&signature=…``, an HMAC valid for ``videos.link_expires_in``),
and lead to edge URLs with a fresh URL token: exact for the source, prefix-scoped to the stream's
folder for the playlists, so the player's relative requests for media playlists and segments pass too.

A video plays as soon as its first quality is done: the playlists list the qualities done so far while
the others are made (see :mod:`origin.videos.objects`). ``/mp4`` leads to the progressive MP4 once it
exists (``is_mp4``): the highest done video quality, faststart, made after the streaming qualities.

The thumbnail (:mod:`origin.videos.thumbnails`) is the one uploaded, answered by the origin itself;
else the poster the encoder made, on the edge; smaller sizes are scaled from either by the origin.
"""

from __future__ import annotations

import time
from typing import Literal
from urllib.parse import quote, urlencode

from mediaedge.errors import HTTPError
from mediaedge.settings import parse_duration
from origin.catalogue.status import Status
from origin.embedding import embed_url
from origin.signing import check_link, link_signature, sign_edge_url
from origin.state import OriginState
from origin.store import Asset
from origin.store.streams import StreamRecord
from origin.videos.objects import Video, not_found
from origin.videos.thumbnails import ORIGINAL, Thumbnail, open_thumbnail

Target = Literal["m3u8", "manifest", "source", "mp4", "thumbnail", "player"]
TARGETS: tuple[Target, ...] = ("m3u8", "manifest", "source", "mp4", "thumbnail", "player")
#: ``/player?format=``: the stream the embed player plays.
PLAYER_FORMATS = ("hls", "dash")
PLAYBACK_LINK = "video-playback"
MASTER, MPD, POSTER = "master.m3u8", "manifest.mpd", "poster.jpg"


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
    urls["thumbnail"] = _with(f"{base}/thumbnail{query}", "resolution=original")
    return urls


def _with(url: str, param: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{param}"


def dash_player_url(urls: dict[Target, str]) -> str:
    """The player URL that plays the DASH manifest."""
    return _with(urls["player"], "format=dash")


async def _playable(state: OriginState, video_id: str, expires: str | None, signature: str | None) -> Asset:
    asset = await state.store.assets.by_id(video_id)
    if asset is None or asset.kind not in ("video", "audio") or asset.status == Status.DELETED:
        raise not_found()
    if not asset.is_public:
        check_link(state, PLAYBACK_LINK, asset.id, expires, signature, what="playback link", code="PLAYBACK_LINK")
    return asset


async def ready_stream(state: OriginState, asset: Asset) -> StreamRecord:
    """The video's stream once something of it plays (a quality is done); 404 before."""
    stream = await state.store.streams.get(asset.stream_id) if asset.stream_id else None
    if stream is None or stream.status == "failed" or not stream.output_prefix:
        raise HTTPError(404, "The video is not transcoded yet", "VIDEO_NOT_READY")
    if not (stream.hls_url or stream.dash_url):
        raise HTTPError(404, "The video is not transcoded yet", "VIDEO_NOT_READY")
    return stream


def has_mp4(stream: StreamRecord | None) -> bool:
    """Whether the stream's progressive MP4 was made (``is_mp4``)."""
    mp4 = stream.outputs.get("mp4") if stream is not None and stream.status != "failed" else None
    return isinstance(mp4, dict) and mp4.get("status") == "ready"


async def _lifetime(state: OriginState) -> int:
    return parse_duration(state.settings.videos.link_expires_in)


async def _stream_url(state: OriginState, asset: Asset, stream: StreamRecord, name: str) -> str:
    assert stream.output_prefix is not None
    key = f"{stream.output_prefix}{name}"
    if not stream.require_signed:
        return f"{state.settings.edge.url}/{asset.file_id}/{quote(key)}"
    signed = await sign_edge_url(
        state,
        asset.tenant_id,
        key=quote(key),
        path=stream.output_prefix,
        scope="prefix",
        lifetime=await _lifetime(state),
        duration=asset.duration,
        asset_id=stream.id,
    )
    return signed.url


async def playback_redirect(
    state: OriginState,
    video_id: str,
    target: Target,
    expires: str | None,
    signature: str | None,
    resolution: str = ORIGINAL,
    player_format: str = "hls",
) -> str | Thumbnail:
    """The edge URL an asset URL leads to (the embed page's for ``player``, playing ``player_format``),
    or a thumbnail the origin answers itself (an uploaded one, or one scaled to ``resolution``)."""
    asset = await _playable(state, video_id, expires, signature)
    if target == "thumbnail":
        if asset.poster or resolution != ORIGINAL:
            return await open_thumbnail(state, asset, resolution)
        stream = await ready_stream(state, asset)
        if not stream.thumbnail:
            raise HTTPError(404, "The video has no thumbnail", "THUMBNAIL_NOT_FOUND")
        return await _stream_url(state, asset, stream, POSTER)
    if target in ("m3u8", "manifest"):
        stream = await ready_stream(state, asset)
        if target == "manifest" and not stream.dash_url:
            raise HTTPError(404, "The video has no DASH rendition", "DASH_NOT_AVAILABLE")
        if target == "m3u8" and not stream.hls_url:
            raise HTTPError(404, "The video has no HLS rendition yet", "VIDEO_NOT_READY")
        return await _stream_url(state, asset, stream, MASTER if target == "m3u8" else MPD)
    if target == "player":
        if player_format not in PLAYER_FORMATS:
            raise HTTPError(400, f"format must be one of {', '.join(PLAYER_FORMATS)}", "PLAYER_FORMAT_INVALID")
        stream = await ready_stream(state, asset)
        if player_format == "dash" and not stream.dash_url:
            raise HTTPError(404, "The video has no DASH rendition", "DASH_NOT_AVAILABLE")
        assert asset.file_id is not None
        lifetime = parse_duration(state.settings.embed.url_expires_in)
        params = {"format": player_format} if player_format != "hls" else None
        return embed_url(state, asset.tenant_id, asset.file_id, lifetime, params=params)
    if target == "mp4":
        made = await state.store.streams.get(asset.stream_id) if asset.stream_id else None
        if made is None or not has_mp4(made):
            raise HTTPError(404, "The video has no progressive MP4 rendition (is_mp4 is false)", "MP4_NOT_AVAILABLE")
        return await _stream_url(state, asset, made, str(made.outputs["mp4"]["name"]))
    file = await state.store.files.get(asset.file_id) if asset.file_id else None
    if file is None or file.status != "ready":
        raise HTTPError(404, "The video has no source yet", "VIDEO_NOT_READY")
    if not file.require_signed:
        return state.access_url(file)
    signed = await sign_edge_url(
        state,
        asset.tenant_id,
        key=quote(file.key),
        path=file.key,
        scope="exact",
        lifetime=await _lifetime(state),
        duration=asset.duration,
        file_id=file.id,
    )
    return signed.url
