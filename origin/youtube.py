"""The duration of a YouTube video, from the YouTube Data API v3 (``GET /files/duration`` of a YouTube URL).

A URL is a YouTube video if its host is ``youtube.com`` (``www.``, ``m.``, ``music.``),
``youtube-nocookie.com`` or ``youtu.be`` and it names an 11-character video id: ``/watch?v=ID``,
``/shorts/ID``, ``/embed/ID``, ``/live/ID``, ``/v/ID`` or ``youtu.be/ID``.

The duration comes from ``videos.list`` (``GET {youtube.base_url}/videos?part=contentDetails&id=ID&key=…``):
``items[0].contentDetails.duration`` is an ISO 8601 duration (``PT1H2M3S``; ``P0D`` for a live
broadcast), answered in seconds. The request goes through the SSRF-safe client (``net.allow`` applies)
and the API key never appears in an answer or a log line.

Errors: no ``youtube.api_key`` → 400 ``YOUTUBE_API_KEY_MISSING``; no such video → 404
``YOUTUBE_VIDEO_NOT_FOUND``; the API refusing (bad key, quota) or unreachable, or an answer that is
not the documented shape → 502 ``YOUTUBE_API_ERROR`` with the API's own message.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import isodate
import orjson

from mediaedge.errors import HTTPError
from mediaedge.net import NetError, SafeClient
from mediaedge.settings import Settings

log = logging.getLogger("mediaedge.origin.youtube")

#: Bounds on one ``videos.list`` call: seconds for all of it, bytes of its answer.
DEADLINE = 10.0
MAX_ANSWER = 1 << 20

_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
_SHORT_HOSTS = {"youtu.be", "www.youtu.be"}
_PATH_ID = re.compile(r"^/(?:shorts|embed|live|v)/([A-Za-z0-9_-]{11})/?$")
_VIDEO_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")


def youtube_video_id(url: str) -> str | None:
    """The video id of a YouTube video URL, or None for any other URL."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https"):
        return None
    if host in _SHORT_HOSTS:
        candidate = parts.path.strip("/")
    elif host in _HOSTS:
        if parts.path.rstrip("/") == "/watch":
            candidate = parse_qs(parts.query).get("v", [""])[0]
        else:
            match = _PATH_ID.match(parts.path)
            candidate = match.group(1) if match else ""
    else:
        return None
    return candidate if _VIDEO_ID.match(candidate) else None


def _api_error(message: str) -> HTTPError:
    return HTTPError(502, f"YouTube Data API: {message}", "YOUTUBE_API_ERROR")


async def youtube_duration(settings: Settings, video_id: str) -> float:
    """Seconds of video ``video_id``; :class:`HTTPError` as the module docstring lists."""
    config = settings.youtube
    if not config.api_key:
        raise HTTPError(
            400,
            "YouTube URLs need a YouTube Data API key: set youtube.api_key (MEDIAEDGE_YOUTUBE_API_KEY)",
            "YOUTUBE_API_KEY_MISSING",
        )
    query = urlencode({"part": "contentDetails", "id": video_id, "key": config.api_key})
    try:
        async with (
            SafeClient.from_settings(settings) as client,
            client.stream(
                "GET", f"{config.base_url.rstrip('/')}/videos?{query}", max_bytes=MAX_ANSWER, deadline=DEADLINE
            ) as response,
        ):
            status = response.status_code
            body = b"".join([chunk async for chunk in response.iter_bytes()])
    except NetError as exc:
        log.warning("YouTube Data API request for %s failed: %s", video_id, exc)
        raise _api_error(f"request failed: {exc}") from None
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise _api_error(f"answered {status} without JSON") from None
    if status != 200:
        error = answer.get("error") if isinstance(answer, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        raise _api_error(f"answered {status}: {message or 'no message'}")
    return _duration_of(answer, video_id)


def _duration_of(answer: object, video_id: str) -> float:
    """Seconds from a ``videos.list`` answer (``items[0].contentDetails.duration``)."""
    items = answer.get("items") if isinstance(answer, dict) else None
    if not isinstance(items, list):
        raise _api_error("the answer has no items list")
    if not items:
        raise HTTPError(404, f"No YouTube video with id {video_id}", "YOUTUBE_VIDEO_NOT_FOUND")
    details = items[0].get("contentDetails") if isinstance(items[0], dict) else None
    value = details.get("duration") if isinstance(details, dict) else None
    if not isinstance(value, str):
        raise _api_error("the video has no contentDetails.duration")
    try:
        duration = isodate.parse_duration(value)
    except isodate.ISO8601Error:
        raise _api_error(f"the duration {value!r} is not ISO 8601") from None
    if not isinstance(duration, timedelta):  # years or months: not a video length
        raise _api_error(f"the duration {value!r} is not a length of time")
    return duration.total_seconds()
