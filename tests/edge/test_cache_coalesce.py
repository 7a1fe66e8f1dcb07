"""Request coalescing: concurrent misses share one origin request, bytes fan out as they arrive, and a
failed leader fails every waiter at once without poisoning the cache."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from edge.cache import EdgeCache, ObjectMeta, OriginError
from tests.edge.cache_fixtures import (  # noqa: F401  (pytest fixtures)
    FakeOrigin,
    KiB,
    MakeCache,
    MiB,
    anyio_backend_fixture,
    clock_fixture,
    fake_origin_fixture,
    fake_origin_server_fixture,
    make_cache_fixture,
    read_all,
    slice_files,
)

KEY = "t1/u1/videos/clip.mp4"


async def lookup_and_read(cache: EdgeCache) -> bytes:
    meta, _ = await cache.lookup(KEY)
    return await read_all(cache, meta)


@pytest.mark.anyio
async def test_200_concurrent_reads_of_an_uncached_object_make_one_origin_request(
    fake_origin: FakeOrigin, make_cache: MakeCache
) -> None:
    data = os.urandom(200 * KiB)
    fake_origin.put(KEY, data)
    cache = await make_cache(slice_bytes=256 * KiB)

    results = await asyncio.gather(*(lookup_and_read(cache) for _ in range(200)))

    assert all(result == data for result in results)
    assert len(fake_origin.requests) == 1
    assert cache.stats["coalesced"] == 200  # every read joined the fetch the lookup started


@pytest.mark.anyio
async def test_concurrent_reads_of_a_sliced_object_fetch_each_slice_once(
    fake_origin: FakeOrigin, make_cache: MakeCache
) -> None:
    data = os.urandom(MiB)
    fake_origin.put(KEY, data)
    cache = await make_cache(slice_bytes=256 * KiB)

    results = await asyncio.gather(*(lookup_and_read(cache) for _ in range(100)))

    assert all(result == data for result in results)
    assert sorted(r.range or "" for r in fake_origin.requests) == [
        f"bytes={i * 256 * KiB}-{(i + 1) * 256 * KiB - 1}" for i in range(4)
    ]
    assert fake_origin.bytes_sent == MiB


async def collect(cache: EdgeCache, meta: ObjectMeta, first_chunk: asyncio.Event) -> bytes:
    chunks = []
    async for chunk in cache.read(meta, 0, meta.size - 1):
        chunks.append(chunk)
        first_chunk.set()
    return b"".join(chunks)


@pytest.mark.anyio
async def test_waiters_get_bytes_before_the_origin_finished_sending(
    fake_origin: FakeOrigin, make_cache: MakeCache
) -> None:
    data = os.urandom(MiB)
    fake_origin.put(KEY, data)
    fake_origin.chunk_size = 64 * KiB
    fake_origin.gate = asyncio.Event()  # the origin sends one chunk, then waits
    cache = await make_cache(slice_bytes=MiB)

    meta, status = await cache.lookup(KEY)  # headers are enough; the body is still held at the origin
    firsts = [asyncio.Event() for _ in range(5)]
    readers = [asyncio.create_task(collect(cache, meta, first)) for first in firsts]
    await asyncio.wait_for(asyncio.gather(*(first.wait() for first in firsts)), 5)

    assert status == "miss"
    assert not any(reader.done() for reader in readers)
    assert fake_origin.bytes_sent == 64 * KiB
    fake_origin.gate.set()
    assert await asyncio.wait_for(asyncio.gather(*readers), 5) == [data] * 5
    assert len(fake_origin.requests) == 1


@pytest.mark.anyio
async def test_a_reader_going_away_does_not_cancel_the_fetch_for_others(
    fake_origin: FakeOrigin, make_cache: MakeCache
) -> None:
    data = os.urandom(MiB)
    fake_origin.put(KEY, data)
    fake_origin.gate = asyncio.Event()
    cache = await make_cache(slice_bytes=MiB)
    meta, _ = await cache.lookup(KEY)
    first_a, first_b = asyncio.Event(), asyncio.Event()
    reader_a = asyncio.create_task(collect(cache, meta, first_a))
    reader_b = asyncio.create_task(collect(cache, meta, first_b))
    await asyncio.wait_for(asyncio.gather(first_a.wait(), first_b.wait()), 5)

    reader_a.cancel()
    fake_origin.gate.set()

    assert await asyncio.wait_for(reader_b, 5) == data
    assert reader_a.cancelled()
    assert cache.read_fast(meta, 0, meta.size - 1) == data


@pytest.mark.anyio
async def test_cut_body_fails_every_waiter_promptly_and_caches_nothing(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    data = os.urandom(MiB)
    fake_origin.put(KEY, data)
    fake_origin.chunk_size = 64 * KiB
    fake_origin.cut_after = 100 * KiB  # one chunk, a partial second, then the connection drops
    fake_origin.gate = asyncio.Event()
    cache = await make_cache(slice_bytes=256 * KiB)
    meta, _ = await cache.lookup(KEY)  # its request also brings slice 0: the leader of this test
    firsts = [asyncio.Event() for _ in range(50)]
    readers = [asyncio.create_task(collect(cache, meta, first)) for first in firsts]
    await asyncio.wait_for(asyncio.gather(*(first.wait() for first in firsts)), 5)

    fake_origin.gate.set()
    results = await asyncio.wait_for(asyncio.gather(*readers, return_exceptions=True), 5)

    assert all(isinstance(result, OriginError) for result in results)
    assert len(fake_origin.requests) == 1
    assert cache.read_fast(meta, 0, 0) is None
    assert slice_files(tmp_path) == {}

    fake_origin.cut_after = fake_origin.gate = None
    assert await read_all(cache, meta) == data


@pytest.mark.anyio
async def test_500_on_a_slice_fails_every_waiter_then_recovers(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    data = os.urandom(MiB)
    fake_origin.put(KEY, data)
    cache = await make_cache(slice_bytes=256 * KiB)
    meta, _ = await cache.lookup(KEY)
    await cache.join()  # slice 0 came with the lookup and is cached; slice 1 is not
    fake_origin.requests.clear()
    fake_origin.fail_with = 500

    results = await asyncio.wait_for(
        asyncio.gather(*(read_all(cache, meta, 300 * KiB, 301 * KiB) for _ in range(50)), return_exceptions=True),
        5,
    )

    assert all(isinstance(result, OriginError) for result in results)
    assert [r.status for r in fake_origin.requests] == [500]
    assert cache.read_fast(meta, 300 * KiB, 301 * KiB) is None
    assert len(slice_files(tmp_path)) == 1

    fake_origin.fail_with = None
    assert await read_all(cache, meta, 300 * KiB, 301 * KiB) == data[300 * KiB : 301 * KiB + 1]


@pytest.mark.anyio
async def test_concurrent_lookups_of_an_uncached_key_make_one_request(
    fake_origin: FakeOrigin, make_cache: MakeCache
) -> None:
    fake_origin.put(KEY, b"hello")
    fake_origin.fail_with = 503
    cache = await make_cache()

    failures = await asyncio.gather(*(cache.lookup(KEY) for _ in range(50)), return_exceptions=True)
    assert all(isinstance(failure, OriginError) for failure in failures)
    assert len(fake_origin.requests) == 1

    fake_origin.fail_with = None
    answers = await asyncio.gather(*(cache.lookup(KEY) for _ in range(50)))
    assert {status for _, status in answers} == {"miss"}
    assert len({meta for meta, _ in answers}) == 1
    assert len(fake_origin.requests) == 2
