"""The object URL ``/{fileId|jwt}/{key...}``, parsed from the *raw* request path.

Traversal and encoding tricks are refused before anything else looks at the path: only printable
ASCII without ``\\``; no percent-encoded ``.``, ``/``, ``\\``, ``%`` (double encoding) or control
characters; no malformed escapes or invalid UTF-8; no empty, ``.`` or ``..`` segment. What remains is
decoded once and must be a valid key (:func:`mediaedge.keys.validate_key`). The first segment (a
file id or a token) is never percent-encoded: it must be made of ``A-Z a-z 0-9 . _ ~ -``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from edge.lru import LRU
from mediaedge.errors import HTTPError
from mediaedge.keys import InvalidKey, validate_key

MAX_PATH_BYTES = 8192
#: Valid paths already parsed: players fetch the same playlists and segments over and over.
_PARSED: LRU[bytes, tuple[str, str]] = LRU(65_536)

_CREDENTIAL = re.compile(rb"^[A-Za-z0-9._~-]{1,4096}$")
_BAD_BYTES = re.compile(rb"[^\x21-\x5b\x5d-\x7e]")  # outside printable ASCII, or a backslash
_BAD_ESCAPES = re.compile(rb"%(?![0-9A-Fa-f]{2})|%(?:2[EeFf5]|5[Cc]|[01][0-9A-Fa-f]|7[Ff])")


def invalid_path(message: str = "Invalid path") -> HTTPError:
    return HTTPError(400, message, "INVALID_PATH")


def _decode(segment: bytes) -> str:
    if b"%" not in segment:
        return segment.decode("ascii")
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        raise invalid_path("Path is not valid UTF-8") from None


def check_raw_path(raw_path: bytes) -> None:
    """Refuse a raw path that is too long (414), does not start with ``/``, has a byte outside
    printable ASCII or a backslash, or a malformed or forbidden percent-escape (400)."""
    if len(raw_path) > MAX_PATH_BYTES:
        raise HTTPError(414, "Path too long", "INVALID_PATH")
    if not raw_path.startswith(b"/") or _BAD_BYTES.search(raw_path):
        raise invalid_path()
    if b"%" in raw_path and _BAD_ESCAPES.search(raw_path):
        raise invalid_path()


def split_object_path(raw_path: bytes) -> tuple[str, str]:
    """``b"/cred/t/u/f.mp4"`` → ``("cred", "t/u/f.mp4")``; raises :class:`HTTPError` 400 (404 for a
    path of one segment, which names no object). Valid results are remembered (a pure function)."""
    parsed = _PARSED.get(raw_path)
    if parsed is None:
        parsed = _split(raw_path)
        _PARSED.put(raw_path, parsed)
    return parsed


def _split(raw_path: bytes) -> tuple[str, str]:
    check_raw_path(raw_path)
    segments = raw_path[1:].split(b"/")
    if len(segments) < 2:
        raise HTTPError(404, "Not found")
    if any(s in (b"", b".", b"..") for s in segments):
        raise invalid_path()
    if not _CREDENTIAL.match(segments[0]):
        raise invalid_path("Invalid file id or token")
    try:
        return segments[0].decode("ascii"), validate_key("/".join(_decode(s) for s in segments[1:]))
    except InvalidKey as exc:
        raise invalid_path(f"Invalid path: {exc}") from None
