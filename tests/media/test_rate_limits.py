"""Rate-limit counters in the metadata DB: exact under concurrency, shared by separate store instances
(as by separate origin processes), reset with their window; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from origin.store import Store, open_store

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000.0  # a window boundary for a 60 s window


async def test_a_window_allows_the_limit_then_refuses_until_it_resets(store: Store) -> None:
    decisions = [await store.rate_limits.hit("upload:u1", 3, 60, at=T0 + i) for i in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].reset_after == 57  # the window started at T0 and ends at T0 + 60
    other = await store.rate_limits.hit("upload:u2", 3, 60, at=T0 + 3)
    assert other.allowed and other.remaining == 2  # another user has a counter of its own
    fresh = await store.rate_limits.hit("upload:u1", 3, 60, at=T0 + 60.5)
    assert fresh.allowed and fresh.remaining == 2 and fresh.reset_after == 60


async def test_concurrent_hits_from_two_stores_count_exactly(store: Store, db_url: str) -> None:
    second = await open_store(db_url)
    try:
        hits = [(store if i % 2 else second).rate_limits.hit("captions:u1", 30, 60, at=T0 + 1) for i in range(50)]
        decisions = await asyncio.gather(*hits)
    finally:
        await second.close()
    assert sum(d.allowed for d in decisions) == 30
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(30))


async def test_windows_that_ended_long_ago_are_removed(store: Store) -> None:
    await store.rate_limits.hit("old", 5, 60, at=T0)
    await store.rate_limits.hit("new", 5, 60, at=T0 + 2 * 86400)
    again = await store.rate_limits.hit("old", 5, 60, at=T0 + 1)
    assert again.remaining == 4  # the old window was removed: counting starts over
