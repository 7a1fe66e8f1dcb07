"""Counters for ``GET /metrics`` in the Prometheus text format (version 0.0.4).

Families (labels never carry tokens or paths):

- ``mediaedge_edge_requests_total{code}`` — responses by status code;
- ``mediaedge_edge_response_bytes_total`` — body bytes sent;
- ``mediaedge_edge_tenant_requests_total{tenant}``, ``mediaedge_edge_tenant_response_bytes_total{tenant}``
  — delivered responses (200/206/304) by tenant id (the same answers, per UTC day, are what the edge
  reports to the origin: :mod:`edge.usage`);
- ``mediaedge_edge_cache_total{tier,stat}`` — the cache layer's counters (``cache.stats``): a counter
  ``memory.hit`` is exported as ``{tier="memory",stat="hit"}`` (``lookup.stale`` as
  ``{tier="lookup",stat="stale"}``), one without a dot as ``{stat="coalesced"}``;
- ``mediaedge_edge_zone_cache_total{zone,tier,stat}`` — the same counters for each pull zone's cache;
- ``mediaedge_edge_origin_fetch_seconds`` — histogram of origin fetch latency (``cache.histogram()``);
- gauges of what the caches hold now (``cache.tiers()``): ``mediaedge_edge_cache_bytes{tier}``,
  ``mediaedge_edge_cache_entries{tier}`` (slices) and ``mediaedge_edge_cache_limit_bytes{tier}`` (the
  memory tier's limit is below ``edge.memory_cache_bytes`` while the process holds much besides it:
  :mod:`edge.cache.budget`), the same per pull zone as ``mediaedge_edge_zone_cache_bytes{zone,tier}``
  and ``mediaedge_edge_zone_cache_entries{zone,tier}``, and ``mediaedge_edge_process_resident_bytes``
  (the edge processes' resident set, as last measured by the memory governor).

With ``edge.workers`` > 1 every worker publishes a :class:`Snapshot` and ``/metrics`` answers the
sum of all workers (:mod:`edge.workers`), at most a second old for the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from edge.protocols import Cache
from edge.usage import Usage

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(value) if isinstance(value, float) else str(value)


def _family(name: str, kind: str, help_text: str, samples: Iterable[tuple[str, float]]) -> list[str]:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{labels} {_number(value)}" for labels, value in samples]
    return lines


def _by(label: str, counts: Mapping[Any, float]) -> list[tuple[str, float]]:
    return [(f'{{{label}="{_label(k)}"}}', v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0]))]


def _cache_stats(stats: Mapping[str, float], zone: str | None = None) -> list[tuple[str, float]]:
    """``{"memory.hit": 3, "coalesced": 1}`` as samples labelled by tier and stat (and zone)."""
    samples = []
    first = f'zone="{_label(zone)}",' if zone is not None else ""
    for name, value in sorted(stats.items()):
        tier, dot, stat = name.partition(".")
        labels = f'tier="{_label(tier)}",stat="{_label(stat)}"' if dot else f'stat="{_label(name)}"'
        samples.append((f"{{{first}{labels}}}", value))
    return samples


def _histogram(name: str, help_text: str, histogram: Mapping[str, Any]) -> list[str]:
    """``{"buckets": [[le, cumulative_count], ..., ["+Inf", count]], "sum": s, "count": n}``."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    lines += [f'{name}_bucket{{le="{le}"}} {n}' for le, n in histogram["buckets"]]
    lines += [f"{name}_sum {_number(histogram['sum'])}", f"{name}_count {histogram['count']}"]
    return lines


class Snapshot(TypedDict):
    """Every counter of one process, JSON-ready (workers exchange them, see :mod:`edge.workers`)."""

    requests: dict[str, int]
    bytes_out: int
    tenant_requests: dict[str, int]
    tenant_bytes: dict[str, int]
    cache: dict[str, int]
    zones: dict[str, dict[str, int]]  # each pull zone's cache counters
    histogram: dict[str, Any]
    tiers: dict[str, dict[str, int]]  # gauges: tier → {"bytes", "entries", "limit"} ("process": {"bytes"})
    zone_tiers: dict[str, dict[str, dict[str, int]]]  # the same per pull zone


def _add(into: dict[str, int], counts: Mapping[str, int]) -> None:
    for key, value in counts.items():
        into[key] = into.get(key, 0) + value


def _add_tiers(into: dict[str, dict[str, int]], tiers: Mapping[str, Mapping[str, int]]) -> None:
    for tier, values in tiers.items():
        _add(into.setdefault(tier, {}), values)


def merge(snapshots: Iterable[Snapshot]) -> Snapshot:
    """The sum of several processes' snapshots (histograms share their bucket bounds)."""
    total: Snapshot = {
        "requests": {},
        "bytes_out": 0,
        "tenant_requests": {},
        "tenant_bytes": {},
        "cache": {},
        "zones": {},
        "histogram": {"buckets": [], "sum": 0.0, "count": 0},
        "tiers": {},
        "zone_tiers": {},
    }
    for snap in snapshots:  # workers hold separate tiers: their gauges add up too
        _add_tiers(total["tiers"], snap.get("tiers", {}))
        for zone, tiers in snap.get("zone_tiers", {}).items():
            _add_tiers(total["zone_tiers"].setdefault(zone, {}), tiers)
        for name in ("requests", "tenant_requests", "tenant_bytes", "cache"):
            _add(total[name], snap[name])
        for zone, stats in snap.get("zones", {}).items():
            _add(total["zones"].setdefault(zone, {}), stats)
        total["bytes_out"] += snap["bytes_out"]
        hist, other = total["histogram"], snap["histogram"]
        if not hist["buckets"]:
            hist["buckets"] = [[le, 0] for le, _ in other["buckets"]]
        for bucket, (_, n) in zip(hist["buckets"], other["buckets"], strict=True):
            bucket[1] += n
        hist["sum"] += other["sum"]
        hist["count"] += other["count"]
    return total


