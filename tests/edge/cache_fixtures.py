"""Edge cache test fixtures: a scripted fake origin, and started caches pulling from it; every
test_cache_* module imports the fixtures it uses (``# noqa: F401``).

The fake origin implements ``GET /_edge/objects/{key}`` (edge secret, Range, If-None-Match → 304,
If-Match → 412) from a dict. It records every request and can be told to fail, to cut bodies short,
to hold a body after its first chunk, or to hold its answers once decided. A small Starlette app under
uvicorn on a free loopback port serves it: one server per test module (module-scoped event loop), a
fresh fake origin installed per test.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from edge.cache import EdgeCache, ObjectMeta, OriginClient
from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.settings import EdgeSettings, load_settings
from tests.fixtures.servers import free_port

SECRET = "edge-secret-for-tests"
KiB = 1024
MiB = 1024 * KiB
_RANGE = re.compile(r"bytes=(\d+)-(\d+)")


@dataclass
class FakeObject:
    data: bytes
    etag: str
    cache_control: str = ""
    access: str = "public"
    content_type: str = "video/mp4"
    last_modified: float = 1_700_000_000.0
    file_id: str | None = None  # default: "file-" + the key's last segment
    asset_id: str | None = None  # sent as X-Mediaedge-Asset-Id when set


@dataclass
class Seen:
    """One request the fake origin answered."""

    key: str
    range: str | None
    if_none_match: str | None
    if_match: str | None
    status: int = 0
    body_bytes: int = 0


@dataclass
class FakeOrigin:
    objects: dict[str, FakeObject] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    fail_with: int | None = None  # answer everything with this status
    cut_after: int | None = None  # send this many body bytes, then drop the connection
    gate: asyncio.Event | None = None  # hold each body after its first chunk until set
    hold: asyncio.Event | None = None  # hold each answer, once decided, until set
    ignore_range: bool = False  # answer 200 with the whole body even to a Range request
    max_range: int | None = None  # answer a Range request with at most this many bytes
    chunk_size: int = 64 * KiB

    def put(self, key: str, data: bytes, *, cache_control: str = "", access: str = "public") -> FakeObject:
        etag = f'"{hashlib.sha256(data).hexdigest()[:16]}"'
        obj = self.objects[key] = FakeObject(data, etag, cache_control=cache_control, access=access)
        return obj

    @property
    def byte_requests(self) -> list[Seen]:
        """Requests answered with bytes (200/206)."""
        return [r for r in self.requests if r.status in (200, 206)]

    @property
    def bytes_sent(self) -> int:
        return sum(r.body_bytes for r in self.requests)

    async def serve(self, request: Request) -> Response:
        seen = Seen(
            request.path_params["key"],
            request.headers.get("range"),
            request.headers.get("if-none-match"),
            request.headers.get("if-match"),
        )
        self.requests.append(seen)
        response = self._answer(request, seen)
        seen.status = response.status_code
        if self.hold is not None:
            await self.hold.wait()
        return response

    def _answer(self, request: Request, seen: Seen) -> Response:
        if request.headers.get(EDGE_SECRET_HEADER) != SECRET:
            return Response(status_code=403)
        if self.fail_with is not None:
            return Response(b"origin trouble", status_code=self.fail_with)
        obj = self.objects.get(seen.key)
        if obj is None:
            return Response(status_code=404)
        headers = {
            "etag": obj.etag,
            "last-modified": formatdate(obj.last_modified, usegmt=True),
            "content-type": obj.content_type,
            "x-mediaedge-file-id": obj.file_id or "file-" + seen.key.rsplit("/", 1)[-1],
            "x-mediaedge-tenant": seen.key.split("/", 1)[0],
            "x-mediaedge-access": obj.access,
        }
        if obj.asset_id:
            headers["x-mediaedge-asset-id"] = obj.asset_id
        if obj.cache_control:
            headers["cache-control"] = obj.cache_control
        if seen.if_none_match == obj.etag:
            return Response(status_code=304, headers=headers)
        if seen.if_match is not None and seen.if_match != obj.etag:
            return Response(status_code=412)
        start, end, status = 0, len(obj.data) - 1, 200
        match = _RANGE.fullmatch(seen.range or "")
        if match and not self.ignore_range:
            start, end = int(match.group(1)), min(int(match.group(2)), len(obj.data) - 1)
            end = end if self.max_range is None else min(end, start + self.max_range - 1)
            if start >= len(obj.data):
                return Response(status_code=416, headers={"content-range": f"bytes */{len(obj.data)}"})
            status = 206
            headers["content-range"] = f"bytes {start}-{end}/{len(obj.data)}"
        body = obj.data[start : end + 1]
        headers["content-length"] = str(len(body))
        return StreamingResponse(self._stream(body, seen), status_code=status, headers=headers)

    async def _stream(self, body: bytes, seen: Seen) -> AsyncIterator[bytes]:
        limit = len(body) if self.cut_after is None else min(self.cut_after, len(body))
        for offset in range(0, limit, self.chunk_size):
            chunk = body[offset : min(offset + self.chunk_size, limit)]
            seen.body_bytes += len(chunk)
            yield chunk
            if offset == 0 and self.gate is not None:
                await self.gate.wait()
        if limit < len(body):
            raise ConnectionAbortedError("fake origin cuts the body short")


class Server:
    """uvicorn serving :attr:`origin` (replaceable with :meth:`install`) on a free loopback port."""

    def __init__(self) -> None:
        self.origin = FakeOrigin()
        self.app = Starlette(routes=[Route("/_edge/objects/{key:path}", self._serve)])
        self.port = free_port()
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def install(self, origin: FakeOrigin) -> FakeOrigin:
        """Serve ``origin`` from now on."""
        self.origin = origin
        return origin

    async def _serve(self, request: Request) -> Response:
        return await self.origin.serve(request)

    async def start(self) -> None:
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            ws="none",
            log_level="critical",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("uvicorn did not start")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None


class Clock:
    """Wall clock stand-in the tests move forward by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


