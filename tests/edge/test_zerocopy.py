"""Zero-copy sends: the lean protocol's ``http.response.zerocopy`` (os.sendfile from a file to the
socket) and the edge serving disk-tier hits with it when the memory tier does not hold the bytes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge import http1
from edge.app import create_app
from edge.cache import EdgeCache
from mediaedge.settings import load_settings
from tests.edge import fakes
from tests.edge.cache_fixtures import (  # noqa: F401  (pytest fixtures)
    FakeOrigin,
    KiB,
    MakeCache,
    anyio_backend_fixture,
    clock_fixture,
    fake_origin_fixture,
    fake_origin_server_fixture,
    make_cache_fixture,
)
from tests.edge.test_fastpath import exchange
from tests.edge.test_http1 import serving

pytestmark = pytest.mark.anyio


@pytest.fixture
def sendfile_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The byte counts os.sendfile sent, call by call."""
    calls: list[int] = []
    real = os.sendfile

    def counting(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        sent = real(out_fd, in_fd, offset, count)
        calls.append(sent)
        return sent

    monkeypatch.setattr(os, "sendfile", counting)
    yield calls


def file_app(path: Path, offset: int, count: int) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        assert http1.ZEROCOPY in scope["extensions"]
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % count)]})
        with open(path, "rb", buffering=0) as file:
            half = count // 2
            await send({"type": http1.ZEROCOPY, "file": file, "offset": offset, "count": half, "more_body": True})
            await send({"type": http1.ZEROCOPY, "file": file, "offset": offset + half, "count": count - half})

    return app


async def test_zerocopy_sends_a_file_to_a_slow_reader(tmp_path: Path, sendfile_calls: list[int]) -> None:
    data = os.urandom(8 * 1024 * 1024)
    path = tmp_path / "big"
    path.write_bytes(data)
    async with serving(file_app(path, 100, len(data) - 200)) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        body = b""
        while len(body) < len(data) - 200:
            body += await reader.read(64 * 1024)
            await asyncio.sleep(0)  # slower than the server: the socket fills, the server waits
        writer.write(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")  # the connection is still good
        head_only = await reader.readuntil(b"\r\n\r\n")
        writer.close()
        await writer.wait_closed()
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and body == data[100:-100]
    assert head_only.startswith(b"HTTP/1.1 200 OK\r\n")
    assert sum(sendfile_calls) == len(data) - 200 and len(sendfile_calls) > 2  # in pieces, as the socket took them


async def test_a_client_gone_mid_zerocopy_is_no_error(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(os.urandom(16 * 1024 * 1024))
    async with serving(file_app(path, 0, 16 * 1024 * 1024)) as (server, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readexactly(4096)
        writer.transport.abort()
        for _ in range(500):
            if not server.connections:
                break
            await asyncio.sleep(0.01)
        assert not server.connections


async def test_disk_tier_hits_are_sent_from_the_files(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path, sendfile_calls: list[int]
) -> None:
    key = "t1/u1/videos/long.mp4"
    data = os.urandom(1024 * KiB + 1000)
    fake_origin.put(key, data)
    cache: EdgeCache = await make_cache(memory_cache_bytes=1)  # nothing fits in memory: the disk serves
    settings = load_settings(
        environ={},
        overrides={
            "data_dir": str(tmp_path / "app"),
            "cluster": {"edge_secret": fakes.SECRET},
            "edge": {"origin_url": fakes.ORIGIN},
        },
    )
    policy_origin = fakes.FakeOrigin(keys=[], tenants=fakes.TENANTS)
    app = create_app(settings, cache=cache, transport=policy_origin.transport())
    await app.keys.start()
    path = f"/file-long.mp4/{key}"
    request = f"GET {path} HTTP/1.1\r\nHost: edge\r\n\r\n".encode()
    ranged = f"GET {path} HTTP/1.1\r\nHost: edge\r\nRange: bytes=300000-700000\r\n\r\n".encode()
    try:
        async with serving(_NoLifespan(app)) as (_, port):
            (first,) = await exchange(port, request, 1)  # a miss: from the origin, streamed
            await cache.join()  # its slices written to disk
            assert sendfile_calls == []
            hits = cache.stats["disk.hit"]
            (again,) = await exchange(port, request, 1)
            (part,) = await exchange(port, ranged, 1)
            sent = sum(sendfile_calls)
            small = f"GET {path} HTTP/1.1\r\nHost: edge\r\nRange: bytes=0-999\r\n\r\n".encode()
            (head,) = await exchange(port, small, 1)  # read from disk (and promoted, memory allowing)
            assert head.endswith(data[:1000]) and sum(sendfile_calls) == sent
    finally:
        await app.keys.close()
        await app.client.aclose()
    assert first.endswith(data) and again.endswith(data)
    assert b"cache-status: mediaedge; hit" in again
    assert part.startswith(b"HTTP/1.1 206 ") and part.endswith(data[300000:700001])
    assert sum(sendfile_calls) == len(data) + 400001
    assert cache.stats["disk.hit"] == hits + 5 + 2 + 1  # 5 slices of 256 KiB, the 2 the range spans, 1 read


class _NoLifespan:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.fast_path = app.fast_path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.app(scope, receive, send)
