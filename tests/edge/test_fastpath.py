"""The cache-hit fast path (edge/fastpath.py): what it replays, that it replays exactly what the slow
path answered, and every change that must send a request back to the slow path. Through the app the
way the lean server calls it (tests.edge.fakes.call with ``fast=True``), and over real sockets through
the lean server itself."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from edge import http1
from edge.app import EdgeApp, create_app
from mediaedge.plugins import get_plugin_manager
from mediaedge.settings import Settings
from mediaedge.tokens import KeySet, SigningKey
from tests.edge.fakes import (
    DATA,
    PUBLIC,
    SIGNED,
    WL_SIGNED,
    FakeCache,
    FakeOrigin,
    Reply,
    call,
    token_for,
)
from tests.edge.test_http1 import serving
from tests.plugins.edge_filter import KeyFilter

pytestmark = pytest.mark.anyio

CLIENT = ("203.0.113.9", 50000)


def _without_date(reply: Reply) -> tuple[int, dict[str, str], bytes]:
    return reply.status, {k: v for k, v in reply.headers.items() if k != "date"}, reply.body


async def twice(
    app: EdgeApp, path: str, headers: list[tuple[str, str]] | None = None, **kw: Any
) -> tuple[Reply, Reply]:
    """The same request twice the lean server's way: the first recorded, the second replayed."""
    first = await call(app, kw.get("method", "GET"), path.encode(), headers or [], client=CLIENT, fast=True)
    hits = app.fast_path.hits  # type: ignore[union-attr]
    second = await call(app, kw.get("method", "GET"), path.encode(), headers or [], client=CLIENT, fast=True)
    assert app.fast_path.hits == hits + 1, "the second request was not answered by the fast path"  # type: ignore[union-attr]
    return first, second


async def replayed(app: EdgeApp, path: str, headers: list[tuple[str, str]] | None = None, **kw: Any) -> bool:
    """Whether the fast path answers this request now (without sending it to the app)."""
    hits = app.fast_path.hits  # type: ignore[union-attr]
    await call(app, kw.get("method", "GET"), path.encode(), headers or [], client=kw.get("client", CLIENT), fast=True)
    return app.fast_path.hits == hits + 1  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [("Range", "bytes=10-99")],
        [("Range", "bytes=-5")],
        [("If-None-Match", "current")],
        [("If-Modified-Since", "Tue, 14 Nov 2023 22:13:20 GMT")],
        [("Origin", "https://player.example")],
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_replayed_answer_is_the_slow_answer(
    app: EdgeApp, cache: FakeCache, signing_key: SigningKey, method: str, headers: list[tuple[str, str]]
) -> None:
    etag = cache.objects[SIGNED][0].etag
    headers = [(name, value.replace("current", etag)) for name, value in headers]
    path = f"/{token_for(signing_key, SIGNED)}/{SIGNED}"
    first, second = await twice(app, path, headers, method=method)
    assert first.status in (200, 206, 304)
    assert _without_date(second) == _without_date(first)
    assert "date" in second.headers


async def test_answers_are_counted_like_the_slow_path(app: EdgeApp) -> None:
    await twice(app, f"/f1/{PUBLIC}")
    assert app.metrics.requests[200] == 2
    assert app.metrics.tenant_requests["t1"] == 2 and app.metrics.tenant_bytes["t1"] == 2 * len(DATA)


@pytest.mark.parametrize(
    "headers",
    [[("Range", "bytes=0-1,5-9")], [("Range", "bytes=9999-")], [("If-Match", '"other"')]],
    ids=["multipart", "416", "412"],
)
async def test_multipart_and_errors_are_never_replayed(app: EdgeApp, headers: list[tuple[str, str]]) -> None:
    path = f"/f1/{PUBLIC}"
    await call(app, "GET", path.encode(), headers, client=CLIENT, fast=True)
    assert not await replayed(app, path, headers)
    assert len(app.fast_path or ()) == 0


async def test_misses_are_not_recorded(app: EdgeApp, cache: FakeCache) -> None:
    cache.status = "miss"
    await call(app, "GET", f"/f1/{PUBLIC}".encode(), client=CLIENT, fast=True)
    cache.status = "hit"
    assert not await replayed(app, f"/f1/{PUBLIC}")


async def test_other_headers_are_other_entries(app: EdgeApp, signing_key: SigningKey) -> None:
    """An entry is decided with the exact Referer/Origin/App ID/Range it was recorded with: another
    value gets the whitelist decision and the ranges of the slow path."""
    path = f"/{token_for(signing_key, WL_SIGNED)}/{WL_SIGNED}"
    await twice(app, path, [("Referer", "https://allowed.com/watch")])
    refused = await call(app, "GET", path.encode(), [("Referer", "https://evil.example/")], client=CLIENT, fast=True)
    assert (refused.status, refused.json()["code"]) == (403, "ORIGIN_NOT_WHITELISTED")
    app_refused = await call(app, "GET", path.encode(), [("X-App-ID", "com.other")], client=CLIENT, fast=True)
    assert (app_refused.status, app_refused.json()["code"]) == (403, "APP_NOT_WHITELISTED")
    ranged = await call(app, "GET", path.encode(), [("Range", "bytes=0-0")], client=CLIENT, fast=True)
    assert (ranged.status, ranged.body) == (206, DATA[:1])


