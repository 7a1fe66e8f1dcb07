"""Property tests through the whole app: for random objects and Range/If-Range/precondition headers,
status, Content-Range, Content-Length and body agree with the reference models (models.py)."""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.app import EdgeApp, create_app
from mediaedge.settings import load_settings
from mediaedge.tokens import generate_signing_key
from tests.edge import models
from tests.edge.fakes import LAST_MODIFIED, ORIGIN, SECRET, TENANTS, FakeCache, FakeOrigin, Reply, call

KEY = "t1/u1/prop/object.bin"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[asyncio.AbstractEventLoop, EdgeApp, FakeCache]]:
    """One app on one event loop for all examples (hypothesis calls the test body many times)."""
    loop = asyncio.new_event_loop()
    cache = FakeCache()
    data_dir: Path = tmp_path_factory.mktemp("edge")
    edge_settings = load_settings(
        environ={},
        overrides={"data_dir": str(data_dir), "cluster": {"edge_secret": SECRET}, "edge": {"origin_url": ORIGIN}},
    )
    origin = FakeOrigin(keys=[generate_signing_key("EdDSA")], tenants=TENANTS)
    app = create_app(edge_settings, cache=cache, transport=origin.transport())
    loop.run_until_complete(app.start())
    try:
        yield loop, app, cache
    finally:
        loop.run_until_complete(app.close())
        loop.close()


def body_parts(reply: Reply, size: int) -> list[tuple[int, int, bytes]]:
    """(first, last, bytes) of each part of a 206, single or multipart."""
    content_type = reply.headers["content-type"]
    if not content_type.startswith("multipart/byteranges"):
        first, last = map(int, reply.headers["content-range"].removeprefix("bytes ").split("/")[0].split("-"))
        return [(first, last, reply.body)]
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + reply.body
    )
    parts = []
    for part in message.iter_parts():
        span, total = part["Content-Range"].removeprefix("bytes ").split("/")
        assert int(total) == size
        first, last = map(int, span.split("-"))
        parts.append((first, last, part.get_payload(decode=True)))
    return parts


def answers(
    loop: asyncio.AbstractEventLoop, app: EdgeApp, method: str, path: bytes, headers: list[tuple[str, str]]
) -> tuple[list[Reply], bool]:
    """The request answered by the app over ASGI, then twice the lean server's way (the fast path
    first: edge.fastpath), and whether the fast path answered the last one. A replayed answer is
    the one the slow path gave, but its Date."""
    slow = loop.run_until_complete(call(app, method, path, headers))
    recorded = loop.run_until_complete(call(app, method, path, headers, fast=True))
    assert app.fast_path is not None
    hits = app.fast_path.hits
    again = loop.run_until_complete(call(app, method, path, headers, fast=True))
    replayed = app.fast_path.hits == hits + 1
    if replayed:
        again.headers.pop("date")
        assert again == recorded
    return [slow, recorded, again], replayed


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(0, 2500),
    header=st.none() | models.range_header(),
    fast=st.booleans(),
    if_range=st.sampled_from([None, "current-etag", '"stale-etag"', "current-date", "old-date"]),
)
def test_range_responses_match_model(
    running: tuple[asyncio.AbstractEventLoop, EdgeApp, FakeCache],
    size: int,
    header: str | None,
    fast: bool,
    if_range: str | None,
) -> None:
    loop, app, cache = running
    data = bytes((i * 7 + size) % 256 for i in range(size))
    meta = cache.add(KEY, data, file_id="fp")
    cache.fast = fast
    headers = [] if header is None else [("Range", header)]
    if if_range is not None:
        value = {
            "current-etag": meta.etag,
            "current-date": formatdate(LAST_MODIFIED, usegmt=True),
            "old-date": formatdate(LAST_MODIFIED - 60, usegmt=True),
        }.get(if_range, if_range)
        headers.append(("If-Range", value))
    replies, replayed = answers(loop, app, "GET", b"/fp/" + KEY.encode(), headers)

    honoured = if_range in (None, "current-etag", "current-date")
    status, parts = models.expected_range_response(header if honoured else None, size)
    assert replayed == ((fast or size == 0) and (status == 200 or (status == 206 and len(parts) == 1)))
    for reply in replies:
        assert reply.status == status, (header, if_range)
        if status != 416:
            assert int(reply.headers["content-length"]) == len(reply.body)
        if status == 200:
            assert reply.body == data and "content-range" not in reply.headers
        elif status == 416:
            assert reply.headers["content-range"] == f"bytes */{size}"
        else:
            assert [(a, b) for a, b, _ in body_parts(reply, size)] == parts
            assert all(chunk == data[a : b + 1] for a, b, chunk in body_parts(reply, size))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(["GET", "HEAD"]),
    if_match=st.none() | st.lists(st.sampled_from(["current", '"other"', "W/current", "*"]), min_size=1, max_size=3),
    if_none_match=st.none()
    | st.lists(st.sampled_from(["current", '"other"', "W/current", "*"]), min_size=1, max_size=3),
    if_unmodified_since=st.none() | st.integers(-2, 2),
    if_modified_since=st.none() | st.integers(-2, 2),
)
def test_preconditions_match_model(
    running: tuple[asyncio.AbstractEventLoop, EdgeApp, FakeCache],
    method: str,
    if_match: list[str] | None,
    if_none_match: list[str] | None,
    if_unmodified_since: int | None,
    if_modified_since: int | None,
) -> None:
    loop, app, cache = running
    meta = cache.add(KEY, b"precondition body", file_id="fp")
    cache.fast = True  # the bytes in memory (the range test above may have left it off)

    def tags(values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        if "*" in values:
            return ["*"]
        return [v.replace("current", meta.etag) for v in values]

    match, none_match = tags(if_match), tags(if_none_match)
    unmodified = None if if_unmodified_since is None else int(LAST_MODIFIED) + if_unmodified_since
    modified = None if if_modified_since is None else int(LAST_MODIFIED) + if_modified_since
    headers = [
        (name, ", ".join(values))
        for name, values in (("If-Match", match), ("If-None-Match", none_match))
        if values is not None
    ]
    headers += [
        (name, formatdate(ts, usegmt=True))
        for name, ts in (("If-Unmodified-Since", unmodified), ("If-Modified-Since", modified))
        if ts is not None
    ]
    replies, replayed = answers(loop, app, method, b"/fp/" + KEY.encode(), headers)

    expected = models.expected_precondition(meta.etag, int(LAST_MODIFIED), match, none_match, unmodified, modified)
    assert replayed == (expected in (200, 304))
    for reply in replies:
        assert reply.status == expected, headers
        if expected == 304 or method == "HEAD":
            assert reply.body == b""
        elif expected == 200:
            assert reply.body == b"precondition body"
