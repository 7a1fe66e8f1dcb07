"""Object keys: ``{tenantId}/{userId}/{destination}/{filename}``.

Two jobs: *sanitise* what users send (filenames, destinations, user ids) into safe segments, and
*validate* a full key wherever one enters a tier (edge URL, storage backend). A valid key is a
``/``-joined list of segments made of printable characters other than ``\\``, with no empty, ``.``
or ``..`` segment, no control characters and no percent-encoded leftovers. Everything downstream
relies on that, so traversal cannot be expressed.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "InvalidKey",
    "build_key",
    "sanitize_destination",
    "sanitize_filename",
    "sanitize_segment",
    "split_ext",
    "validate_key",
]

MAX_KEY_LENGTH = 1024
MAX_SEGMENT_LENGTH = 200

# Characters kept in user-supplied names; everything else becomes "_".
_UNSAFE = re.compile(r"[^A-Za-z0-9._\- ()\[\]+,=@]")
_FORBIDDEN_IN_KEY = re.compile(r"[\x00-\x1f\x7f\\%?#]")


class InvalidKey(ValueError):
    """A key that could escape its namespace or that a URL could not carry faithfully."""


def sanitize_segment(value: str, fallback: str = "") -> str:
    """One path segment from user input: NFC, safe characters only, no leading dots or spaces."""
    value = unicodedata.normalize("NFKC", value)
    value = _UNSAFE.sub("_", value).strip(" .")
    value = value[:MAX_SEGMENT_LENGTH].strip(" .")
    return value or fallback


def sanitize_filename(filename: str) -> str:
    """The last path component of ``filename`` made safe (``../../etc/passwd`` → ``passwd``)."""
    base = re.split(r"[/\\]", filename)[-1]
    return sanitize_segment(base, fallback="file")


def sanitize_destination(destination: str | None) -> str:
    """A nested destination (``course/materials``) with every segment sanitised; dot segments dropped."""
    if not destination:
        return ""
    parts = [sanitize_segment(p) for p in re.split(r"[/\\]+", destination)]
    return "/".join(p for p in parts if p)


def build_key(tenant_id: str, user_id: str, destination: str, filename: str) -> str:
    """Join the parts of an object key; each part must already be sanitised."""
    return validate_key("/".join(p for p in (tenant_id, user_id, destination, filename) if p))


def split_ext(filename: str) -> tuple[str, str]:
    """``video.tar.gz`` → ``("video.tar", ".gz")``; used for ``_1`` duplicate suffixes."""
    stem, dot, ext = filename.rpartition(".")
    if not dot or not stem:
        return filename, ""
    return stem, "." + ext


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe object key, else raise :class:`InvalidKey`."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidKey("key is empty or too long")
    if _FORBIDDEN_IN_KEY.search(key):
        raise InvalidKey("key contains a forbidden character")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey("key contains an empty or dot segment")
    return key
