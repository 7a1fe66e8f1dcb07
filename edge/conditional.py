"""Conditional requests (RFC 9110 §13): preconditions in their specified order, and ``If-Range``.

ETags are strong and quoted (``"abc"``). ``If-Match`` and ``If-Range`` compare strongly,
``If-None-Match`` weakly; HTTP dates are parsed strictly (:func:`parse_http_date`) and compared at
one-second resolution. A date condition that is not exactly one valid HTTP-date (sent twice, a list,
another time zone, trailing text) is ignored, as RFC 9110 §13.1.3/§13.1.4 require.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import formatdate

_ETAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def http_date(timestamp: float) -> str:
    """IMF-fixdate, as ``Last-Modified`` carries it."""
    return formatdate(int(timestamp), usegmt=True)


_DAY = "(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_DAY_LONG = "(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(?P<month>" + "|".join(_MONTHS) + ")"
_TIME = r"(?P<hour>\d\d):(?P<minute>\d\d):(?P<second>\d\d)"
#: RFC 9110 §5.6.7: IMF-fixdate, and the two obsolete forms a recipient must accept (rfc850-date,
#: asctime-date). Case-sensitive, single spaces, nothing before or after.
_IMF_FIXDATE = re.compile(rf"{_DAY}, (?P<day>\d\d) {_MONTH} (?P<year>\d{{4}}) {_TIME} GMT", re.ASCII)
_RFC850_DATE = re.compile(rf"{_DAY_LONG}, (?P<day>\d\d)-{_MONTH}-(?P<year>\d\d) {_TIME} GMT", re.ASCII)
_ASCTIME_DATE = re.compile(rf"{_DAY} {_MONTH} (?P<day>\d\d| \d) {_TIME} (?P<year>\d{{4}})", re.ASCII)


def parse_http_date(value: str, now: float | None = None) -> int | None:
    """POSIX seconds of an HTTP-date, or None if ``value`` is not exactly one (RFC 9110 §5.6.7).

    Only IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``) and the two obsolete forms (``Sunday,
    06-Nov-94 08:49:37 GMT``, ``Sun Nov  6 08:49:37 1994``) are dates; anything else (another time
    zone, a two-digit year outside rfc850-date, a missing comma, extra spaces, a one-digit hour,
    several dates in a list) is not. An rfc850-date year more than 50 years ahead of ``now`` (default:
    the current time) is the most recent past year with those digits. A leap second counts as :59.
    """
    match = _IMF_FIXDATE.fullmatch(value) or _ASCTIME_DATE.fullmatch(value)
    two_digit = match is None
    if match is None:
        match = _RFC850_DATE.fullmatch(value)
        if match is None:
            return None
    year = int(match["year"])
    if two_digit:
        this_year = datetime.fromtimestamp(time.time() if now is None else now, UTC).year
        year += this_year - this_year % 100
        if year > this_year + 50:
            year -= 100
    try:
        parsed = datetime(
            year,
            _MONTHS.index(match["month"]) + 1,
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            min(int(match["second"]), 59),
            tzinfo=UTC,
        )
    except ValueError:  # 31 Feb, hour 25, ...
        return None
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
    """True if ``If-Range`` still names this representation: its strong ETag, or exactly its
    ``Last-Modified`` date (RFC 9110 §13.1.5; anything else, e.g. a date with trailing text, is not)."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return not value.startswith("W/") and value == etag
    return bool(last_modified) and parse_http_date(value) == last_modified
