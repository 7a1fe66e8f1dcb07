"""Interim responses through a pull zone, over real sockets on both edge servers (``lean`` and
``uvicorn``, as run_edge starts them): an upstream's ``103 Early Hints`` reaches the client before
the final response, and is never cached: the cache hit that follows carries no 103."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.app import create_app
from mediaedge.settings import Settings
from tests.edge.fakes import FakeCache, FakeOrigin
from tests.edge.test_app_server import lean_server, uvicorn_server
from tests.edge.zone_fixtures import PAGE, HintingUpstream, hinting_upstream, settings_with_zones
from tests.fixtures.servers import free_port

pytestmark = pytest.mark.anyio

SERVERS = pytest.mark.parametrize("serve", [lean_server, uvicorn_server], ids=["lean", "uvicorn"])


@dataclass
class Answer:
    status: int
    fields: dict[bytes, list[bytes]]
    body: bytes = b""


class RawClient:
    """One client connection to the edge, read head by head (``Connection: close``: the final
    answer's body is what follows its head up to the end)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def send(cls, port: int, method: str, target: str, version: str = "1.1", body: bytes = b"") -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        length = f"Content-Length: {len(body)}\r\n" if body else ""
        writer.write(
            f"{method} {target} HTTP/{version}\r\nHost: edge.test\r\nConnection: close\r\n{length}\r\n".encode() + body
        )
        await writer.drain()
        return cls(reader, writer)

    async def next(self) -> Answer:
        """The next response: an interim one, or the final one with its body."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 10)
        status_line, *lines = head[:-4].split(b"\r\n")
        fields: dict[bytes, list[bytes]] = {}
        for line in lines:
            name, _, value = line.partition(b":")
            fields.setdefault(name.strip().lower(), []).append(value.strip())
        answer = Answer(int(status_line.split(b" ")[1]), fields)
        if answer.status >= 200:
            answer.body = await asyncio.wait_for(self.reader.read(), 10)
            self.writer.close()
        return answer

    async def all(self) -> list[Answer]:
        """Every response to the request, interim ones first."""
        answers = [await self.next()]
        while answers[-1].status < 200:
            answers.append(await self.next())
        return answers


async def exchange(port: int, method: str, target: str, version: str = "1.1", body: bytes = b"") -> list[Answer]:
    return await (await RawClient.send(port, method, target, version, body)).all()


@pytest.fixture(name="upstream")
async def upstream_fixture() -> AsyncIterator[HintingUpstream]:
    async with hinting_upstream() as upstream:
        yield upstream


@pytest.fixture(name="edge_settings")
def edge_settings_fixture(tmp_path: Path, upstream: HintingUpstream) -> Settings:
    return settings_with_zones(tmp_path, {"z": {"prefix": "/z", "upstream": upstream.url + "/site"}})


@SERVERS
async def test_the_103_reaches_the_client_first_and_a_cache_hit_has_none(
    edge_settings: Settings, origin: FakeOrigin, upstream: HintingUpstream, serve: Any
) -> None:
    port = free_port()
    async with serve(create_app(edge_settings, cache=FakeCache(), transport=origin.transport()), port):
        hint, page = await exchange(port, "GET", "/z/page.html")
        assert hint.status == 103
        assert hint.fields == {b"link": [b"</style.css>; rel=preload"]}
        assert (page.status, page.body) == (200, PAGE)
        assert b"fwd=uri-miss" in page.fields[b"cache-status"][0]

        (hit,) = await exchange(port, "GET", "/z/page.html")  # from the cache: no interim response
        assert (hit.status, hit.body) == (200, PAGE)
        assert b"hit" in hit.fields[b"cache-status"][0]
        assert b"link" not in hit.fields  # the hint was not stored with the response either
        assert hit.fields[b"content-length"] == [str(len(PAGE)).encode()]
    assert [(m, t) for m, t, _ in upstream.requests] == [("GET", "/site/page.html")]


@SERVERS
async def test_an_http10_client_gets_no_interim_response(
    edge_settings: Settings, origin: FakeOrigin, upstream: HintingUpstream, serve: Any
) -> None:
    port = free_port()
    async with serve(create_app(edge_settings, cache=FakeCache(), transport=origin.transport()), port):
        (page,) = await exchange(port, "GET", "/z/old.html", version="1.0")
        assert (page.status, page.body) == (200, PAGE)
    assert len(upstream.requests) == 1


@SERVERS
async def test_a_passed_through_method_forwards_the_103_too(
    edge_settings: Settings, origin: FakeOrigin, upstream: HintingUpstream, serve: Any
) -> None:
    port = free_port()
    async with serve(create_app(edge_settings, cache=FakeCache(), transport=origin.transport()), port):
        hint, created = await exchange(port, "POST", "/z/form", body=b"name=x")
        assert hint.status == 103
        assert hint.fields == {b"link": [b"</style.css>; rel=preload"]}
        assert (created.status, created.body) == (201, b"made")
    assert upstream.requests == [("POST", "/site/form", b"name=x")]


async def test_a_request_joining_a_fetch_under_way_gets_its_hints(
    edge_settings: Settings, origin: FakeOrigin, upstream: HintingUpstream
) -> None:
    port = free_port()
    upstream.release.clear()  # the upstream holds its 200 after the 103
    async with lean_server(create_app(edge_settings, cache=FakeCache(), transport=origin.transport()), port):
        first = await RawClient.send(port, "GET", "/z/shared.html")
        assert (await first.next()).status == 103
        second = await RawClient.send(port, "GET", "/z/shared.html")
        hint = await second.next()  # the hint the shared fetch received before this request arrived
        assert (hint.status, hint.fields) == (103, {b"link": [b"</style.css>; rel=preload"]})
        upstream.release.set()
        for client in (first, second):
            page = await client.next()
            assert (page.status, page.body) == (200, PAGE)
    assert len(upstream.requests) == 1
