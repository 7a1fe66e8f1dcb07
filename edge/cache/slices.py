"""Slice geometry: an object of ``size`` bytes is cached as slices of ``slice_bytes`` each.

Slice ``i`` covers bytes ``[i*S, min((i+1)*S, size) - 1]``; an object of at most ``S`` bytes is one
slice. A slice is identified by ``(key, etag, index)``, so two versions of an object never share one.
"""

from __future__ import annotations

from collections.abc import Iterator

__all__ = ["SliceId", "slice_count", "slice_span", "spans"]

SliceId = tuple[str, str, int]


def slice_count(size: int, slice_bytes: int) -> int:
    """How many slices an object of ``size`` bytes has (none when empty)."""
    return -(-size // slice_bytes)


def slice_span(size: int, slice_bytes: int, index: int) -> tuple[int, int]:
    """First and last byte offset (inclusive) of slice ``index``."""
    first = index * slice_bytes
    return first, min(first + slice_bytes, size) - 1


def spans(start: int, end: int, slice_bytes: int) -> Iterator[tuple[int, int, int]]:
    """For the byte range ``[start, end]``: ``(index, lo, hi)`` per slice it touches, where
    ``slice[lo:hi]`` is the part of that slice inside the range."""
    for index in range(start // slice_bytes, end // slice_bytes + 1):
        base = index * slice_bytes
        yield index, max(start, base) - base, min(end, base + slice_bytes - 1) - base + 1
