"""Counters and the origin latency histogram the metrics endpoint exports."""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import TypedDict

__all__ = ["BUCKETS", "COUNTERS", "Histogram", "LatencyHistogram", "new_counters"]

# Prometheus-style upper bounds (seconds); +Inf is implied.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

COUNTERS = (
    # slices, per request: which tier served them ("coalesced" = joined a fetch already under way)
    "memory.hit",
    "memory.miss",
    "disk.hit",
    "disk.miss",
    "origin.fetch",
    "origin.error",
    "coalesced",
    "bytes_from_origin",
    # worker processes only (edge.cache.siblings): a slice or a meta a sibling worker had fetched
    "sibling.hit",
    "lookup.sibling",
    # object lookups, per request, by the status lookup() returned
    "lookup.hit",
    "lookup.miss",
    "lookup.revalidated",
    "lookup.stale",
    "lookup.not_found",
    "lookup.error",
    # pull zones only (edge.zones)
    "lookup.swr",
    "lookup.pass",
    "lookup.updated",
    # objects dropped by purge()
    "purged",
)


def new_counters() -> dict[str, int]:
    """Every counter at zero, so an exporter sees the full set from the start."""
    return dict.fromkeys(COUNTERS, 0)


class Histogram(TypedDict):
    buckets: list[tuple[float, int]]  # (upper bound, cumulative count); the last bound is math.inf
    sum: float
    count: int


class LatencyHistogram:
    """Fixed-bucket histogram of origin response times (seconds until the response headers)."""

    def __init__(self) -> None:
        self._counts = [0] * (len(BUCKETS) + 1)
        self._sum = 0.0

    def observe(self, seconds: float) -> None:
        """Count one response time."""
        self._counts[bisect_left(BUCKETS, seconds)] += 1
        self._sum += seconds

    def snapshot(self) -> Histogram:
        """Cumulative bucket counts as Prometheus expects them, plus sum and count."""
        buckets: list[tuple[float, int]] = []
        total = 0
        for bound, count in zip((*BUCKETS, math.inf), self._counts, strict=True):
            total += count
            buckets.append((bound, total))
        return {"buckets": buckets, "sum": self._sum, "count": total}
