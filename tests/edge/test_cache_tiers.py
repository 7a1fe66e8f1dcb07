"""Memory and disk tiers: byte budgets, LRU order, and a disk tier that survives a restart."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from edge.cache import EdgeCache, ObjectMeta
from edge.cache.slicefile import slice_name
from tests.edge.cache_fixtures import (  # noqa: F401  (pytest fixtures)
    Clock,
    FakeOrigin,
    KiB,
    MakeCache,
    anyio_backend_fixture,
    cached_then_closed,
    clock_fixture,
    fake_origin_fixture,
    fake_origin_server_fixture,
    make_cache_fixture,
    read_all,
    slice_files,
)

KEY = "t1/u1/dest/show.mp4"
SLICE = 64 * KiB
FILE_OVERHEAD = 1 * KiB  # slice file header (meta JSON) comfortably fits in this


async def read_slice(cache: EdgeCache, meta: ObjectMeta, index: int) -> bytes:
    data = await read_all(cache, meta, index * SLICE, min((index + 1) * SLICE, meta.size) - 1)
    await cache.join()
    return data


@pytest.mark.anyio
async def test_memory_tier_keeps_to_its_byte_budget_lru_first(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    data = os.urandom(6 * SLICE)
    fake_origin.put(KEY, data)
    cache = await make_cache(slice_bytes=SLICE, memory_cache_bytes=3 * SLICE, disk_cache_bytes=0)
    meta, _ = await cache.lookup(KEY)
    for index in range(6):
        await read_slice(cache, meta, index)

    assert cache.bytes_cached() == {"memory": 3 * SLICE, "disk": 0}
    in_memory = [cache.read_fast(meta, i * SLICE, i * SLICE) is not None for i in range(6)]
    assert in_memory == [False, False, False, True, True, True]

    assert cache.read_fast(meta, 3 * SLICE, 3 * SLICE + 9) == data[3 * SLICE : 3 * SLICE + 10]  # touch slice 3
    await read_slice(cache, meta, 0)  # evicts the least recently used: slice 4
    in_memory = [cache.read_fast(meta, i * SLICE, i * SLICE) is not None for i in range(6)]
    assert in_memory == [True, False, False, True, False, True]
    assert cache.bytes_cached()["memory"] <= 3 * SLICE


@pytest.mark.anyio
async def test_disk_tier_keeps_to_its_byte_budget_lru_first(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    data = os.urandom(5 * SLICE)
    fake_origin.put(KEY, data)
    budget = 3 * (SLICE + FILE_OVERHEAD)
    cache = await make_cache(slice_bytes=SLICE, memory_cache_bytes=1, disk_cache_bytes=budget)
    meta, _ = await cache.lookup(KEY)
    names = [slice_name((KEY, meta.etag, i), SLICE) for i in range(5)]
    for index in (0, 1, 2):
        await read_slice(cache, meta, index)
    fake_origin.requests.clear()

    assert await read_slice(cache, meta, 0) == data[:SLICE]  # a disk hit: slice 0 becomes most recent
    assert fake_origin.requests == []
    await read_slice(cache, meta, 3)  # evicts slice 1

    assert set(slice_files(tmp_path)) == {names[0], names[2], names[3]}
    assert sum(slice_files(tmp_path).values()) == cache.bytes_cached()["disk"] <= budget
    await read_slice(cache, meta, 4)  # evicts slice 2
    assert set(slice_files(tmp_path)) == {names[0], names[3], names[4]}


@pytest.mark.anyio
async def test_a_restarted_edge_serves_from_disk_without_the_origin(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    data = os.urandom(5 * SLICE + 123)
    fake_origin.put(KEY, data)
    meta, body = await cached_then_closed(make_cache, KEY, slice_bytes=SLICE)
    assert body == data
    fake_origin.requests.clear()

    second = await make_cache(slice_bytes=SLICE)
    again, status = await second.lookup(KEY)
    assert await read_all(second, again) == data

    assert (again, status) == (meta, "hit")
    assert fake_origin.requests == []
    assert second.stats["disk.hit"] == 6
    assert second.read_fast(again, 0, again.size - 1) == data  # disk hits were promoted to memory


@pytest.mark.anyio
async def test_after_a_restart_a_stale_meta_is_revalidated_and_bytes_stay_on_disk(
    fake_origin: FakeOrigin, make_cache: MakeCache, clock: Clock
) -> None:
    data = os.urandom(3 * SLICE)
    fake_origin.put(KEY, data)
    meta, _ = await cached_then_closed(make_cache, KEY, slice_bytes=SLICE, object_ttl=60)
    fake_origin.requests.clear()
    clock.now += 61

    second = await make_cache(slice_bytes=SLICE, object_ttl=60)
    again, status = await second.lookup(KEY)
    assert await read_all(second, again) == data

    assert status == "revalidated" and again.etag == meta.etag
    assert [(r.if_none_match, r.status) for r in fake_origin.requests] == [(meta.etag, 304)]


@pytest.mark.anyio
async def test_a_lost_index_is_rebuilt_from_the_slice_files(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    data = os.urandom(3 * SLICE)
    fake_origin.put(KEY, data)
    meta, _ = await cached_then_closed(make_cache, KEY, slice_bytes=SLICE)
    for index_file in (tmp_path / "edge-cache").glob("index.sqlite3*"):
        index_file.unlink()
    (tmp_path / "edge-cache" / "slices" / "ab").mkdir(exist_ok=True)
    (tmp_path / "edge-cache" / "slices" / "ab" / "junk").write_bytes(b"not a slice")
    (tmp_path / "edge-cache" / "slices" / "ab" / ".x.tmp").write_bytes(b"half-written")
    fake_origin.requests.clear()

    second = await make_cache(slice_bytes=SLICE)
    again, status = await second.lookup(KEY)
    assert await read_all(second, again) == data

    assert (again, status) == (meta, "hit")
    assert fake_origin.requests == []
    assert set(slice_files(tmp_path)) == {slice_name((KEY, meta.etag, i), SLICE) for i in range(3)}


@pytest.mark.anyio
async def test_a_smaller_budget_after_restart_trims_the_disk(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    fake_origin.put(KEY, os.urandom(4 * SLICE))
    meta, _ = await cached_then_closed(make_cache, KEY, slice_bytes=SLICE)

    second = await make_cache(slice_bytes=SLICE, disk_cache_bytes=2 * (SLICE + FILE_OVERHEAD))

    assert len(slice_files(tmp_path)) == 2
    assert second.bytes_cached()["disk"] == sum(slice_files(tmp_path).values())


@pytest.mark.anyio
async def test_slice_files_are_named_by_hash_never_by_key(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    key = "t1/u1/../x/..%2f/show.mp4".replace("..%2f", "dots..name").replace("/../", "/up/")
    fake_origin.put(key, os.urandom(SLICE))
    cache = await make_cache(slice_bytes=SLICE)
    meta, _ = await cache.lookup(key)
    await read_all(cache, meta)
    await cache.join()

    paths = [p.relative_to(tmp_path / "edge-cache").as_posix() for p in (tmp_path / "edge-cache").rglob("*")]
    slice_paths = [p for p in paths if p.startswith("slices/") and p.count("/") == 2]
    assert len(slice_paths) == 1
    assert re.fullmatch(r"slices/[0-9a-f]{2}/[0-9a-f]{64}", slice_paths[0])
    assert not any("show" in p or "dots" in p for p in paths)


@pytest.mark.anyio
async def test_a_damaged_slice_file_is_dropped_and_fetched_again(
    fake_origin: FakeOrigin, make_cache: MakeCache, tmp_path: Path
) -> None:
    data = os.urandom(2 * SLICE)
    fake_origin.put(KEY, data)
    meta, _ = await cached_then_closed(make_cache, KEY, slice_bytes=SLICE)
    damaged = next((tmp_path / "edge-cache" / "slices").glob(f"*/{slice_name((KEY, meta.etag, 1), SLICE)}"))
    damaged.write_bytes(damaged.read_bytes()[:-100])  # truncated
    fake_origin.requests.clear()

    second = await make_cache(slice_bytes=SLICE)
    again, _ = await second.lookup(KEY)
    assert await read_all(second, again) == data

    assert [r.range for r in fake_origin.requests] == [f"bytes={SLICE}-{2 * SLICE - 1}"]
    assert second.stats["disk.hit"] == 1 and second.stats["disk.miss"] == 1
    await second.join()
    assert len(slice_files(tmp_path)) == 2


@pytest.mark.anyio
async def test_a_changed_slice_size_never_serves_old_slice_files(
    fake_origin: FakeOrigin, make_cache: MakeCache
) -> None:
    data = os.urandom(11 * KiB)
    fake_origin.put(KEY, data)
    meta, body = await cached_then_closed(make_cache, KEY, slice_bytes=4 * KiB)
    assert body == data
    fake_origin.requests.clear()

    second = await make_cache(slice_bytes=3 * KiB)  # slice 2 is 3 KiB long either way, at another offset
    again, _ = await second.lookup(KEY)

    assert await read_all(second, again) == data
    assert second.stats["disk.hit"] == 0
