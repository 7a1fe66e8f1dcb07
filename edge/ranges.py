"""Byte ranges (RFC 9110 §14): parsing ``Range`` and framing ``multipart/byteranges``.

Policy, pinned by tests/edge/test_ranges.py:

- a unit other than ``bytes``, a syntactically invalid range set, or more than :data:`MAX_RANGES`
  range specs → the header is ignored and the whole representation is sent (200);
- every spec unsatisfiable (first byte at or past the end, ``-0``, any range of an empty file) → 416;
- otherwise unsatisfiable specs are dropped, the rest clamped to the representation, sorted, and
  overlapping or adjacent ranges coalesced. One range left → 206 single part; more → multipart.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

#: Most range specs honoured in one header; beyond it the header is ignored (anti-abuse).
MAX_RANGES = 16

ByteRange = tuple[int, int]  # first and last byte offset, inclusive

_SPEC = re.compile(r"^([0-9]*)-([0-9]*)$")


class _Invalid(Exception):
    pass


def _spec(text: str, size: int) -> ByteRange | None:
    """One range spec → a satisfiable clamped range, or None if unsatisfiable; raises :class:`_Invalid`."""
    match = _SPEC.match(text)
    if not match or not (match.group(1) or match.group(2)):
        raise _Invalid
    try:
        first = int(match.group(1)) if match.group(1) else None
        last = int(match.group(2)) if match.group(2) else None
    except ValueError:  # more digits than int() accepts
        raise _Invalid from None
    if first is None:  # suffix range: the last `last` bytes
        return (max(0, size - last), size - 1) if last and size else None
    if last is not None and last < first:
        raise _Invalid
    if first >= size:
        return None
    return first, size - 1 if last is None else min(last, size - 1)


def parse_range(header: str, size: int) -> list[ByteRange] | None:
    """The ranges to send for a ``Range`` header and a representation of ``size`` bytes.

    None: ignore the header (send 200 with everything). ``[]``: unsatisfiable (416). Otherwise
    sorted, coalesced, satisfiable ranges.
    """
    unit, eq, range_set = header.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return None
    specs = [s.strip() for s in range_set.split(",")]
    specs = [s for s in specs if s]
    if not specs or len(specs) > MAX_RANGES:
        return None
    try:
        found = [r for r in (_spec(s, size) for s in specs) if r is not None]
    except _Invalid:
        return None
    return coalesce(found)


def coalesce(ranges: list[ByteRange]) -> list[ByteRange]:
    """Sort ranges and merge the ones that overlap or touch."""
    merged: list[ByteRange] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def content_range(first: int, last: int, size: int) -> bytes:
    """``Content-Range`` value of a satisfied range."""
    return b"bytes %d-%d/%d" % (first, last, size)


def unsatisfied_range(size: int) -> bytes:
    """``Content-Range`` value of a 416: ``bytes */size``."""
    return b"bytes */%d" % size


@dataclass(frozen=True, slots=True)
class Multipart:
    """The framing of a ``multipart/byteranges`` body: ``heads[i]`` precedes the bytes of range ``i``."""

    content_type: bytes
    heads: list[bytes]
    tail: bytes
    content_length: int


def multipart(ranges: list[ByteRange], size: int, part_type: bytes) -> Multipart:
    """Frame ``ranges`` of a representation of ``size`` bytes and type ``part_type``."""
    boundary = secrets.token_hex(16).encode()
    heads = [
        b"%s--%s\r\nContent-Type: %s\r\nContent-Range: %s\r\n\r\n"
        % (b"\r\n" if i else b"", boundary, part_type, content_range(first, last, size))
        for i, (first, last) in enumerate(ranges)
    ]
    tail = b"\r\n--%s--\r\n" % boundary
    length = sum(map(len, heads)) + len(tail) + sum(last - first + 1 for first, last in ranges)
    return Multipart(b"multipart/byteranges; boundary=" + boundary, heads, tail, length)
