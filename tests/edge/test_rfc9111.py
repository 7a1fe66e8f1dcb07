"""Pull zones as an RFC 9111 cache: a table of behaviours against a scripted upstream (a real HTTP
server on a loopback port that counts requests), with the edge's clock under test control."""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from edge.app import EdgeApp
from edge.conditional import http_date
from edge.zones import zone_path
from mediaedge.errors import HTTPError
from tests.edge.fakes import SECRET, FakeOrigin
from tests.edge.serving import client_ip
from tests.edge.zone_fixtures import (  # noqa: F401  (pytest fixtures)
    PAGE,
    Clock,
    Route,
    Seen,
    Upstream,
    client_fixture,
    clock_fixture,
    edge_fixture,
    hinting_upstream,
    http_client,
    open_edge,
    route_on_base,
    settings_with_zones,
    upstream_fixture,
    via_fixture,
    zone_settings_fixture,
    zones_fixture,
)
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.anyio


# -- the table -----------------------------------------------------------------------------------------
# Each row: the upstream's answer, then steps (seconds to advance, request headers, expected status,
# expected Cache-Status, expected upstream requests so far). "*" in a Cache-Status matches the rest.


@dataclass
class Row:
    name: str
    route: Route
    steps: list[tuple[float, dict[str, str], int, str, int]]


