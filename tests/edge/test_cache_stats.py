"""Metrics the cache exposes, and the pure helpers behind freshness and slicing."""

from __future__ import annotations

import math

import pytest

from edge.cache.meta import freshness_lifetime
from edge.cache.slices import slice_span, spans
from edge.cache.stats import COUNTERS, LatencyHistogram
from tests.edge.cache_fixtures import (  # noqa: F401  (pytest fixtures)
    FakeOrigin,
    MakeCache,
    anyio_backend_fixture,
    clock_fixture,
    fake_origin_fixture,
    fake_origin_server_fixture,
    make_cache_fixture,
    read_all,
)


def test_histogram_buckets_are_cumulative() -> None:
    histogram = LatencyHistogram()
    for seconds in (0.001, 0.005, 0.02, 0.3, 7.0, 60.0):
        histogram.observe(seconds)

    snapshot = histogram.snapshot()

    assert [bound for bound, _ in snapshot["buckets"]] == [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, math.inf,
    ]  # fmt: skip
    assert [count for _, count in snapshot["buckets"]] == [2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 6]
    assert snapshot["count"] == 6
    assert snapshot["sum"] == pytest.approx(67.326)


@pytest.mark.parametrize(
    ("cache_control", "lifetime"),
    [
        ("", 60.0),
        ("public, max-age=30", 30.0),
        ("max-age=30, s-maxage=5", 5.0),
        ('s-maxage="7"', 7.0),
        ("private, no-cache", 0.0),
        ("no-store", 0.0),
        ("max-age=soon", 60.0),
    ],
)
def test_freshness_lifetime(cache_control: str, lifetime: float) -> None:
    assert freshness_lifetime(cache_control, 60.0) == lifetime


def test_slice_geometry() -> None:
    assert slice_span(10, 4, 0) == (0, 3)
    assert slice_span(10, 4, 2) == (8, 9)
    assert list(spans(3, 9, 4)) == [(0, 3, 4), (1, 0, 4), (2, 0, 2)]
    assert list(spans(5, 5, 4)) == [(1, 1, 2)]


@pytest.mark.anyio
async def test_counters_and_latencies_follow_the_traffic(fake_origin: FakeOrigin, make_cache: MakeCache) -> None:
    fake_origin.put("t/u/a.bin", b"a" * 100)
    cache = await make_cache()
    assert set(cache.stats) == set(COUNTERS) and not any(cache.stats.values())

    meta, _ = await cache.lookup("t/u/a.bin")
    await cache.join()  # the lookup's request brought the bytes too
    await read_all(cache, meta)
    await cache.lookup("t/u/a.bin")
    await read_all(cache, meta)
    assert cache.read_fast(meta, 0, 9) == b"a" * 10

    assert {name: value for name, value in cache.stats.items() if value} == {
        "lookup.miss": 1,
        "lookup.hit": 1,
        "memory.hit": 3,
        "origin.fetch": 1,
        "bytes_from_origin": 100,
    }
    assert cache.histogram()["count"] == len(fake_origin.requests) == 1