async def test_a_purge_sends_the_request_back(app: EdgeApp, signing_key: SigningKey) -> None:
    path = f"/{token_for(signing_key, SIGNED)}/{SIGNED}"
    await twice(app, path)
    await app.purger.apply({"keys": [SIGNED]})
    reply = await call(app, "GET", path.encode(), client=CLIENT, fast=True)
    assert reply.status == 404


async def test_a_new_version_is_answered_from_the_slow_path(app: EdgeApp, cache: FakeCache) -> None:
    await twice(app, f"/f1/{PUBLIC}")
    cache.add(PUBLIC, b"new bytes", file_id="f1")
    reply = await call(app, "GET", f"/f1/{PUBLIC}".encode(), client=CLIENT, fast=True)
    assert reply.body == b"new bytes" and reply.headers["etag"] == cache.objects[PUBLIC][0].etag
    first, second = await twice(app, f"/f1/{PUBLIC}")
    assert second.body == b"new bytes"


async def test_bytes_evicted_from_memory_go_the_slow_way(app: EdgeApp, cache: FakeCache) -> None:
    await twice(app, f"/f1/{PUBLIC}")
    cache.fast = False  # not in the memory tier any more
    assert not await replayed(app, f"/f1/{PUBLIC}")
    reply = await call(app, "GET", f"/f1/{PUBLIC}".encode(), client=CLIENT, fast=True)
    assert reply.body == DATA


async def test_a_tenant_purge_sends_the_request_back(app: EdgeApp, origin: FakeOrigin) -> None:
    await twice(app, f"/f1/{PUBLIC}")
    fetched = origin.count("/_edge/tenants/t1")
    await app.purger.apply({"tenants": ["t1"]})
    assert not await replayed(app, f"/f1/{PUBLIC}")
    assert origin.count("/_edge/tenants/t1") == fetched + 1  # the slow path fetched the policy again


async def test_an_expired_token_is_refused_by_the_slow_path(app: EdgeApp, signing_key: SigningKey) -> None:
    token = token_for(signing_key, SIGNED, ttl=60)
    path = f"/{token}/{SIGNED}"
    await twice(app, path)
    fast = app.fast_path
    assert fast is not None
    fast.clock = lambda: 10**10  # long after exp
    assert not await replayed(app, path)


async def test_a_withdrawn_key_stops_its_tokens(app: EdgeApp, origin: FakeOrigin, signing_key: SigningKey) -> None:
    path = f"/{token_for(signing_key, SIGNED)}/{SIGNED}"
    await twice(app, path)
    origin.keys = []
    app.keys.keyset = KeySet()  # what a JWKS refresh without the key leaves
    reply = await call(app, "GET", path.encode(), client=CLIENT, fast=True)
    assert (reply.status, reply.json()["code"]) == (401, "TOKEN_KEY_UNKNOWN")


async def test_an_ip_bound_token_is_checked_per_connection(app: EdgeApp, signing_key: SigningKey) -> None:
    path = f"/{token_for(signing_key, SIGNED, ip='203.0.113.0/24')}/{SIGNED}"
    await twice(app, path)
    other = ("198.51.100.7", 40000)
    assert not await replayed(app, path, client=other)
    reply = await call(app, "GET", path.encode(), client=other, fast=True)
    assert (reply.status, reply.json()["code"]) == (403, "TOKEN_IP_MISMATCH")
    assert await replayed(app, path)


async def test_requests_with_a_body_or_other_methods_are_left_to_the_app(app: EdgeApp) -> None:
    fast = app.fast_path
    assert fast is not None
    path = f"/f1/{PUBLIC}".encode()
    assert fast.answer(b"POST", path, [], CLIENT) is None
    assert fast.answer(b"OPTIONS", path, [], CLIENT) is None
    for name in (b"content-length", b"transfer-encoding", b"upgrade", b"expect"):
        assert fast.answer(b"GET", path, [(name, b"1")], CLIENT) is None


async def test_the_table_is_bounded(app: EdgeApp) -> None:
    fast = app.fast_path
    assert fast is not None
    fast.table.maxsize = 3
    for n in range(5):
        await twice(app, f"/f1/{PUBLIC}", [("Range", f"bytes={n}-{n}")])
    assert len(fast) == 3


async def test_request_filters_turn_the_fast_path_off(settings: Settings, cache: FakeCache, origin: FakeOrigin) -> None:
    plugins = get_plugin_manager(extra=[KeyFilter()])
    async with create_app(settings, cache=cache, transport=origin.transport(), pm=plugins) as edge:
        assert edge.fast_path is None  # a filter must see every request


