"""Freshness and invalidation: TTL and Cache-Control, revalidation with If-None-Match, stale-if-error,
404 and 5xx from the origin, and purge."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from edge.cache import ObjectNotFound, OriginError
from mediaedge.keys import InvalidKey
from tests.edge.cache_fixtures import (  # noqa: F401  (pytest fixtures)
    Clock,
    FakeOrigin,
    KiB,
    MakeCache,
    Server,
    anyio_backend_fixture,
    clock_fixture,
    fake_origin_fixture,
    fake_origin_server_fixture,
    make_cache_fixture,
    read_all,
    slice_files,
)

KEY = "t1/u1/dest/talk.mp4"
SLICE = 64 * KiB


@pytest.mark.anyio
async def test_a_fresh_object_costs_no_origin_io(fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock) -> None:
    fake_origin.put(KEY, b"x" * 1000)
    cache = await make_cache(object_ttl=60)
    meta, status = await cache.lookup(KEY)
    await read_all(cache, meta)
    clock.now += 59

    again, again_status = await cache.lookup(KEY)
    assert await read_all(cache, again) == b"x" * 1000

    assert (status, again_status, again) == ("miss", "hit", meta)
    assert len(fake_origin.requests) == 1


@pytest.mark.anyio
async def test_lookup_fast_answers_a_fresh_meta_only(
    fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock
) -> None:
    """What the edge's fast path checks its entries with: the meta a lookup would answer as a hit."""
    fake_origin.put(KEY, b"x" * 1000)
    cache = await make_cache(object_ttl=60)
    assert cache.lookup_fast(KEY) is None  # nothing known yet: no I/O here
    meta, _ = await cache.lookup(KEY)
    hits = cache.stats["lookup.hit"]
    clock.now += 59
    assert cache.lookup_fast(KEY) is meta and cache.stats["lookup.hit"] == hits + 1
    clock.now += 2
    assert cache.lookup_fast(KEY) is None
    assert len(fake_origin.requests) == 1


@pytest.mark.anyio
async def test_after_the_ttl_a_304_keeps_the_bytes(
    fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock
) -> None:
    data = os.urandom(3 * SLICE)
    fake_origin.put(KEY, data)
    cache = await make_cache(object_ttl=60, slice_bytes=SLICE)
    meta, _ = await cache.lookup(KEY)
    await read_all(cache, meta)
    fake_origin.requests.clear()
    clock.now += 61

    again, status = await cache.lookup(KEY)
    assert await read_all(cache, again) == data
    assert (await cache.lookup(KEY))[1] == "hit"  # fetched_at moved on

    assert status == "revalidated"
    assert again.etag == meta.etag and again.fetched_at == clock.now
    assert [(r.if_none_match, r.status) for r in fake_origin.requests] == [(meta.etag, 304)]


@pytest.mark.anyio
async def test_after_the_ttl_a_new_etag_drops_the_old_slices(
    fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock, tmp_path: Path
) -> None:
    fake_origin.put(KEY, os.urandom(3 * SLICE))
    cache = await make_cache(object_ttl=60, slice_bytes=SLICE)
    old, _ = await cache.lookup(KEY)
    await read_all(cache, old)
    await cache.join()
    old_files = set(slice_files(tmp_path))
    new_data = os.urandom(2 * SLICE)
    fake_origin.put(KEY, new_data)
    clock.now += 61

    new, status = await cache.lookup(KEY)
    assert await read_all(cache, new) == new_data
    await cache.join()

    assert status == "miss" and new.etag != old.etag and new.size == 2 * SLICE
    assert fake_origin.requests[-2].if_none_match == old.etag
    assert cache.read_fast(old, 0, 0) is None
    assert not old_files & set(slice_files(tmp_path))
    assert len(slice_files(tmp_path)) == 2


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("cache_control", "after", "status"),
    [
        ("public, max-age=300", 200, "hit"),
        ("public, max-age=300, s-maxage=10", 11, "revalidated"),
        ("max-age=5", 6, "revalidated"),
        ("no-cache", 0, "revalidated"),
        ("", 59, "hit"),
    ],
)
async def test_cache_control_sets_the_lifetime(
    fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock, cache_control: str, after: int, status: str
) -> None:
    fake_origin.put(KEY, b"abc", cache_control=cache_control)
    cache = await make_cache(object_ttl=60)
    await cache.lookup(KEY)
    clock.now += after

    assert (await cache.lookup(KEY))[1] == status


