"""The answers of the video objects API: its envelope and the video object exactly as documented."""

from __future__ import annotations

import html
from typing import Any

from origin.catalogue.status import Status, shown_as
from origin.http import JSON, iso_time
from origin.players import public_dict
from origin.state import OriginState
from origin.videos.events import DIALECT
from origin.videos.objects import Video
from origin.videos.playback import asset_urls, dash_player_url, has_mp4

IFRAME = (
    '<iframe src="{src}" width="100%" height="100%" frameborder="0" scrolling="no" allowfullscreen="true"></iframe>'
)


def success(data: Any, status_code: int = 200) -> JSON:
    return JSON({"status": "success", "data": data}, status_code=status_code)


def message(text: str) -> JSON:
    return JSON({"status": "success", "message": text})


def status_word(status: Status) -> str:
    return str(shown_as(DIALECT, status))


def video_dict(state: OriginState, video: Video) -> dict[str, Any]:
    """A video object: every field the API documents, ``null`` where it has nothing."""
    asset = video.asset
    urls = asset_urls(state, video)
    dash_player = dash_player_url(urls)
    subtitles = [
        {"id": c.id, "language": c.language, "label": c.label, "format": c.format, "is_default": i == 0}
        for i, c in enumerate(video.captions)
    ]
    return {
        "id": asset.id,
        "user_id": asset.user_id or asset.tenant_id,
        "title": asset.title,
        "description": asset.description,
        "metadata": [{"key": k, "value": v} for k, v in asset.metadata.items()] or None,
        "tags": list(asset.tags) or None,
        "qualities": [{"name": q.name, "status": status_word(q.status), "type": q.type} for q in video.qualities],
        "subtitles": subtitles or None,
        "chapters": None,
        "player_theme": public_dict(state, video.theme) if video.theme else None,
        "duration": asset.duration or 0,
        "size": asset.size or 0,
        "is_mp4": has_mp4(video.stream),
        "is_public": asset.is_public,
        "is_panoramic": False,
        "status": status_word(video.status),
        "created_at": iso_time(asset.created_at),
        "updated_at": iso_time(asset.updated_at),
        "assets": {
            "source_url": urls["source"],
            "thumbnail_url": urls["thumbnail"],
            "hls_url": urls["m3u8"],
            "hls_iframe": IFRAME.format(src=html.escape(urls["player"], quote=True)),
            "hls_player_url": urls["player"],
            "dash_url": urls["manifest"],
            "dash_iframe": IFRAME.format(src=html.escape(dash_player, quote=True)),
            "dash_player_url": dash_player,
            "mp4_url": urls["mp4"],
        },
        "player_theme_id": video.theme.id if video.theme else "",
        "error": asset.error,
    }
