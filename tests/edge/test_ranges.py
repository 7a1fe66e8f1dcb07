"""Range parsing and multipart framing against the reference model (tests/edge/models.py)."""

from __future__ import annotations

import email.parser
import email.policy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.conditional import if_range_matches, parse_http_date, precondition
from edge.ranges import MAX_RANGES, multipart, parse_range
from tests.edge import models


@settings(max_examples=300, deadline=None)
@given(size=st.integers(0, 3000), header=models.range_header())
def test_parse_range_matches_model(size: int, header: str) -> None:
    status, parts = models.expected_range_response(header, size)
    got = parse_range(header, size)
    if status == 200:
        assert got is None
    elif status == 416:
        assert got == []
    else:
        assert got == parts


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-499", 1000, [(0, 499)]),
        ("bytes=-500", 1000, [(500, 999)]),
        ("bytes=500-", 1000, [(500, 999)]),
        ("bytes=0-0,-1", 1000, [(0, 0), (999, 999)]),
        ("bytes=0-9999", 1000, [(0, 999)]),
        ("bytes=-5000", 1000, [(0, 999)]),
        ("bytes=1000-", 1000, []),
        ("bytes=-0", 1000, []),
        ("bytes=0-", 0, []),
        ("bytes=5-1", 1000, None),
        ("bytes=a-b", 1000, None),
        ("bytes=1-2;3", 1000, None),
        ("pages=1-2", 1000, None),
        ("bytes=1000-,0-1", 1000, [(0, 1)]),  # the unsatisfiable spec is dropped
        ("bytes=0-1,2-3", 1000, [(0, 3)]),  # adjacent ranges are coalesced
        ("bytes=" + ",".join(["0-1"] * (MAX_RANGES + 1)), 1000, None),  # too many: ignored
        ("bytes=" + ",".join(["0-1"] * MAX_RANGES), 1000, [(0, 1)]),
    ],
)
def test_range_policy_examples(header: str, size: int, expected: list[tuple[int, int]] | None) -> None:
    assert parse_range(header, size) == expected


@given(
    size=st.integers(1, 5000),
    raw=st.lists(st.tuples(st.integers(0, 4999), st.integers(0, 4999)), min_size=2, max_size=6),
)
@settings(max_examples=100, deadline=None)
def test_multipart_framing_parses_back(size: int, raw: list[tuple[int, int]]) -> None:
    data = bytes(i % 251 for i in range(size))
    ranges = sorted({(min(a, b) % size, max(a, b) % size) for a, b in raw if min(a, b) % size <= max(a, b) % size})
    framing = multipart(ranges, size, b"video/mp4")
    body = b"".join(head + data[first : last + 1] for head, (first, last) in zip(framing.heads, ranges, strict=True))
    body += framing.tail
    assert len(body) == framing.content_length
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + framing.content_type + b"\r\n\r\n" + body
    )
    parts = list(message.iter_parts())
    assert [p["Content-Range"] for p in parts] == [f"bytes {a}-{b}/{size}" for a, b in ranges]
    assert [p.get_payload(decode=True) for p in parts] == [data[a : b + 1] for a, b in ranges]
    assert all(p["Content-Type"] == "video/mp4" for p in parts)


# -- preconditions -----------------------------------------------------------------------------------

ETAG = '"v2"'
LAST_MODIFIED = 1_700_000_000
tags = st.lists(st.sampled_from(['"v1"', '"v2"', 'W/"v2"', 'W/"v1"', '"v22"', "*"]), min_size=1, max_size=3)
dates = st.none() | st.integers(LAST_MODIFIED - 3, LAST_MODIFIED + 3)


def header_list(values: list[str]) -> str:
    return "*" if "*" in values else ", ".join(values)


def http_date(ts: int) -> str:
    from email.utils import formatdate

    return formatdate(ts, usegmt=True)


@settings(max_examples=300, deadline=None)
@given(if_match=st.none() | tags, if_none_match=st.none() | tags, ius=dates, ims=dates)
def test_precondition_matches_model(
    if_match: list[str] | None, if_none_match: list[str] | None, ius: int | None, ims: int | None
) -> None:
    if_match = ["*"] if if_match and "*" in if_match else if_match
    if_none_match = ["*"] if if_none_match and "*" in if_none_match else if_none_match
    headers: dict[bytes, str] = {}
    if if_match is not None:
        headers[b"if-match"] = header_list(if_match)
    if if_none_match is not None:
        headers[b"if-none-match"] = header_list(if_none_match)
    if ius is not None:
        headers[b"if-unmodified-since"] = http_date(ius)
    if ims is not None:
        headers[b"if-modified-since"] = http_date(ims)
    expected = models.expected_precondition(ETAG, LAST_MODIFIED, if_match, if_none_match, ius, ims)
    assert (precondition(headers, ETAG, LAST_MODIFIED) or 200) == expected


def test_malformed_validators() -> None:
    assert precondition({b"if-none-match": "v2"}, ETAG, LAST_MODIFIED) is None  # unquoted: matches nothing
    assert precondition({b"if-match": 'W/"v2"'}, ETAG, LAST_MODIFIED) == 412
    assert precondition({b"if-modified-since": "yesterday"}, ETAG, LAST_MODIFIED) is None
    assert precondition({b"if-unmodified-since": "yesterday"}, ETAG, LAST_MODIFIED) is None
    assert precondition({b"if-none-match": '"a,b", "v2"'}, ETAG, LAST_MODIFIED) == 304  # comma inside a tag


def test_if_range_and_dates() -> None:
    assert if_range_matches(ETAG, ETAG, LAST_MODIFIED)
    assert not if_range_matches('W/"v2"', ETAG, LAST_MODIFIED)
    assert if_range_matches(http_date(LAST_MODIFIED), ETAG, LAST_MODIFIED)
    assert not if_range_matches(http_date(LAST_MODIFIED - 1), ETAG, LAST_MODIFIED)
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 UTC",  # another time zone
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 94 08:49:37 GMT",  # two-digit year outside rfc850-date
        "Sun 06 Nov 1994 08:49:37 GMT",  # missing comma
        "Sun,  06 Nov 1994 08:49:37 GMT",  # extra spaces
        "Sun, 06 Nov 1994  08:49:37 GMT",
        "Sun, 06-Nov-1994 08:49:37 GMT",  # dashes in IMF-fixdate
        "Sun, 06 Nov 1994 08.49.37 GMT",  # dots in the time
        "Sun, 06 Nov 1994 8:49:37 GMT",  # one-digit hour
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "sun, 06 nov 1994 08:49:37 gmt",  # case-sensitive
        "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT",  # several (joined lines)
        "Sun, 06 Nov 1994 08:49:37 GMT garbage",
        "Sun, 31 Feb 1994 08:49:37 GMT",  # no such day
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:49:37\xa0GMT",  # non-breaking space
        "Sun, \u0660\u0666 Nov 1994 08:49:37 GMT",  # Arabic-Indic digits
        "Sunday, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",  # rfc850-date needs the long day name
        "Sun Nov 6 08:49:37 1994",  # asctime-date pads the day with a space
        "0",
        "",
    ],
)
def test_http_dates_are_parsed_strictly(value: str) -> None:
    assert parse_http_date(value) is None


def test_a_two_digit_year_more_than_50_years_ahead_is_in_the_past() -> None:
    now = 1_780_000_000  # 2026
    assert parse_http_date("Friday, 06-Nov-76 08:49:37 GMT", now) == 3_371_878_177  # 2076
    assert parse_http_date("Sunday, 06-Nov-77 08:49:37 GMT", now) == 247_654_177  # 1977