@pytest.mark.anyio
async def test_origin_down_serves_stale_meta_and_cached_bytes(make_cache: MakeCache, clock: Clock) -> None:
    server = Server()  # an origin of its own, to stop
    await server.start()
    try:
        data = os.urandom(2 * SLICE)
        server.origin.put(KEY, data)
        cache = await make_cache(object_ttl=60, slice_bytes=SLICE, origin_url=server.url)
        meta, _ = await cache.lookup(KEY)
        await cache.join()  # slice 0 came with the lookup
    finally:
        await server.stop()
    clock.now += 61

    stale, status = await cache.lookup(KEY)
    assert (stale, status) == (meta, "stale")
    assert await read_all(cache, stale, 0, SLICE - 1) == data[:SLICE]
    with pytest.raises(OriginError):  # never fetched: nothing to stand in for it
        await read_all(cache, stale, SLICE, SLICE)
    with pytest.raises(OriginError):
        await cache.lookup("t1/u1/dest/never-seen.mp4")
    assert cache.stats["lookup.stale"] == 1


@pytest.mark.anyio
async def test_origin_5xx_serves_stale_then_recovers(
    fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock
) -> None:
    fake_origin.put(KEY, b"abc")
    cache = await make_cache(object_ttl=60)
    meta, _ = await cache.lookup(KEY)
    clock.now += 61
    fake_origin.fail_with = 503

    assert await cache.lookup(KEY) == (meta, "stale")
    assert await cache.lookup(KEY) == (meta, "stale")  # still stale: each lookup tries the origin again

    fake_origin.fail_with = None
    assert (await cache.lookup(KEY))[1] == "revalidated"
    assert (await cache.lookup(KEY))[1] == "hit"


@pytest.mark.anyio
async def test_404_raises_and_is_remembered_briefly(
    fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock
) -> None:
    cache = await make_cache()

    with pytest.raises(ObjectNotFound):
        await cache.lookup(KEY)
    with pytest.raises(ObjectNotFound):
        await cache.lookup(KEY)
    assert len(fake_origin.requests) == 1

    fake_origin.put(KEY, b"now it exists")
    clock.now += 6
    meta, status = await cache.lookup(KEY)
    assert (status, meta.size) == ("miss", 13)


