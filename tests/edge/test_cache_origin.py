"""OriginClient against the scripted fake origin of :mod:`tests.edge.cache_fixtures`."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from edge.cache import ObjectMeta, OriginClient, OriginError
from mediaedge.keys import InvalidKey
from tests.edge.cache_fixtures import (  # noqa: F401  (pytest fixtures)
    SECRET,
    FakeOrigin,
    KiB,
    MiB,
    Server,
    anyio_backend_fixture,
    fake_origin_fixture,
    fake_origin_server_fixture,
)
from tests.fixtures.servers import free_port


@pytest.fixture(name="origin_puller")
async def origin_puller_fixture(fake_origin_server: Server) -> AsyncIterator[OriginClient]:
    client = OriginClient(fake_origin_server.url, SECRET)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_range_request_carries_secret_and_yields_meta(
    fake_origin: FakeOrigin, origin_puller: OriginClient
) -> None:
    data = bytes(range(256)) * 40
    obj = fake_origin.put("t1/u1/videos/clip.mp4", data, cache_control="public, max-age=30", access="signed")
    async with origin_puller.open("t1/u1/videos/clip.mp4", byte_range=(10, 19)) as resp:
        assert resp.status == 206
        body = b"".join([c async for c in resp.chunks()])
        meta = resp.meta("t1/u1/videos/clip.mp4", fetched_at=123.0)
    assert body == data[10:20]
    assert resp.content_range == (10, 19, len(data))
    assert meta == ObjectMeta(
        key="t1/u1/videos/clip.mp4",
        size=len(data),
        etag=obj.etag,
        last_modified=obj.last_modified,
        content_type="video/mp4",
        cache_control="public, max-age=30",
        file_id="file-clip.mp4",
        tenant_id="t1",
        access="signed",
        fetched_at=123.0,
    )
    assert fake_origin.requests[0].range == "bytes=10-19"


@pytest.mark.anyio
async def test_keys_are_quoted_in_the_url(fake_origin: FakeOrigin, origin_puller: OriginClient) -> None:
    key = "t1/u1/my folder/vidéo (1)+[a]=b@c.mp4"
    fake_origin.put(key, b"quoted")
    async with origin_puller.open(key) as resp:
        body = b"".join([c async for c in resp.chunks()])
    assert (resp.status, body, fake_origin.requests[0].key) == (200, b"quoted", key)


@pytest.mark.anyio
async def test_wrong_secret_is_refused(fake_origin: FakeOrigin, fake_origin_server: Server) -> None:
    fake_origin.put("t/u/a.bin", b"x")
    client = OriginClient(fake_origin_server.url, "not-the-secret")
    try:
        async with client.open("t/u/a.bin") as resp:
            assert resp.status == 403
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_if_none_match_gives_304(fake_origin: FakeOrigin, origin_puller: OriginClient) -> None:
    obj = fake_origin.put("t/u/a.bin", b"abc")
    async with origin_puller.open("t/u/a.bin", if_none_match=obj.etag) as resp:
        assert resp.status == 304
    assert fake_origin.requests[0].if_none_match == obj.etag


@pytest.mark.anyio
async def test_body_streams_in_chunks(fake_origin: FakeOrigin, origin_puller: OriginClient) -> None:
    fake_origin.put("t/u/big.bin", b"z" * (1 * MiB))
    fake_origin.chunk_size = 64 * KiB
    async with origin_puller.open("t/u/big.bin") as resp:
        sizes = [len(c) async for c in resp.chunks()]
    assert sum(sizes) == MiB
    assert len(sizes) > 1 and max(sizes) < MiB


@pytest.mark.anyio
async def test_cut_body_raises_origin_error(fake_origin: FakeOrigin, origin_puller: OriginClient) -> None:
    fake_origin.put("t/u/big.bin", b"z" * (512 * KiB))
    fake_origin.cut_after = 128 * KiB
    with pytest.raises(OriginError):
        async with origin_puller.open("t/u/big.bin") as resp:
            async for _ in resp.chunks():
                pass


@pytest.mark.anyio
async def test_unreachable_origin_raises_origin_error() -> None:
    client = OriginClient(f"http://127.0.0.1:{free_port()}", SECRET)
    try:
        with pytest.raises(OriginError):
            async with client.open("t/u/a.bin"):
                pass
    finally:
        await client.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("key", ["t/../etc/passwd", "t//a", "t/u/a%2e", ""])
async def test_unsafe_keys_never_reach_the_origin(key: str) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"request sent: {request.url}")

    client = OriginClient("http://origin.test", SECRET, transport=httpx.MockTransport(refuse))
    try:
        with pytest.raises(InvalidKey):
            async with client.open(key):
                pass
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_missing_access_header_means_signed() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"etag": '"e"', "content-length": "3"}, content=b"abc")

    client = OriginClient("http://origin.test", SECRET, transport=httpx.MockTransport(answer))
    try:
        async with client.open("t/u/a.bin") as resp:
            meta = resp.meta("t/u/a.bin", 0.0)
    finally:
        await client.aclose()
    assert (meta.access, meta.size, meta.content_type) == ("signed", 3, "application/octet-stream")


@pytest.mark.anyio
async def test_a_weak_if_match_is_not_sent() -> None:
    sent: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("if-match"))
        return httpx.Response(200, headers={"etag": 'W/"e"', "content-length": "1"}, content=b"a")

    client = OriginClient("http://origin.test", SECRET, transport=httpx.MockTransport(answer))
    try:
        for etag in ('W/"e"', '"e"'):
            async with client.open("t/u/a.bin", if_match=etag):
                pass
    finally:
        await client.aclose()
    assert sent == [None, '"e"']


@pytest.mark.anyio
async def test_response_without_etag_is_unusable() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-length": "3"}, content=b"abc")

    client = OriginClient("http://origin.test", SECRET, transport=httpx.MockTransport(answer))
    try:
        async with client.open("t/u/a.bin") as resp:
            with pytest.raises(OriginError):
                resp.meta("t/u/a.bin", 0.0)
    finally:
        await client.aclose()