LM = "Mon, 01 Jan 2024 00:00:00 GMT"
ROWS = [
    Row(
        "max-age: hit while fresh, then 304 revalidation",
        Route(headers={"cache-control": "max-age=60", "etag": '"v1"'}),
        [
            (0, {}, 200, "mediaedge; fwd=uri-miss; fwd-status=200; stored; ttl=60", 1),
            (30, {}, 200, "mediaedge; hit; ttl=30", 1),
            (31, {}, 200, "mediaedge; fwd=stale; fwd-status=304; stored; ttl=60", 2),
            (1, {}, 200, "mediaedge; hit; ttl=59", 2),
        ],
    ),
    Row(
        "s-maxage wins over max-age at a shared cache",
        Route(headers={"cache-control": "max-age=600, s-maxage=10", "etag": '"v1"'}),
        [(0, {}, 200, "*stored; ttl=10", 1), (9, {}, 200, "mediaedge; hit; ttl=1", 1), (2, {}, 200, "*fwd=stale*", 2)],
    ),
    Row(
        "Expires minus Date",
        Route(headers={"etag": '"v1"'}),  # expires added per test (needs the clock)
        [(0, {}, 200, "*stored; ttl=20", 1), (19, {}, 200, "mediaedge; hit; ttl=1", 1), (2, {}, 200, "*fwd=stale*", 2)],
    ),
    Row(
        "heuristic: 10% of Date - Last-Modified (Last-Modified 1000 s old)",
        Route(headers={"etag": '"v1"'}),  # last-modified added per test
        [
            (0, {}, 200, "*stored; ttl=100", 1),
            (99, {}, 200, "mediaedge; hit; ttl=1", 1),
            (2, {}, 200, "*fwd=stale*", 2),
        ],
    ),
    Row(
        "no explicit freshness, no Last-Modified: stored but always validated",
        Route(headers={"etag": '"v1"'}),
        [(0, {}, 200, "*stored; ttl=0", 1), (0, {}, 200, "mediaedge; fwd=stale; fwd-status=304; stored; ttl=0", 2)],
    ),
    Row(
        "no-store is never stored",
        Route(headers={"cache-control": "no-store, max-age=60"}),
        [
            (0, {}, 200, "mediaedge; fwd=uri-miss; fwd-status=200; detail=no-store", 1),
            (0, {}, 200, "*detail=no-store", 2),
        ],
    ),
    Row(
        "private is never stored by a shared cache",
        Route(headers={"cache-control": "private, max-age=60"}),
        [(0, {}, 200, "*detail=private", 1), (0, {}, 200, "*detail=private", 2)],
    ),
    Row(
        "no-cache: stored, validated on every use",
        Route(headers={"cache-control": "no-cache, max-age=60", "etag": '"v1"'}),
        [(0, {}, 200, "*stored*", 1), (0, {}, 200, "mediaedge; fwd=stale; fwd-status=304*", 2)],
    ),
    Row(
        "client no-cache forces validation",
        Route(headers={"cache-control": "max-age=60", "etag": '"v1"'}),
        [
            (0, {}, 200, "*uri-miss*", 1),
            (0, {"cache-control": "no-cache"}, 200, "mediaedge; fwd=request; fwd-status=304; stored; ttl=60", 2),
            (0, {"pragma": "no-cache"}, 200, "mediaedge; fwd=request*", 3),
            (10, {"cache-control": "max-age=5"}, 200, "mediaedge; fwd=request*", 4),
            (0, {}, 200, "mediaedge; hit; ttl=60", 4),
        ],
    ),
    Row(
        "client only-if-cached without a stored response: 504",
        Route(headers={"cache-control": "max-age=60"}),
        [(0, {"cache-control": "only-if-cached"}, 504, "", 0), (0, {}, 200, "*stored*", 1)],
    ),
    Row(
        "404 is cacheable by default (with heuristic or explicit freshness)",
        Route(status=404, headers={"cache-control": "max-age=60"}, body=b"gone"),
        [(0, {}, 404, "*fwd-status=404; stored; ttl=60", 1), (5, {}, 404, "mediaedge; hit; ttl=55", 1)],
    ),
    Row(
        "301 cacheable by default",
        Route(status=301, headers={"location": "/elsewhere", "last-modified": LM}, body=b""),
        [(0, {}, 301, "*fwd-status=301; stored*", 1), (1, {}, 301, "mediaedge; hit*", 1)],
    ),
    Row(
        "302 is not cacheable by default",
        Route(status=302, headers={"location": "/elsewhere"}, body=b""),
        [(0, {}, 302, "*fwd-status=302; detail=status", 1), (0, {}, 302, "*detail=status", 2)],
    ),
    Row(
        "302 with explicit max-age is stored",
        Route(status=302, headers={"location": "/x", "cache-control": "max-age=30"}, body=b""),
        [(0, {}, 302, "*stored; ttl=30", 1), (0, {}, 302, "mediaedge; hit; ttl=30", 1)],
    ),
    Row(
        "500 is passed through, not stored",
        Route(status=500, body=b"boom"),
        [(0, {}, 500, "*fwd-status=500; detail=status", 1), (0, {}, 500, "*", 2)],
    ),
    Row(
        "Authorization: not stored without public/s-maxage/must-revalidate",
        Route(headers={"cache-control": "max-age=60"}),
        [
            (0, {"authorization": "Bearer x"}, 200, "*detail=authorization", 1),
            (0, {"authorization": "Bearer x"}, 200, "*detail=authorization", 2),
        ],
    ),
    Row(
        "Authorization with s-maxage is stored",
        Route(headers={"cache-control": "s-maxage=60"}),
        [(0, {"authorization": "Bearer x"}, 200, "*stored*", 1), (0, {}, 200, "mediaedge; hit*", 1)],
    ),
    Row(
        "CDN-Cache-Control overrides Cache-Control for the edge",
        Route(headers={"cache-control": "no-store", "cdn-cache-control": "max-age=60"}),
        [(0, {}, 200, "*stored; ttl=60", 1), (0, {}, 200, "mediaedge; hit; ttl=60", 1)],
    ),
    Row(
        "CDN-Cache-Control that is not a valid Structured Field dictionary is ignored as a whole",
        Route(headers={"cache-control": "max-age=30", "cdn-cache-control": 'max-age="600", public'}),
        [(0, {}, 200, "*stored; ttl=30", 1), (0, {}, 200, "mediaedge; hit; ttl=30", 1)],
    ),
    Row(
        "CDN-Cache-Control with a value of an unknown type is ignored as a whole",
        Route(headers={"cache-control": "no-store", "cdn-cache-control": "max-age=600, x=%%"}),
        [(0, {}, 200, "*detail=no-store", 1), (0, {}, 200, "*detail=no-store", 2)],
    ),
    Row(
        "CDN-Cache-Control no-store wins over Cache-Control",
        Route(headers={"cache-control": "max-age=60", "cdn-cache-control": "no-store"}),
        [(0, {}, 200, "*detail=no-store", 1), (0, {}, 200, "*detail=no-store", 2)],
    ),
    Row(
        "Vary: secondary keys per Accept-Encoding",
        Route(headers={"cache-control": "max-age=60", "vary": "Accept-Encoding"}),
        [
            (0, {"accept-encoding": "gzip"}, 200, "*uri-miss*", 1),
            (0, {"accept-encoding": "br"}, 200, "*uri-miss*", 2),
            (0, {"accept-encoding": "gzip"}, 200, "mediaedge; hit*", 2),
            (0, {"accept-encoding": "br"}, 200, "mediaedge; hit*", 2),
        ],
    ),
    Row(
        "Vary: * never matches",
        Route(headers={"cache-control": "max-age=60", "vary": "*"}),
        [(0, {}, 200, "*detail=vary-star", 1), (0, {}, 200, "*detail=vary-star", 2)],
    ),
    Row(
        "Age from upstream counts against max-age",
        Route(headers={"cache-control": "max-age=60", "age": "50", "etag": '"v1"'}),
        [(0, {}, 200, "*stored; ttl=10", 1), (9, {}, 200, "mediaedge; hit; ttl=1", 1), (2, {}, 200, "*fwd=stale*", 2)],
    ),
    Row(
        "must-revalidate: no stale on upstream error (set per test)",
        Route(headers={"cache-control": "max-age=1, must-revalidate, stale-while-revalidate=60", "etag": '"v1"'}),
        [(0, {}, 200, "*stored*", 1), (5, {}, 200, "mediaedge; fwd=stale; fwd-status=304*", 2)],
    ),
]


