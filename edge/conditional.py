"""Conditional requests (RFC 9110 §13): preconditions in their specified order, and ``If-Range``.

ETags are strong and quoted (``"abc"``). ``If-Match`` and ``If-Range`` compare strongly,
``If-None-Match`` weakly; HTTP dates are compared at one-second resolution.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC
from email.utils import formatdate, parsedate_to_datetime

_ETAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def http_date(timestamp: float) -> str:
    """IMF-fixdate, as ``Last-Modified`` carries it."""
    return formatdate(int(timestamp), usegmt=True)


def parse_http_date(value: str) -> int | None:
    """POSIX seconds of an HTTP-date (any of the three RFC formats), or None if invalid."""
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # asctime and "-0000" forms are UTC by definition
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _tags(value: str) -> list[tuple[bool, str]] | None:
    """``W/"a", "b"`` → ``[(True, '"a"'), (False, '"b"')]``; None if malformed."""
    tags, pos = [], 0
    value = value.strip()
    while pos < len(value):
        match = _ETAG.match(value, pos)
        if not match:
            return None
        tags.append((match.group(1) is not None, match.group(2)))
        pos = match.end()
    return tags


def _any_match(value: str, etag: str, weak: bool) -> bool:
    if value.strip() == "*":
        return True
    tags = _tags(value) or []
    return any(tag == etag and (weak or not is_weak) for is_weak, tag in tags)


def precondition(headers: Mapping[bytes, str], etag: str, last_modified: int) -> int | None:
    """412 or 304 for a GET/HEAD of an existing representation, or None to go on (RFC 9110 §13.2.2)."""
    if_match = headers.get(b"if-match")
    if if_match is not None:
        if not _any_match(if_match, etag, weak=False):
            return 412
    elif (since := headers.get(b"if-unmodified-since")) is not None:
        date = parse_http_date(since)
        if date is not None and last_modified > date:
            return 412
    if_none_match = headers.get(b"if-none-match")
    if if_none_match is not None:
        return 304 if _any_match(if_none_match, etag, weak=True) else None
    if (since := headers.get(b"if-modified-since")) is not None:
        date = parse_http_date(since)
        if date is not None and last_modified <= date:
            return 304
    return None


def if_range_matches(value: str, etag: str, last_modified: int) -> bool:
    """True if ``If-Range`` still names this representation (strong ETag, or its exact date)."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    return parse_http_date(value) == last_modified