# -- over real sockets, through the lean server -------------------------------------------------


class _Started:
    """The already started app without its lifespan (the ``app`` fixture runs it)."""

    def __init__(self, app: EdgeApp) -> None:
        self.app = app
        self.fast_path = app.fast_path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.app(scope, receive, send)


@pytest.fixture
async def served(app: EdgeApp) -> AsyncIterator[tuple[int, int]]:
    """The app behind two lean servers: with the fast path, and without (the slow path only)."""
    async with serving(_Started(app)) as (_, fast_port), serving(_Started(app), fast_path=False) as (_, slow_port):
        yield fast_port, slow_port


async def exchange(port: int, data: bytes, responses: int) -> list[bytes]:
    """Send ``data`` and read ``responses`` answers (each Content-Length framed) off the socket."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        answers = []
        for _ in range(responses):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            lines = head.split(b"\r\n")
            length = next(
                (int(v) for n, _, v in (x.partition(b":") for x in lines) if n.lower() == b"content-length"), 0
            )
            no_body = b" 304 " in lines[0] or data.startswith(b"HEAD")
            body = b"" if no_body else await reader.readexactly(length)
            answers.append(head + body)
        return answers
    finally:
        writer.close()
        await writer.wait_closed()


def _no_date(answer: bytes) -> bytes:
    return b"\r\n".join(line for line in answer.split(b"\r\n") if not line.startswith(b"date: "))


async def test_the_lean_server_replays_byte_for_byte(
    app: EdgeApp, served: tuple[int, int], signing_key: SigningKey
) -> None:
    fast_port, slow_port = served
    request = f"GET /{token_for(signing_key, SIGNED)}/{SIGNED} HTTP/1.1\r\nHost: edge\r\nRange: bytes=3-700\r\n\r\n"
    fast = app.fast_path
    assert fast is not None
    answers = await exchange(fast_port, request.encode(), 1)  # recorded
    assert fast.hits == 0
    answers += await exchange(fast_port, request.encode() * 3, 3)  # pipelined, replayed in one write
    assert fast.hits == 3
    (slow,) = await exchange(slow_port, request.encode(), 1)
    assert fast.hits == 3
    assert {_no_date(a) for a in answers} == {_no_date(slow)}
    assert slow.startswith(b"HTTP/1.1 206 Partial Content\r\n") and slow.endswith(DATA[3:701])


async def test_pipelined_fast_and_slow_answers_stay_in_order(app: EdgeApp, served: tuple[int, int]) -> None:
    port, _ = served
    hit = f"GET /f1/{PUBLIC} HTTP/1.1\r\nHost: edge\r\n\r\n".encode()
    await exchange(port, hit, 1)
    slow = b"GET /_edge/health HTTP/1.1\r\nHost: edge\r\n\r\n"
    head = f"HEAD /f1/{PUBLIC} HTTP/1.1\r\nHost: edge\r\n\r\n".encode()
    answers = await exchange(port, hit + slow + hit + hit, 4)
    assert [a.endswith(DATA) for a in answers] == [True, False, True, True]
    assert b"application/json" in answers[1]
    (head_answer,) = await exchange(port, head, 1)
    assert head_answer.startswith(b"HTTP/1.1 200 OK\r\n") and head_answer.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    "request_line",
    [b"GET /f1/%s HTTP/1.0\r\n\r\n", b"GET /f1/%s HTTP/1.1\r\nConnection: close\r\n\r\n"],
    ids=["http-1.0", "connection-close"],
)
async def test_connections_that_end_take_the_slow_path(
    app: EdgeApp, served: tuple[int, int], request_line: bytes
) -> None:
    port, _ = served
    request = request_line % PUBLIC.encode()
    fast = app.fast_path
    assert fast is not None
    hits = fast.hits
    for _ in range(2):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        answer = await asyncio.wait_for(reader.read(), 10)  # the server closes the connection
        writer.close()
        await writer.wait_closed()
        assert answer.endswith(DATA) and b"connection: close" in answer.lower()
    assert fast.hits == hits


async def test_pipelined_answers_are_buffered_within_the_write_limit(
    app: EdgeApp, served: tuple[int, int], cache: FakeCache
) -> None:
    """A client pipelining more than the write buffer holds gets the rest from the slow path, which
    waits for the client to read (and stops reading meanwhile): answers stay complete and in order."""
    port, _ = served
    data = bytes(range(256)) * 256  # 64 KiB
    cache.add(PUBLIC, data, file_id="f1")
    hit = f"GET /f1/{PUBLIC} HTTP/1.1\r\nHost: edge\r\n\r\n".encode()
    await exchange(port, hit, 1)
    fast = app.fast_path
    assert fast is not None
    count = 2 * http1.WRITE_HIGH_WATER // len(data)
    answers = await exchange(port, hit * count, count)
    assert all(a.endswith(data) for a in answers)
    assert 0 < fast.hits < count
