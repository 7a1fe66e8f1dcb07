"""The editor's words for what a file is: ``filetype`` (the extension) and ``mediaType``."""

from __future__ import annotations

from origin.probe import guess_mime

#: ``filetype`` values the editor knows; other extensions are shown as they are.
FILETYPES = ("mp4", "mov", "mp3", "png", "m4a", "jpg", "mxf", "folder", "webm")
MEDIA_TYPES = ("video", "audio", "image")
_ALIASES = {"jpeg": "jpg", "qt": "mov"}


def filetype(name: str, mime: str | None = None) -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not ext and mime and "/" in mime:
        ext = mime.split("/", 1)[1].split(";")[0]
    return _ALIASES.get(ext, ext)


def media_type(name: str, mime: str | None = None) -> str | None:
    """``video``, ``audio``, ``image``, or ``None`` for anything else (the editor cannot use it).

    The name's extension decides; a declared MIME type only when the extension says nothing.
    """
    major = guess_mime(name, mime).split("/", 1)[0]
    return major if major in MEDIA_TYPES else None
