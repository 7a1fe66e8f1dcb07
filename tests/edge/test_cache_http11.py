"""The pull zones' HTTP/1.1 transport (:mod:`edge.cache.http11`) against scripted raw servers: interim
responses reported in order, keep-alive reuse, a connection the server closed while idle, and httpx's
exceptions for timeouts, refused connections and cut bodies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from edge.cache.http11 import INTERIM, Http11Transport
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.anyio

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


def ok(body: bytes, *extra: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (b"".join(extra), len(body), body)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request head and its Content-Length body."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line[15:]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")), 0)
    return head + await reader.readexactly(length)


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[tuple[str, list[list[bytes]]]]:
    """A loopback server running ``handler(reader, writer, n)`` for its n-th connection (from 0);
    yields its URL and, per connection, the requests ``handler`` read with :func:`read_request`."""
    seen: list[list[bytes]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append([])
        requests = seen[-1]

        async def recording() -> bytes:
            requests.append(await read_request(reader))
            return requests[-1]

        reader.request = recording  # type: ignore[attr-defined]
        try:
            await handler(reader, writer, len(seen) - 1)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", seen
    finally:
        server.close()
        await server.wait_closed()


def client(url: str, timeout: float = 5.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=url, transport=Http11Transport(), timeout=timeout)


async def test_interim_responses_are_reported_in_order_and_the_connection_is_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await reader.request()  # type: ignore[attr-defined]
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>\r\n\r\n")
            writer.write(ok(b"final"))

    seen: list[tuple[int, list[tuple[bytes, bytes]]]] = []

    async def interim(status: int, headers: list[tuple[bytes, bytes]]) -> None:
        seen.append((status, headers))

    async with raw_server(handler) as (url, requests), client(url) as http:
        for _ in range(2):
            response = await http.get("/x", extensions={INTERIM: interim})
            assert (response.status_code, response.content) == (200, b"final")
        plain = await http.get("/y")  # without the extension: interim responses skipped
        assert plain.content == b"final"
    assert seen == [(100, []), (103, [(b"link", b"</a.css>; rel=preload"), (b"link", b"</b.js>")])] * 2
    assert [len(r) for r in requests] == [3]  # one connection for all three requests


async def test_a_connection_closed_by_the_server_while_idle_is_replaced_for_a_request_without_body() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await reader.request()  # type: ignore[attr-defined]
        writer.write(ok(b"one"))
        await reader.request()  # type: ignore[attr-defined]  # then closes without an answer

    async with raw_server(handler) as (url, requests), client(url) as http:
        assert (await http.get("/a")).content == b"one"
        assert (await http.get("/b")).content == b"one"  # sent again on a new connection
        assert [len(r) for r in requests] == [2, 1]
        assert requests[1][0].startswith(b"GET /b ")
        with pytest.raises(httpx.RemoteProtocolError):  # a body may not be sent twice
            await http.post("/c", content=b"data")


async def test_a_timeout_refusal_or_cut_body_raises_httpx_errors() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        request = await reader.request()  # type: ignore[attr-defined]
        if request.startswith(b"GET /cut "):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
            return  # and close
        await asyncio.sleep(5)  # never answers in time

    async with raw_server(handler) as (url, _), client(url, timeout=0.2) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get("/slow")
        async with http.stream("GET", "/cut") as response:
            assert response.status_code == 200
            with pytest.raises(httpx.RemoteProtocolError):
                await response.aread()
    async with client(f"http://127.0.0.1:{free_port()}") as http:
        with pytest.raises(httpx.ConnectError):
            await http.get("/")


async def test_an_unread_body_closes_its_connection_one_without_body_does_not_and_chunks_arrive_whole() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            request = await reader.request()  # type: ignore[attr-defined]
            if request.startswith(b"GET /big "):
                writer.write(ok(b"x" * 200_000))
            elif request.startswith(b"GET /same "):
                writer.write(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
            else:
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")

    async with raw_server(handler) as (url, requests), client(url) as http:
        async with http.stream("GET", "/big") as response:
            assert response.status_code == 200  # left unread
        chunked = await http.get("/chunked")
        assert chunked.content == b"abcde"
        async with http.stream("GET", "/same") as response:
            assert response.status_code == 304  # closed unread, but it has no body: reused
        again = await http.get("/chunked")
        assert again.content == b"abcde"
    assert [len(r) for r in requests] == [1, 3]  # a new connection after the unread body, then reused
