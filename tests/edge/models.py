"""Reference models the property tests hold the edge to, written independently of the edge's code
(ranges as *sets of byte positions*, preconditions as the RFC 9110 §13.2.2 decision list), and the
hypothesis strategy for ``Range`` headers."""

from __future__ import annotations

import re

from hypothesis import strategies as st

MAX_RANGES = 16


def selected_bytes(header: str, size: int) -> set[int] | None:
    """The byte positions a ``Range`` header asks for; None when the edge must ignore the header."""
    match = re.fullmatch(r"\s*bytes\s*=(.*)", header, re.IGNORECASE | re.DOTALL)
    if not match:
        return None
    specs = [s.strip() for s in match.group(1).split(",") if s.strip()]
    if not specs or len(specs) > MAX_RANGES:
        return None
    positions: set[int] = set()
    for spec in specs:
        m = re.fullmatch(r"([0-9]*)-([0-9]*)", spec)
        if not m or not (m.group(1) or m.group(2)):
            return None
        if not m.group(1):
            positions.update(range(max(0, size - int(m.group(2))), size))
            continue
        first = int(m.group(1))
        if m.group(2) and int(m.group(2)) < first:
            return None
        last = int(m.group(2)) if m.group(2) else size - 1
        positions.update(range(first, min(last, size - 1) + 1))
    return positions


def runs(positions: set[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive positions, in order."""
    found: list[tuple[int, int]] = []
    for p in sorted(positions):
        if found and found[-1][1] == p - 1:
            found[-1] = (found[-1][0], p)
        else:
            found.append((p, p))
    return found


def expected_range_response(header: str | None, size: int) -> tuple[int, list[tuple[int, int]]]:
    """(status, parts) for a GET with this Range header: 200 with one whole part, 206, or 416."""
    positions = None if header is None else selected_bytes(header, size)
    if positions is None:
        return 200, [(0, size - 1)] if size else []
    if not positions:
        return 416, []
    return 206, runs(positions)


def expected_precondition(
    etag: str,
    last_modified: int,
    if_match: list[str] | None,
    if_none_match: list[str] | None,
    if_unmodified_since: int | None,
    if_modified_since: int | None,
) -> int:
    """200, 304 or 412. Lists hold entity tags (``"x"`` or ``W/"x"``) or ``*``."""

    def opaque(tag: str) -> str:
        return tag.removeprefix("W/")

    if if_match is not None:
        if not ("*" in if_match or etag in if_match):  # strong: W/ tags never match
            return 412
    elif if_unmodified_since is not None and last_modified > if_unmodified_since:
        return 412
    if if_none_match is not None:
        return 304 if "*" in if_none_match or any(opaque(t) == etag for t in if_none_match) else 200
    if if_modified_since is not None and last_modified <= if_modified_since:
        return 304
    return 200


def spec() -> st.SearchStrategy[str]:
    small = st.integers(0, 3100).map(str)
    return st.one_of(
        st.tuples(small, small).map(lambda p: f"{p[0]}-{p[1]}"),  # may be reversed: invalid
        st.builds(lambda a, n: f"{a}-{int(a) + n}", small, st.integers(0, 500)),
        small.map(lambda a: f"{a}-"),
        small.map(lambda n: f"-{n}"),
        st.sampled_from(["", "-", "abc", "1-2-3", " 5 - 6", "0x10-20", "+1-2", "\xb2-3", "99999999999999999999999-"]),
    )


def range_header() -> st.SearchStrategy[str]:
    unit = st.sampled_from(["bytes", "bytes", "bytes", "BYTES", "Bytes ", "items", ""])
    separators = st.sampled_from([",", ", ", " ,", ",,"])
    structured = st.builds(
        lambda u, specs, sep: f"{u}={sep.join(specs)}",
        unit,
        st.lists(spec(), min_size=0, max_size=MAX_RANGES + 3),
        separators,
    )
    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30)
    return st.one_of(structured, structured, structured, printable)
