"""Content types by file extension, and the browser cache class each kind of file belongs to."""

from __future__ import annotations

from enum import Enum

#: Extension (lower case, no dot) → Content-Type. Text types carry their charset.
TYPES: dict[str, str] = {
    # video and segments
    "mp4": "video/mp4",
    "m4v": "video/x-m4v",
    "m4s": "video/iso.segment",
    "cmfv": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mkv": "video/x-matroska",
    "ts": "video/mp2t",
    "avi": "video/x-msvideo",
    # audio
    "m4a": "audio/mp4",
    "cmfa": "audio/mp4",
    "mp3": "audio/mpeg",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
    "opus": "audio/opus",
    "flac": "audio/flac",
    "wav": "audio/wav",
    # playlists
    "m3u8": "application/vnd.apple.mpegurl",
    "mpd": "application/dash+xml",
    # subtitles
    "vtt": "text/vtt; charset=utf-8",
    "srt": "application/x-subrip",
    "ttml": "application/ttml+xml",
    # images
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
    "svg": "image/svg+xml",
    # documents and data
    "json": "application/json",
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "zip": "application/zip",
    "html": "text/html; charset=utf-8",
}

DEFAULT_TYPE = "application/octet-stream"

# Types a browser would run as a document if opened directly; they get a sandboxing CSP.
_ACTIVE = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml")

_PLAYLISTS = frozenset({"m3u8", "mpd"})
_MEDIA = frozenset(ext for ext, kind in TYPES.items() if kind.startswith(("video/", "audio/", "image/"))) | frozenset(
    {"vtt", "srt", "ttml"}
)


class CacheClass(Enum):
    """How long browsers may keep a file: see :mod:`edge.representation`."""

    MEDIA = "media"
    PLAYLIST = "playlist"
    OTHER = "other"


def extension(key: str) -> str:
    """``t/u/Video.MP4`` → ``"mp4"``; ``""`` when the last segment has no extension."""
    name = key.rpartition("/")[2]
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def content_type(key: str, fallback: str = "") -> str:
    """The Content-Type for ``key``: by extension, else ``fallback`` (the origin's), else octet-stream."""
    return TYPES.get(extension(key)) or fallback or DEFAULT_TYPE


def is_active(content_type: str) -> bool:
    """True for types a browser would render as a document (scripts could run on the edge's origin)."""
    return content_type.split(";", 1)[0].strip().lower() in _ACTIVE


def cache_class(key: str) -> CacheClass:
    """Playlists change (live streams); media files and segments never do; the rest sits between."""
    ext = extension(key)
    if ext in _PLAYLISTS:
        return CacheClass.PLAYLIST
    if ext in _MEDIA:
        return CacheClass.MEDIA
    return CacheClass.OTHER
