"""Pull-zone test fixtures: a scripted upstream (a real HTTP server on a loopback port that records
every request), one on a raw socket that sends ``103 Early Hints`` first, the edge's clock under
test control, and an edge app with zones in front of the upstream. Test modules import the
fixtures they use (``# noqa: F401``); ``zones`` and ``zone_settings`` can be overridden per module."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from typing import Any

import httpx
import pytest

from edge.app import EdgeApp, create_app
from edge.conditional import http_date
from mediaedge.settings import Settings, load_settings
from tests.edge.fakes import ORIGIN, SECRET, FakeCache, FakeOrigin
from tests.edge.serving import ZONE_VIAS, edge_client
from tests.fixtures.loopback import serve_asgi


class Clock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@dataclass
class Route:
    """What the upstream answers for one path; 304 when the request's validators match."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"hello world"
    not_modified: dict[str, str] = field(default_factory=dict)  # extra fields of a 304
    ranges: bool = False  # honour Range with 206
    date: bool = True  # send Date (the test clock's)
    lines: list[tuple[str, str]] = field(default_factory=list)  # more header lines, repeats allowed
    chunked: bool = False  # the body in two pieces without Content-Length (Transfer-Encoding: chunked)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Upstream:
    """A scripted origin: ``routes[path]`` answers; ``requests`` records every request."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.routes: dict[str, Route | Callable[[Seen], Route]] = {}
        self.requests: list[Seen] = []
        self.url = ""

    def count(self, path: str = "/a") -> int:
        return sum(1 for r in self.requests if r.path.split("?")[0] == path)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
        seen = Seen(scope["method"], path, {k.decode(): v.decode() for k, v in scope["headers"]}, body)
        self.requests.append(seen)
        route = self.routes.get(scope["path"], Route(status=404, body=b"no route"))
        if callable(route):
            route = route(seen)
        headers = dict(route.headers)
        if route.date:
            headers.setdefault("date", http_date(self.clock.now))
        status, data = route.status, route.body
        inm, ims = seen.headers.get("if-none-match"), seen.headers.get("if-modified-since")
        if status == 200 and (
            (inm and inm == headers.get("etag")) or (ims and not inm and ims == headers.get("last-modified"))
        ):
            status, data = 304, b""
            headers = {k: v for k, v in headers.items() if k != "content-type"} | route.not_modified
        elif status == 200 and route.ranges and (rng := seen.headers.get("range")):
            first, last = (int(x) for x in rng.removeprefix("bytes=").split("-"))
            last = min(last, len(data) - 1)
            headers["content-range"] = f"bytes {first}-{last}/{len(data)}"
            status, data = 206, data[first : last + 1]
        raw = [(k.encode(), v.encode()) for k, v in [*headers.items(), *route.lines]]
        if route.chunked and status != 304:
            await send({"type": "http.response.start", "status": status, "headers": raw})
            half = len(data) // 2
            await send({"type": "http.response.body", "body": data[:half], "more_body": True})
            await send({"type": "http.response.body", "body": data[half:]})
            return
        if status != 304:
            raw.append((b"content-length", b"%d" % len(data)))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": data})


EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
PAGE = b"<!doctype html><link rel=stylesheet href=/style.css><p>hello, early hints</p>"


class HintingUpstream:
    """A scripted upstream on a raw asyncio server: each request gets :data:`EARLY_HINTS`, then
    (once ``release`` is set) its final answer: a cacheable 200 of :data:`PAGE` for GET, a 201 for
    anything else. Connections are kept alive; ``requests`` records (method, target, body)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, bytes]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.hinted = asyncio.Event()
        self.url = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                request_line, *lines = head.split("\r\n")
                method, target, _ = request_line.split(" ")
                fields = {n.strip().lower(): v.strip() for n, _, v in (line.partition(":") for line in lines if line)}
                body = await reader.readexactly(int(fields.get("content-length", "0")))
                self.requests.append((method, target, body))
                writer.write(EARLY_HINTS)
                await writer.drain()
                self.hinted.set()
                await self.release.wait()
                status, data = (b"200 OK", PAGE) if method == "GET" else (b"201 Created", b"made")
                writer.write(
                    b"HTTP/1.1 %s\r\nDate: %s\r\nCache-Control: max-age=60\r\nContent-Type: text/html\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (status, formatdate(usegmt=True).encode(), len(data), data)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the edge closed the connection
        finally:
            writer.close()


@asynccontextmanager
async def hinting_upstream() -> AsyncIterator[HintingUpstream]:
    """A :class:`HintingUpstream` on a free loopback port."""
    upstream = HintingUpstream()
    server = await asyncio.start_server(upstream.serve, "127.0.0.1", 0)
    upstream.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield upstream
    finally:
        server.close()
        await server.wait_closed()


def route_on_base(upstream: Upstream, route: Route | Callable[[Seen], Route], path: str = "/a") -> None:
    upstream.routes["/base" + path] = route


def settings_with_zones(data_dir: Path, zones: dict[str, dict[str, Any]], **edge: Any) -> Settings:
    """Settings whose ``[edge.zones]`` are ``zones``; ``edge`` overrides other edge settings."""
    return load_settings(
        environ={},
        overrides={
            "data_dir": str(data_dir),
            "cluster": {"edge_secret": SECRET},
            "edge": {"origin_url": ORIGIN, "disk_cache_bytes": 0, "slice_bytes": 16, "zones": zones, **edge},
        },
    )


def open_edge(settings: Settings, origin: FakeOrigin, clock: Clock) -> EdgeApp:
    """An edge app (use with ``async with``): zones per ``settings``, ``origin`` for JWKS and tenants."""
    return create_app(settings, cache=FakeCache(), transport=origin.transport(), clock=clock)


def http_client(app: EdgeApp, via: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """A client for ``app``: in-process or over the lean server (:mod:`tests.edge.serving`)."""
    return edge_client(app, via)


@pytest.fixture(name="via", params=ZONE_VIAS)
def via_fixture(request: pytest.FixtureRequest) -> str:
    """In-process or over the lean server: pull zones never take the fast path, so not its way too."""
    return str(request.param)


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


@pytest.fixture(name="upstream")
async def upstream_fixture(clock: Clock) -> AsyncIterator[Upstream]:
    server = Upstream(clock)
    async with serve_asgi(server, date_header=False, server_header=False) as url:
        server.url = url
        yield server


@pytest.fixture(name="zones")
def zones_fixture(upstream: Upstream) -> dict[str, dict[str, Any]]:
    """A prefix zone ``/z`` on ``{upstream}/base`` with an upstream auth header, a host zone."""
    return {
        "z": {"prefix": "/z", "upstream": upstream.url + "/base", "headers": {"X-Upstream-Auth": "s3cret"}},
        "h": {"host": "cdn.example.test", "upstream": upstream.url},
    }


@pytest.fixture(name="zone_settings")
def zone_settings_fixture(tmp_path: Path, zones: dict[str, dict[str, Any]]) -> Settings:
    return settings_with_zones(tmp_path, zones)


@pytest.fixture(name="edge")
async def edge_fixture(zone_settings: Settings, origin: FakeOrigin, clock: Clock) -> AsyncIterator[EdgeApp]:
    async with open_edge(zone_settings, origin, clock) as app:
        yield app


@pytest.fixture(name="client")
async def client_fixture(edge: EdgeApp, via: str) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(edge, via) as http:
        yield http