@pytest.mark.anyio
async def test_a_404_answered_across_a_purge_is_not_remembered(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    """The origin purges on create: a 404 it sent before the upload but that arrived after the purge
    must not hide the new object for the 404's lifetime."""
    cache = await make_cache()
    fake_origin.hold = asyncio.Event()
    lookup = asyncio.ensure_future(cache.lookup(KEY))
    async with asyncio.timeout(5):
        while not fake_origin.requests:
            await asyncio.sleep(0.005)
    fake_origin.put(KEY, b"uploaded")
    await cache.purge(KEY)  # what the origin sends once the upload is ready
    fake_origin.hold.set()
    with pytest.raises(ObjectNotFound):
        await lookup

    meta, status = await cache.lookup(KEY)
    assert (status, meta.size) == ("miss", 8)


@pytest.mark.anyio
async def test_a_304_carries_the_policy_of_a_replaced_file(
    fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock
) -> None:
    """Deleted and uploaded again with the same bytes: same ETag, new file id (tokens are bound to it)."""
    obj = fake_origin.put(KEY, b"same bytes")
    obj.file_id, obj.asset_id = "file-old", "stream-1"
    cache = await make_cache(object_ttl=60)
    meta, _ = await cache.lookup(KEY)
    assert (meta.file_id, meta.asset_id, meta.access) == ("file-old", "stream-1", "public")
    obj.file_id, obj.asset_id, obj.access = "file-new", None, "signed"
    clock.now += 61

    again, status = await cache.lookup(KEY)
    assert status == "revalidated" and again.etag == meta.etag
    assert (again.file_id, again.asset_id, again.access) == ("file-new", "", "signed")
    assert (await cache.lookup(KEY))[0] == again  # what later hits check tokens against


@pytest.mark.anyio
async def test_a_cached_object_gone_at_the_origin_is_dropped(
    fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock, tmp_path: Path
) -> None:
    fake_origin.put(KEY, os.urandom(SLICE))
    cache = await make_cache(object_ttl=60, slice_bytes=SLICE)
    meta, _ = await cache.lookup(KEY)
    await read_all(cache, meta)
    await cache.join()
    del fake_origin.objects[KEY]
    clock.now += 61

    with pytest.raises(ObjectNotFound):
        await cache.lookup(KEY)

    assert cache.read_fast(meta, 0, 0) is None
    assert slice_files(tmp_path) == {}


@pytest.mark.anyio
async def test_5xx_with_nothing_cached_raises_and_caches_nothing(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    fake_origin.put(KEY, b"abc")
    fake_origin.fail_with = 500
    cache = await make_cache()

    with pytest.raises(OriginError) as failure:
        await cache.lookup(KEY)
    await cache.join()

    assert failure.value.status == 502
    assert cache.bytes_cached() == {"memory": 0, "disk": 0}
    with pytest.raises(OriginError):
        await cache.lookup(KEY)
    assert len(fake_origin.requests) == 2  # the failure was not remembered
    fake_origin.fail_with = None
    assert (await cache.lookup(KEY))[1] == "miss"


@pytest.mark.anyio
async def test_purge_a_key(fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path) -> None:
    for key in (KEY, "t1/u1/dest/keep.mp4"):
        fake_origin.put(key, os.urandom(2 * SLICE))
    cache = await make_cache(slice_bytes=SLICE)
    metas = {}
    for key in (KEY, "t1/u1/dest/keep.mp4"):
        metas[key], _ = await cache.lookup(key)
        await read_all(cache, metas[key])
    await cache.join()

    assert await cache.purge(KEY) == 1
    assert await cache.purge(KEY) == 0

    assert cache.read_fast(metas[KEY], 0, 0) is None
    assert cache.read_fast(metas["t1/u1/dest/keep.mp4"], 0, 0) is not None
    assert len(slice_files(tmp_path)) == 2
    assert (await cache.lookup(KEY))[1] == "miss"
    assert (await cache.lookup("t1/u1/dest/keep.mp4"))[1] == "hit"


@pytest.mark.anyio
async def test_purge_a_prefix_survives_a_restart(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    keys = ["t1/u1/hls/a.ts", "t1/u1/hls/b.ts", "t1/u2/hls/c.ts"]
    for key in keys:
        fake_origin.put(key, os.urandom(SLICE))
    first = await make_cache(slice_bytes=SLICE)
    for key in keys:
        meta, _ = await first.lookup(key)
        await read_all(first, meta)
    await first.join()

    assert await first.purge("t1/u1/", prefix=True) == 2
    await first.close()
    fake_origin.requests.clear()

    second = await make_cache(slice_bytes=SLICE)
    statuses = [(await second.lookup(key))[1] for key in keys]
    assert statuses == ["miss", "miss", "hit"]
    assert [r.key for r in fake_origin.requests] == keys[:2]


@pytest.mark.anyio
async def test_a_fetch_under_way_during_a_purge_stores_nothing(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    data = os.urandom(SLICE)
    fake_origin.put(KEY, data)
    fake_origin.gate = asyncio.Event()
    fake_origin.chunk_size = 16 * KiB
    cache = await make_cache(slice_bytes=SLICE)
    meta, _ = await cache.lookup(KEY)  # slice 0 is on its way, held at the origin

    assert await cache.purge(KEY) == 1  # its meta was cached, its bytes not yet
    fake_origin.gate.set()
    assert await read_all(cache, meta) == data  # readers under way still get their bytes
    await cache.join()

    assert cache.read_fast(meta, 0, 0) is None
    assert cache.bytes_cached() == {"memory": 0, "disk": 0}
    assert (await cache.lookup(KEY))[1] == "miss"


@pytest.mark.anyio
async def test_an_invalid_key_is_refused_before_any_io(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    cache = await make_cache()

    with pytest.raises(InvalidKey):
        await cache.lookup("t1/../etc/passwd")

    assert fake_origin.requests == []