MakeCache = Callable[..., Awaitable[EdgeCache]]


def edge_settings(tmp_path: Path, **edge: object) -> EdgeSettings:
    values = {
        "memory_cache_bytes": 64 * MiB,
        "disk_cache_bytes": 256 * MiB,
        "disk_cache_dir": str(tmp_path / "edge-cache"),
        "slice_bytes": 256 * KiB,
        "object_ttl": 60,
        **edge,
    }
    return load_settings(environ={}, overrides={"data_dir": str(tmp_path / "var"), "edge": values}).edge


# Fixture functions carry a _fixture suffix and an explicit name, so the test_cache_* modules can
# import them without the names clashing with test parameters.


@pytest.fixture(name="anyio_backend", scope="module")
def anyio_backend_fixture() -> str:
    """One event loop per module, so one origin server serves the whole module."""
    return "asyncio"


@pytest.fixture(name="fake_origin_server", scope="module")
async def fake_origin_server_fixture(anyio_backend: str) -> AsyncIterator[Server]:
    server = Server()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(name="fake_origin")
def fake_origin_fixture(fake_origin_server: Server) -> FakeOrigin:
    """A fresh fake origin for this test, served by the module's server."""
    return fake_origin_server.install(FakeOrigin())


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock()


@pytest.fixture(name="make_cache")
async def make_cache_fixture(
    fake_origin_server: Server, fake_origin: FakeOrigin, tmp_path: Path, clock: Clock
) -> AsyncIterator[MakeCache]:
    """Build started caches pulling from the fake origin (edge settings as keyword overrides, e.g.
    ``origin_url``); all closed at the end. Caches made in one test share the disk cache directory."""
    caches: list[EdgeCache] = []

    async def make(**edge: object) -> EdgeCache:
        settings = edge_settings(tmp_path, **{"origin_url": fake_origin_server.url, **edge})
        cache = EdgeCache(settings, OriginClient(settings.origin_url, SECRET), clock=clock)
        caches.append(cache)
        await cache.start()
        return cache

    try:
        yield make
    finally:
        for cache in caches:
            await cache.close()


async def read_all(cache: EdgeCache, meta: ObjectMeta, start: int = 0, end: int | None = None) -> bytes:
    end = meta.size - 1 if end is None else end
    return b"".join([chunk async for chunk in cache.read(meta, start, end)])


def slice_files(tmp_path: Path) -> dict[str, int]:
    """The slice files of the disk tier ``make_cache`` sets up: name → size."""
    return {p.name: p.stat().st_size for p in (tmp_path / "edge-cache" / "slices").glob("*/*")}


async def cached_then_closed(make_cache: MakeCache, key: str, **edge: object) -> tuple[ObjectMeta, bytes]:
    """Read all of ``key`` through a new cache (edge settings as for ``make_cache``), wait for its
    writes, close it; the meta and the bytes read. The next cache made in the test finds the disk tier."""
    cache = await make_cache(**edge)
    meta, _ = await cache.lookup(key)
    data = await read_all(cache, meta)
    await cache.join()
    await cache.close()
    return meta, data