def _matches(pattern: str, value: str) -> bool:
    if "*" not in pattern:
        return pattern == value
    parts = pattern.split("*")
    pos = 0
    for i, part in enumerate(parts):
        found = value.find(part, pos) if i else (0 if value.startswith(part) else -1)
        if found < 0:
            return False
        pos = found + len(part)
    return pattern.endswith("*") or value.endswith(parts[-1])


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
async def test_table(row: Row, client: httpx.AsyncClient, upstream: Upstream, clock: Clock) -> None:
    route = Route(**{**row.route.__dict__, "headers": dict(row.route.headers)})
    if row.name.startswith("Expires"):
        route.headers["expires"] = http_date(clock.now + 20)
    if row.name.startswith("heuristic"):
        route.headers["last-modified"] = http_date(clock.now - 1000)
    route_on_base(upstream, route)
    for advance, headers, status, cache_status, forwarded in row.steps:
        clock.now += advance
        response = await client.get("/z/a", headers=headers)
        assert response.status_code == status, response.text
        if cache_status:
            assert _matches(cache_status, response.headers["cache-status"]), response.headers["cache-status"]
        if status != 504:
            assert response.content == route.body
        assert upstream.count("/base/a") == forwarded


# -- behaviours that need more than a row ---------------------------------------------------------------


def _imf(ts: float) -> str:
    return http_date(ts)


def _rfc850(ts: float) -> str:
    return time.strftime("%A, %d-%b-%y %H:%M:%S GMT", time.gmtime(ts))


def _asctime(ts: float) -> str:
    return time.asctime(time.gmtime(ts))


def _invalid(fmt: str) -> Callable[[float], str]:
    return lambda ts: time.strftime(fmt, time.gmtime(ts))


