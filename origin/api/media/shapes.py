"""How the media API shows assets, variants, captions and transcripts (camelCase, the media vocabulary)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from origin.catalogue.status import Status, shown_as
from origin.http import iso_time
from origin.media.assets import AssetView
from origin.media.delivery import stream_variants
from origin.state import OriginState
from origin.store import Caption, Rendition


def status_word(status: str) -> str:
    return str(shown_as("media", Status(status)))


def api_url(state: OriginState, asset_id: str, path: str = "") -> str:
    return f"{state.settings.origin.url}/api/v1/media/{quote(asset_id, safe='')}{path}"


def caption_json(state: OriginState, asset_id: str, caption: Caption, url: str | None = None) -> dict[str, Any]:
    return {
        "id": caption.id,
        "language": caption.language,
        "label": caption.label,
        "format": caption.format,
        "approved": caption.approved,
        "source": caption.source,
        "url": url or api_url(state, asset_id, f"/captions?lang={quote(caption.language)}"),
        "createdAt": iso_time(caption.created_at),
    }


def rendition_json(rendition: Rendition, url: str | None) -> dict[str, Any]:
    spec = rendition.spec or {}
    return {
        "id": rendition.id,
        "kind": rendition.kind,
        "name": rendition.name,
        "status": status_word(rendition.status) if rendition.status in set(Status) else rendition.status,
        "mime": spec.get("mime"),
        "width": rendition.width,
        "height": rendition.height,
        "bitrate": spec.get("bitrate"),
        "sizeBytes": rendition.size,
        "url": url,
    }


def variants_json(state: OriginState, view: AssetView, directory_url: str | None = None) -> list[dict[str, Any]]:
    """The asset's variants: image renditions (with ``directory_url`` + name when signed), and a
    ready stream's renditions (their URL is the stream endpoint of this API)."""
    asset = view.asset
    out = []
    for rendition in view.renditions:
        if rendition.kind == "image":
            url = f"{directory_url}{rendition.name}" if directory_url else None
            out.append(rendition_json(rendition, url))
    if view.stream is not None:
        ready = view.stream.status == "ready"
        renditions = view.stream.outputs.get("renditions") if isinstance(view.stream.outputs, dict) else None
        by_name = {str(r.get("name")): r for r in renditions or [] if isinstance(r, dict)}
        for name in stream_variants(view.stream):
            r = by_name[name]
            audio = r.get("type") == "audio"
            out.append(
                {
                    "id": f"{view.stream.id}:{name}",
                    "kind": r.get("type", "video"),
                    "name": name,
                    "status": "ready" if ready or r.get("status") == "ready" else status_word(asset.status),
                    "mime": "audio/mp4" if audio else "video/mp4",
                    "width": r.get("width"),
                    "height": r.get("height"),
                    "bitrate": r.get("bandwidth") or r.get("bitrate"),
                    "averageBitrate": r.get("average_bandwidth"),
                    "codecs": r.get("codecs"),
                    "sizeBytes": None,
                    "url": api_url(state, asset.id, f"/stream/hls/{quote(name)}/index.m3u8"),
                }
            )
    return out


def asset_json(state: OriginState, view: AssetView, directory_url: str | None = None) -> dict[str, Any]:
    """The seed's MediaAsset."""
    asset = view.asset
    transcript = None
    if view.transcript is not None:
        language = view.transcript.language
        transcript = {"language": language, "url": api_url(state, asset.id, f"/transcript?lang={quote(language)}")}
    elif view.captions:
        language = view.captions[0].language
        transcript = {"language": language, "url": api_url(state, asset.id, f"/transcript?lang={quote(language)}")}
    streams = None
    if view.stream is not None and asset.status == Status.READY:
        streams = {
            "hls": api_url(state, asset.id, "/stream/hls/master/index.m3u8"),
            "dash": api_url(state, asset.id, "/stream/dash/master.mpd"),
        }
    return {
        "id": asset.id,
        "kind": asset.kind,
        "source": asset.source,
        "status": status_word(asset.status),
        "title": asset.title,
        "mime": asset.mime,
        "width": asset.width,
        "height": asset.height,
        "durationSeconds": asset.duration,
        "sha256": asset.sha256,
        "sizeBytes": asset.size,
        "error": asset.error,
        "variants": variants_json(state, view, directory_url),
        "captions": [caption_json(state, asset.id, c) for c in view.captions],
        "transcript": transcript,
        "stream": streams,
        "createdAt": iso_time(asset.created_at),
        "updatedAt": iso_time(asset.updated_at),
    }