def render(snap: Snapshot) -> bytes:
    """The exposition text of a snapshot."""
    lines = [
        *_family(
            "mediaedge_edge_requests_total", "counter", "Responses by status code.", _by("code", snap["requests"])
        ),
        *_family("mediaedge_edge_response_bytes_total", "counter", "Body bytes sent.", [("", snap["bytes_out"])]),
        *_family(
            "mediaedge_edge_tenant_requests_total",
            "counter",
            "Delivered responses by tenant.",
            _by("tenant", snap["tenant_requests"]),
        ),
        *_family(
            "mediaedge_edge_tenant_response_bytes_total",
            "counter",
            "Body bytes delivered by tenant.",
            _by("tenant", snap["tenant_bytes"]),
        ),
        *_family(
            "mediaedge_edge_cache_total", "counter", "The cache layer's counters, by tier.", _cache_stats(snap["cache"])
        ),
        *_family(
            "mediaedge_edge_zone_cache_total",
            "counter",
            "Each pull zone's cache counters, by tier.",
            [sample for zone, stats in sorted(snap["zones"].items()) for sample in _cache_stats(stats, zone)],
        ),
        *_histogram("mediaedge_edge_origin_fetch_seconds", "Latency of fetches from the origin.", snap["histogram"]),
        *_gauges(snap),
    ]
    return ("\n".join(lines) + "\n").encode()


def _tier_samples(
    tiers: Mapping[str, Mapping[str, int]], field: str, zone: str | None = None
) -> list[tuple[str, float]]:
    first = f'zone="{_label(zone)}",' if zone is not None else ""
    return [
        (f'{{{first}tier="{_label(tier)}"}}', values[field])
        for tier, values in sorted(tiers.items())
        if tier != "process" and field in values
    ]


def _gauges(snap: Snapshot) -> list[str]:
    """The cache tiers' gauges (bytes, entries, limits) and the processes' resident set."""
    tiers, zones = snap.get("tiers", {}), sorted(snap.get("zone_tiers", {}).items())
    lines = [
        *_family(
            "mediaedge_edge_cache_bytes", "gauge", "Bytes the cache holds, by tier.", _tier_samples(tiers, "bytes")
        ),
        *_family(
            "mediaedge_edge_cache_entries", "gauge", "Slices the cache holds, by tier.", _tier_samples(tiers, "entries")
        ),
        *_family(
            "mediaedge_edge_cache_limit_bytes",
            "gauge",
            "Bytes each tier may hold now.",
            _tier_samples(tiers, "limit"),
        ),
        *_family(
            "mediaedge_edge_zone_cache_bytes",
            "gauge",
            "Bytes each pull zone's cache holds, by tier.",
            [sample for zone, t in zones for sample in _tier_samples(t, "bytes", zone)],
        ),
        *_family(
            "mediaedge_edge_zone_cache_entries",
            "gauge",
            "Slices each pull zone's cache holds, by tier.",
            [sample for zone, t in zones for sample in _tier_samples(t, "entries", zone)],
        ),
    ]
    if "process" in tiers:
        lines += _family(
            "mediaedge_edge_process_resident_bytes",
            "gauge",
            "Resident set of the edge processes, as their memory governor last measured it.",
            [("", tiers["process"]["bytes"])],
        )
    return lines


class Metrics:
    """The edge's own counters; snapshots add the cache layer's. ``usage`` is this process's per-day
    share of the tenant counters, for the origin (not part of the snapshots)."""

    def __init__(self) -> None:
        self.requests: defaultdict[int, int] = defaultdict(int)
        self.bytes_out = 0
        self.tenant_requests: defaultdict[str, int] = defaultdict(int)
        self.tenant_bytes: defaultdict[str, int] = defaultdict(int)
        self.usage = Usage()

    def observe(self, status: int, sent: int, tenant: str | None) -> None:
        """Count one response."""
        self.requests[status] += 1
        self.bytes_out += sent
        if tenant is not None:
            self.tenant_requests[tenant] += 1
            self.tenant_bytes[tenant] += sent
            self.usage.add(tenant, sent)

    def snapshot(self, cache: Cache, zones: Mapping[str, Cache] | None = None) -> Snapshot:
        """This process's counters, including ``cache.stats`` and ``cache.histogram()``, and the cache
        counters of each pull zone in ``zones``."""
        histogram = cache.histogram()
        return {
            "requests": {str(code): n for code, n in self.requests.items()},
            "bytes_out": self.bytes_out,
            "tenant_requests": dict(self.tenant_requests),
            "tenant_bytes": dict(self.tenant_bytes),
            "cache": dict(cache.stats),
            "zones": {name: dict(zone.stats) for name, zone in (zones or {}).items()},
            "histogram": {
                "buckets": [[_number(float(le)), n] for le, n in histogram["buckets"]],
                "sum": histogram["sum"],
                "count": histogram["count"],
            },
            "tiers": {tier: dict(values) for tier, values in cache.tiers().items()},
            "zone_tiers": {
                name: {tier: dict(values) for tier, values in zone.tiers().items()}
                for name, zone in (zones or {}).items()
            },
        }

    def render(self, cache: Cache, peers: Iterable[Snapshot] = (), zones: Mapping[str, Cache] | None = None) -> bytes:
        """The exposition text of this process plus ``peers`` (the other worker processes)."""
        return render(merge([self.snapshot(cache, zones), *peers]))