@pytest.mark.parametrize(
    ("expires", "fresh"),
    [
        (_imf, True),
        (_rfc850, True),  # the two obsolete forms RFC 9110 §5.6.7 allows
        (_asctime, True),
        (_invalid("%a, %d %b %Y %H:%M:%S UTC"), False),  # wrong time zone
        (_invalid("%a, %d %b %Y %H:%M:%S +0000"), False),
        (_invalid("%a, %d %b %y %H:%M:%S GMT"), False),  # two-digit year
        (_invalid("%a %d %b %Y %H:%M:%S GMT"), False),  # missing comma
        (_invalid("%a,  %d %b %Y  %H:%M:%S GMT"), False),  # extra spaces
        (_invalid("%a, %d-%b-%Y %H:%M:%S GMT"), False),  # dashes
        (_invalid("%a, %d %b %Y %H.%M.%S GMT"), False),  # dots in the time
        (lambda ts: _imf(ts).replace(" 0", " ", 1) if " 0" in _imf(ts) else "Mon, 01 Jan 2024 1:00:00 GMT", False),
        (lambda ts: _imf(ts) + ", " + _imf(ts), False),  # a list (as several lines are joined)
        (lambda ts: "0", False),
    ],
    ids=[
        "imf",
        "rfc850",
        "asctime",
        "utc",
        "offset",
        "2-digit-year",
        "no-comma",
        "spaces",
        "dashes",
        "dots",
        "1-digit",
        "list",
        "zero",
    ],
)
async def test_an_invalid_expires_is_already_expired(
    client: httpx.AsyncClient, upstream: Upstream, clock: Clock, expires: Callable[[float], str], fresh: bool
) -> None:
    clock.now = float(int(clock.now) // 86400 * 86400 + 3600)  # 01:00:00 GMT: a one-digit hour exists
    route_on_base(upstream, Route(headers={"etag": '"v1"', "expires": expires(clock.now + 3600)}))
    first = await client.get("/z/a")
    assert first.headers["cache-status"].endswith(f"stored; ttl={3600 if fresh else 0}")
    again = await client.get("/z/a")
    assert again.headers["cache-status"].startswith("mediaedge; hit" if fresh else "mediaedge; fwd=stale")
    assert upstream.count("/base/a") == (1 if fresh else 2)


async def test_several_expires_lines_are_invalid(client: httpx.AsyncClient, upstream: Upstream, clock: Clock) -> None:
    later = http_date(clock.now + 3600)
    route_on_base(upstream, Route(headers={"etag": '"v1"'}, lines=[("expires", later), ("expires", later)]))
    assert (await client.get("/z/a")).headers["cache-status"].endswith("stored; ttl=0")
    assert (await client.get("/z/a")).headers["cache-status"].startswith("mediaedge; fwd=stale")


@pytest.mark.parametrize(
    ("lines", "stale"),
    [
        ([("age", "7200, 0")], True),
        ([("age", "7200"), ("age", "0")], True),
        ([("age", "0, 7200")], False),
        ([("age", "0"), ("age", "7200")], False),
    ],
    ids=["old-0", "old-0-two-lines", "0-old", "0-old-two-lines"],
)
async def test_of_a_list_of_ages_the_first_counts(
    client: httpx.AsyncClient, upstream: Upstream, lines: list[tuple[str, str]], stale: bool
) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=3600", "etag": '"v1"'}, lines=lines))
    first = await client.get("/z/a")
    assert first.headers["cache-status"].endswith("stored; ttl=-3600" if stale else "stored; ttl=3600")
    assert first.headers["age"] == ("7200" if stale else "0")
    again = await client.get("/z/a")
    assert again.headers["cache-status"].startswith("mediaedge; fwd=stale" if stale else "mediaedge; hit")
    assert upstream.count("/base/a") == (2 if stale else 1)


@pytest.mark.parametrize("age", ["old", "-7200", "7200.0"])
async def test_an_age_that_is_not_a_number_is_ignored(client: httpx.AsyncClient, upstream: Upstream, age: str) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=3600", "age": age}))
    assert (await client.get("/z/a")).headers["cache-status"].endswith("stored; ttl=3600")
    assert (await client.get("/z/a")).headers["cache-status"] == "mediaedge; hit; ttl=3600"


async def test_exactly_one_date_the_upstreams(client: httpx.AsyncClient, upstream: Upstream, clock: Clock) -> None:
    sent = http_date(clock.now - 5)
    route_on_base(upstream, Route(headers={"cache-control": "max-age=60", "date": sent}))
    for _ in range(2):  # miss, then hit: the stored Date, never a second one
        response = await client.get("/z/a")
        assert response.headers.get_list("date") == [sent]
    put = await client.put("/z/a", content=b"x")  # passed through
    assert put.headers.get_list("date") == [sent]


async def test_an_upstream_without_date_gets_the_time_it_was_received(
    client: httpx.AsyncClient, upstream: Upstream, clock: Clock
) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=60"}, date=False))
    received = http_date(clock.now)
    assert (await client.get("/z/a")).headers.get_list("date") == [received]
    clock.now += 30
    hit = await client.get("/z/a")
    assert hit.headers.get_list("date") == [received] and hit.headers["age"] == "30"
    assert len((await client.put("/z/a", content=b"x")).headers.get_list("date")) == 1


async def test_forwarded_request_carries_zone_headers_and_strips_the_prefix(
    client: httpx.AsyncClient, upstream: Upstream
) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=60"}), "/dir/file.css")
    response = await client.get("/z/dir/file.css?v=1")
    assert response.status_code == 200
    seen = upstream.requests[-1]
    assert seen.path == "/base/dir/file.css?v=1"
    assert seen.headers["x-upstream-auth"] == "s3cret"
    assert (await client.get("/z/dir/file.css?v=2")).headers["cache-status"].startswith("mediaedge; fwd=uri-miss")
    assert (await client.get("/z/dir/file.css?v=1")).headers["cache-status"].startswith("mediaedge; hit")


async def test_host_zone(client: httpx.AsyncClient, upstream: Upstream) -> None:
    upstream.routes["/logo.png"] = Route(headers={"cache-control": "max-age=60"}, body=b"png")
    first = await client.get("/logo.png", headers={"host": "cdn.example.test"})
    second = await client.get("/logo.png", headers={"host": "CDN.example.test:443"})
    assert (first.content, second.content) == (b"png", b"png")
    assert second.headers["cache-status"].startswith("mediaedge; hit")
    assert upstream.count("/logo.png") == 1


def test_zone_path_refuses_dot_segments() -> None:  # httpx normalises "/z/../a" before sending it
    for raw in (b"/../a", b"/a/./b", b"/a//b", b"a"):
        with pytest.raises(HTTPError) as info:
            zone_path(raw)
        assert info.value.status == 400
    assert zone_path(b"/dir/") == "/dir/"


@pytest.mark.parametrize("path", ["/z/%2e%2e/a", "/z/a%2fb", "/z//a", "/z/a\\b", "/z/%252e"])
async def test_paths_cannot_escape_the_zone(client: httpx.AsyncClient, upstream: Upstream, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_PATH"
    assert upstream.requests == []


async def test_age_header_grows_while_cached(client: httpx.AsyncClient, upstream: Upstream, clock: Clock) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=60", "age": "5"}))
    assert (await client.get("/z/a")).headers["age"] == "5"
    clock.now += 10
    assert (await client.get("/z/a")).headers["age"] == "15"


async def test_304_updates_stored_headers(client: httpx.AsyncClient, upstream: Upstream, clock: Clock) -> None:
    route_on_base(
        upstream,
        Route(
            headers={"cache-control": "max-age=10", "etag": '"v1"', "x-version": "1", "content-type": "text/plain"},
            not_modified={"cache-control": "max-age=600", "x-version": "2"},
        ),
    )
    await client.get("/z/a")
    clock.now += 11
    revalidated = await client.get("/z/a")
    assert revalidated.headers["x-version"] == "2"
    assert revalidated.headers["content-type"] == "text/plain"
    assert revalidated.content == b"hello world"
    clock.now += 300  # the 304's max-age=600 now governs
    later = await client.get("/z/a")
    assert later.headers["cache-status"].startswith("mediaedge; hit")
    assert upstream.count("/base/a") == 2
    assert upstream.requests[1].headers["if-none-match"] == '"v1"'


async def test_if_modified_since_is_used_without_etag(
    client: httpx.AsyncClient, upstream: Upstream, clock: Clock
) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=1", "last-modified": LM}))
    await client.get("/z/a")
    clock.now += 2
    response = await client.get("/z/a")
    assert response.headers["cache-status"].startswith("mediaedge; fwd=stale; fwd-status=304")
    assert upstream.requests[1].headers["if-modified-since"] == LM


async def test_a_changed_object_replaces_the_stored_one(
    client: httpx.AsyncClient, upstream: Upstream, clock: Clock
) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=1", "etag": '"v1"'}, body=b"one"))
    await client.get("/z/a")
    route_on_base(upstream, Route(headers={"cache-control": "max-age=60", "etag": '"v2"'}, body=b"two"))
    clock.now += 2
    response = await client.get("/z/a")
    assert response.content == b"two"
    assert response.headers["cache-status"] == "mediaedge; fwd=stale; fwd-status=200; stored; ttl=60"
    assert (await client.get("/z/a")).content == b"two"


async def test_stale_while_revalidate_serves_stale_and_refreshes_in_background(
    edge: EdgeApp, client: httpx.AsyncClient, upstream: Upstream, clock: Clock
) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=1, stale-while-revalidate=30", "etag": '"v1"'}))
    await client.get("/z/a")
    route_on_base(upstream, Route(headers={"cache-control": "max-age=60", "etag": '"v2"'}, body=b"new"))
    clock.now += 5
    stale = await client.get("/z/a")
    assert stale.content == b"hello world"
    assert stale.headers["cache-status"] == "mediaedge; hit; ttl=-4; detail=stale-while-revalidate"
    await edge.zones.by_name["z"].cache.join()
    assert upstream.count("/base/a") == 2
    fresh = await client.get("/z/a")
    assert (fresh.content, fresh.headers["cache-status"]) == (b"new", "mediaedge; hit; ttl=60")
    clock.now += 100  # beyond the SWR window: validate first
    route_on_base(upstream, Route(headers={"cache-control": "max-age=1, stale-while-revalidate=30", "etag": '"v2"'}))
    assert (await client.get("/z/a")).headers["cache-status"].startswith("mediaedge; fwd=stale; fwd-status=304")


async def _cache_then_fail(
    edge: EdgeApp, client: httpx.AsyncClient, upstream: Upstream, clock: Clock, failure: int | str, directives: str
) -> None:
    """Store ``/z/a`` with ``directives``, let it go stale, then make the upstream answer 503 or vanish."""
    route_on_base(upstream, Route(headers={"cache-control": directives, "etag": '"v1"'}))
    await client.get("/z/a")
    clock.now += 10
    if failure == "connection":
        edge.zones.by_name["z"].upstream.client.base_url = f"http://127.0.0.1:{free_port()}/base"
    else:
        route_on_base(upstream, Route(status=503, body=b"down"))


@pytest.mark.parametrize("failure", [503, "connection"])
async def test_stale_if_error(
    edge: EdgeApp, client: httpx.AsyncClient, upstream: Upstream, clock: Clock, failure: int | str
) -> None:
    await _cache_then_fail(edge, client, upstream, clock, failure, "max-age=1, stale-if-error=60")
    response = await client.get("/z/a")
    assert response.status_code == 200
    assert response.content == b"hello world"
    assert response.headers["cache-status"] == "mediaedge; fwd=stale; ttl=-9; detail=stale-if-error"
    clock.now += 100  # beyond stale-if-error
    late = await client.get("/z/a")
    if failure == "connection":  # disconnected: stale allowed unless forbidden (RFC 9111 §4.2.4)
        assert late.status_code == 200
    else:
        assert late.status_code == 503 and late.content == b"down"


@pytest.mark.parametrize("failure", [503, "connection"])
async def test_must_revalidate_never_serves_stale(
    edge: EdgeApp, client: httpx.AsyncClient, upstream: Upstream, clock: Clock, failure: int | str
) -> None:
    await _cache_then_fail(edge, client, upstream, clock, failure, "max-age=1, must-revalidate")
    response = await client.get("/z/a")
    assert response.status_code in (502, 503)
    if failure == "connection":
        assert response.json() == {"statusCode": 502, "message": "Origin unavailable", "error": "BadGateway"}


@pytest.mark.parametrize(
    ("method", "status", "invalidates"), [("POST", 200, True), ("DELETE", 204, True), ("PUT", 500, False)]
)
async def test_unsafe_methods_invalidate_on_success(
    client: httpx.AsyncClient, upstream: Upstream, method: str, status: int, invalidates: bool
) -> None:
    cached = Route(headers={"cache-control": "max-age=600"})

    def answer(seen: Seen) -> Route:
        return cached if seen.method == "GET" else Route(status=status, body=b"")

    route_on_base(upstream, answer)
    await client.get("/z/a")
    response = await client.request(method, "/z/a", content=b"x")
    assert response.status_code == status
    assert response.headers["cache-status"] == "mediaedge; fwd=method"
    after = await client.get("/z/a")
    assert after.headers["cache-status"].startswith("mediaedge; fwd=uri-miss" if invalidates else "mediaedge; hit")


async def test_location_and_content_location_are_invalidated(client: httpx.AsyncClient, upstream: Upstream) -> None:
    for path in ("/a", "/b", "/c"):
        route_on_base(upstream, Route(headers={"cache-control": "max-age=600"}), path)
        await client.get("/z" + path)
    upstream.routes["/base/form"] = Route(
        status=303, headers={"location": "/base/b", "content-location": upstream.url + "/base/c"}, body=b""
    )
    await client.post("/z/form", content=b"x")
    statuses = [(await client.get("/z" + p)).headers["cache-status"].split(";")[1].strip() for p in ("/a", "/b", "/c")]
    assert statuses == ["hit", "fwd=uri-miss", "fwd=uri-miss"]


async def test_post_body_is_streamed_and_answer_returned_unchanged(
    client: httpx.AsyncClient, upstream: Upstream, via: str
) -> None:
    upstream.routes["/base/upload"] = Route(
        status=201, headers={"x-created": "yes", "cache-control": "max-age=60"}, body=b"made"
    )

    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"chunk-"

    response = await client.post(
        "/z/upload", content=body(), headers={"connection": "x-hop", "x-hop": "1", "keep-alive": "timeout=5"}
    )
    assert (response.status_code, response.content, response.headers["x-created"]) == (201, b"made", "yes")
    seen = upstream.requests[-1]
    assert seen.method == "POST" and seen.body == b"chunk-" * 4
    assert seen.headers.get("transfer-encoding") == "chunked"  # not buffered into a Content-Length
    assert "x-hop" not in seen.headers and "keep-alive" not in seen.headers
    assert seen.headers["x-upstream-auth"] == "s3cret" and seen.headers["x-forwarded-for"] == client_ip(via)
    again = await client.post("/z/upload", content=b"y")
    assert again.headers["cache-status"] == "mediaedge; fwd=method"  # never cached
    assert upstream.count("/base/upload") == 2


async def test_client_ranges_are_answered_from_the_cache(client: httpx.AsyncClient, upstream: Upstream) -> None:
    body = bytes(range(100))
    route_on_base(upstream, Route(headers={"cache-control": "max-age=60", "etag": '"r1"'}, body=body))
    part = await client.get("/z/a", headers={"range": "bytes=10-19"})
    assert (part.status_code, part.content, part.headers["content-range"]) == (206, body[10:20], "bytes 10-19/100")
    whole = await client.get("/z/a")
    assert whole.content == body
    assert upstream.count("/base/a") == 1  # one full response, cut into 16-byte slices
    assert "range" in upstream.requests[0].headers  # the edge asked for slice 0; the upstream sent all


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_an_encoded_response_is_stored_as_the_representation_it_is(
    client: httpx.AsyncClient, upstream: Upstream, chunked: bool
) -> None:
    """Content-Encoding is the representation's (kept as is, Vary honoured); Transfer-Encoding is the
    hop's (decoded, never stored)."""
    plain = b"hello world " * 20

    def route(seen: Seen) -> Route:
        gz = "gzip" in seen.headers.get("accept-encoding", "")
        headers = {"cache-control": "max-age=60", "vary": "Accept-Encoding", "content-type": "text/plain"}
        if gz:
            headers["content-encoding"] = "gzip"
        return Route(headers=headers, body=gzip.compress(plain, mtime=0) if gz else plain, chunked=chunked)

    route_on_base(upstream, route)
    for _ in range(2):  # miss, then hit
        encoded = await client.get("/z/a", headers={"accept-encoding": "gzip"})
        assert encoded.status_code == 200, encoded.text
        assert encoded.headers["content-encoding"] == "gzip" and encoded.content == plain  # httpx decodes
        assert "transfer-encoding" not in encoded.headers or "chunked" in encoded.headers["transfer-encoding"]
        identity = await client.get("/z/a", headers={"accept-encoding": "identity"})
        assert "content-encoding" not in identity.headers and identity.content == plain
    assert encoded.headers["cache-status"].startswith("mediaedge; hit")
    assert identity.headers["cache-status"].startswith("mediaedge; hit")
    assert upstream.count("/base/a") == 2
    stored = gzip.compress(plain, mtime=0)
    async with client.stream("GET", "/z/a", headers={"accept-encoding": "gzip", "range": "bytes=0-9"}) as part:
        assert part.status_code == 206 and part.headers["content-encoding"] == "gzip"
        assert part.headers["content-range"] == f"bytes 0-9/{len(stored)}"  # ranges of the encoded bytes
        assert b"".join([chunk async for chunk in part.aiter_raw()]) == stored[:10]


@pytest.mark.parametrize("etag", [None, 'W/"weak"'], ids=["no-etag", "weak-etag"])
async def test_a_206_that_cannot_be_combined_is_fetched_whole(
    client: httpx.AsyncClient, upstream: Upstream, etag: str | None
) -> None:
    """Without a strong ETag, slices fetched by later ranges could come from different versions
    (RFC 9111 §3.4): the edge fetches the whole response once instead, and answers ranges from it."""
    body = bytes(range(50))
    headers = {"cache-control": "max-age=60"} | ({"etag": etag} if etag else {})
    route_on_base(upstream, Route(headers=headers, body=body, ranges=True))
    part = await client.get("/z/a", headers={"range": "bytes=20-29"})
    assert (part.status_code, part.content, part.headers["content-range"]) == (206, body[20:30], "bytes 20-29/50")
    whole = await client.get("/z/a")
    assert (whole.status_code, whole.content) == (200, body)
    assert whole.headers["cache-status"].startswith("mediaedge; hit")
    again = await client.get("/z/a", headers={"range": "bytes=45-"})
    assert (again.content, again.headers["content-range"]) == (body[45:], "bytes 45-49/50")  # replayed from the store
    assert [r.headers.get("range") for r in upstream.requests] == ["bytes=0-15", None]


async def test_slices_fetched_by_range_from_an_upstream_that_supports_it(
    edge: EdgeApp, client: httpx.AsyncClient, upstream: Upstream
) -> None:
    body = bytes(range(50))
    route_on_base(upstream, Route(headers={"cache-control": "max-age=60", "etag": '"r1"'}, body=body, ranges=True))
    response = await client.get("/z/a")
    assert response.content == body
    ranges = [r.headers.get("range") for r in upstream.requests]
    assert ranges[0] == "bytes=0-15" and ranges[1:] == ["bytes=16-31", "bytes=32-47", "bytes=48-49"]
    assert all(r.headers.get("if-match") == '"r1"' for r in upstream.requests[1:])
    assert (await client.get("/z/a", headers={"range": "bytes=-5"})).content == body[-5:]
    assert len(upstream.requests) == 4


async def test_conditional_and_head_requests_from_cache(client: httpx.AsyncClient, upstream: Upstream) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=60", "etag": '"e1"', "last-modified": LM}))
    head = await client.head("/z/a")
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "11")
    assert (await client.get("/z/a", headers={"if-none-match": '"e1"'})).status_code == 304
    assert (await client.get("/z/a", headers={"if-modified-since": LM})).status_code == 304
    assert upstream.count("/base/a") == 1


async def test_coalescing_shares_one_upstream_request(client: httpx.AsyncClient, upstream: Upstream) -> None:

    route_on_base(upstream, Route(headers={"cache-control": "max-age=60"}))
    responses = await asyncio.gather(*(client.get("/z/a") for _ in range(5)))
    assert all(r.content == b"hello world" for r in responses)
    assert upstream.count("/base/a") == 1


async def test_purge_a_zone(client: httpx.AsyncClient, upstream: Upstream) -> None:
    route_on_base(upstream, Route(headers={"cache-control": "max-age=600"}))
    await client.get("/z/a")
    response = await client.post(
        "/_edge/purge", json={"zone": "z", "keys": ["/a"]}, headers={"x-mediaedge-edge-secret": SECRET}
    )
    assert response.json() == {"purged": 1}
    assert (await client.get("/z/a")).headers["cache-status"].startswith("mediaedge; fwd=uri-miss")


async def test_interim_responses_are_never_stored(tmp_path: Path, origin: FakeOrigin, clock: Clock, via: str) -> None:
    async with hinting_upstream() as upstream:  # 103 Early Hints, then a cacheable 200
        settings = settings_with_zones(tmp_path, {"hints": {"prefix": "/hints", "upstream": upstream.url}})
        async with open_edge(settings, origin, clock) as edge, http_client(edge, via) as client:
            first = await client.get("/hints/page")
            assert (first.status_code, first.content) == (200, PAGE)  # the final response, stored
            assert "link" not in first.headers
            second = await client.get("/hints/page")
            assert (second.status_code, second.content) == (200, PAGE)
            assert second.headers["cache-status"] == "mediaedge; hit; ttl=60"
            assert "link" not in second.headers
            passed = await client.post("/hints/form", content=b"x")  # passed through: the final answer
            assert (passed.status_code, passed.content) == (201, b"made")
    assert len(upstream.requests) == 2
