"""Byte ranges over slices: only the slices a range needs come from the origin, bytes are exact, and
nothing but a complete, correctly ranged body of the expected version is ever cached."""

from __future__ import annotations

import os

import pytest

from edge.cache import ObjectChanged, OriginError
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
)

KEY = "t1/u1/movies/feature.mp4"


@pytest.mark.anyio
async def test_one_byte_of_a_20_mib_object_pulls_one_slice(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    data = os.urandom(20 * MiB)
    fake_origin.put(KEY, data)
    cache = await make_cache(slice_bytes=MiB)
    meta, _ = await cache.lookup(KEY)
    await cache.join()  # the lookup's request brought slice 0 along; let it land
    fake_origin.requests.clear()

    offset = 10 * MiB + 12345
    assert await read_all(cache, meta, offset, offset) == data[offset : offset + 1]
    await cache.join()

    assert [(r.range, r.if_match, r.body_bytes) for r in fake_origin.requests] == [
        (f"bytes={10 * MiB}-{11 * MiB - 1}", meta.etag, MiB)
    ]
    # cold, the whole exchange (lookup + read) moved 2 of the 20 MiB
    assert cache.stats["bytes_from_origin"] == 2 * MiB
    assert cache.read_fast(meta, 10 * MiB, 11 * MiB - 1) == data[10 * MiB : 11 * MiB]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (0, 0),
        (0, 64 * KiB - 1),
        (64 * KiB - 1, 64 * KiB),
        (1000, 200 * KiB),
        (5, 300 * KiB - 1),
        (299 * KiB, 299 * KiB),
    ],
)
async def test_ranges_across_slices_are_exact(
    fake_origin: FakeOrigin, make_cache: MakeCache, start: int, end: int
) -> None:
    data = os.urandom(300 * KiB)
    fake_origin.put(KEY, data)
    cache = await make_cache(slice_bytes=64 * KiB)
    meta, _ = await cache.lookup(KEY)

    assert await read_all(cache, meta, start, end) == data[start : end + 1]
    await cache.join()
    assert cache.read_fast(meta, start, end) == data[start : end + 1]  # now all in memory
    assert await read_all(cache, meta, start, end) == data[start : end + 1]


@pytest.mark.anyio
async def test_read_fast_needs_every_slice_in_memory(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    data = os.urandom(256 * KiB)
    fake_origin.put(KEY, data)
    cache = await make_cache(slice_bytes=64 * KiB)
    meta, _ = await cache.lookup(KEY)
    await cache.join()

    assert cache.read_fast(meta, 10, 20) == data[10:21]
    assert cache.read_fast(meta, 60 * KiB, 70 * KiB) is None  # slice 1 not fetched yet
    assert cache.read_fast(meta, 0, meta.size) is None  # past the end
    with pytest.raises(ValueError):
        await read_all(cache, meta, 0, meta.size)


@pytest.mark.anyio
async def test_empty_object(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    fake_origin.put(KEY, b"")
    cache = await make_cache()

    meta, status = await cache.lookup(KEY)

    assert (meta.size, status) == (0, "miss")
    assert await read_all(cache, meta) == b""


@pytest.mark.anyio
async def test_a_whole_body_answering_a_range_is_not_cached(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    data = os.urandom(256 * KiB)
    fake_origin.put(KEY, data)
    fake_origin.ignore_range = True
    cache = await make_cache(slice_bytes=64 * KiB)
    meta, _ = await cache.lookup(KEY)  # answered 200 with everything: the meta is usable, the body not

    with pytest.raises(OriginError):
        await read_all(cache, meta, 100 * KiB, 100 * KiB)

    await cache.join()
    assert cache.read_fast(meta, 0, 0) is None
    assert cache.bytes_cached() == {"memory": 0, "disk": 0}


@pytest.mark.anyio
async def test_a_short_206_is_never_taken_for_the_slice(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    data = os.urandom(256 * KiB)
    fake_origin.put(KEY, data)
    fake_origin.max_range = 10 * KiB  # 206 with fewer bytes than asked for
    cache = await make_cache(slice_bytes=64 * KiB)
    meta, _ = await cache.lookup(KEY)

    with pytest.raises(OriginError):
        await read_all(cache, meta)

    assert cache.bytes_cached() == {"memory": 0, "disk": 0}
    fake_origin.max_range = None
    assert await read_all(cache, meta) == data


@pytest.mark.anyio
async def test_version_change_during_reads_invalidates(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    old = os.urandom(256 * KiB)
    fake_origin.put(KEY, old)
    cache = await make_cache(slice_bytes=64 * KiB)
    meta, _ = await cache.lookup(KEY)
    assert await read_all(cache, meta, 0, 10) == old[:11]
    new = os.urandom(256 * KiB)
    fake_origin.put(KEY, new)  # replaced at the origin; the purge did not reach this edge

    with pytest.raises(ObjectChanged):
        await read_all(cache, meta, 200 * KiB, 200 * KiB)

    assert fake_origin.requests[-1].if_match == meta.etag and fake_origin.requests[-1].status == 412
    assert cache.read_fast(meta, 0, 10) is None  # the old version is gone from every tier
    fresh, status = await cache.lookup(KEY)
    assert status == "miss" and fresh.etag != meta.etag
    assert await read_all(cache, fresh) == new
