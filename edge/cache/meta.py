"""What the edge knows about one version of an object, and how long that knowledge stays fresh."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["ObjectMeta", "StoredResponse", "freshness_lifetime"]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The HTTP response a pull-zone entry replays, with its RFC 9111 freshness (see :mod:`edge.freshness`).

    ``headers`` are the end-to-end fields as received (lower-case names; framing and ``Age`` left
    out); ``vary`` pairs each ``Vary`` field with the value the original request had; ``stored`` is
    False for a response that must not be kept (``reason`` says why) but is still being delivered.
    """

    status: int
    headers: tuple[tuple[str, str], ...]
    lifetime: float
    heuristic: bool
    initial_age: float
    no_cache: bool
    no_stale: bool
    swr: float
    sie: float
    vary: tuple[tuple[str, str], ...]
    stored: bool = True
    reason: str = ""

    def header(self, name: str) -> str | None:
        """The first stored field ``name`` (lower-case), or None."""
        return next((v for n, v in self.headers if n == name), None)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoredResponse:
        data = dict(data)
        data["headers"] = tuple(tuple(pair) for pair in data["headers"])
        data["vary"] = tuple(tuple(pair) for pair in data["vary"])
        return cls(**data)


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """One version of an object as the origin described it.

    ``fetched_at`` is wall-clock POSIX seconds (``time.time()``) of the last validation with the origin,
    so freshness survives a restart of the edge together with the disk tier. ``file_id``, ``asset_id``
    (the stream an output belongs to), ``tenant_id`` and ``access`` are the object's policy: tokens
    are checked against them on every request, cache hits included.
    """

    key: str
    size: int
    etag: str
    last_modified: float
    content_type: str
    cache_control: str
    file_id: str
    tenant_id: str
    access: str
    fetched_at: float
    asset_id: str = ""
    http: StoredResponse | None = None  # pull zones only; None for mediaedge objects

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (disk index, slice file headers)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObjectMeta:
        """Inverse of :meth:`to_dict`; raises ``TypeError``/``KeyError`` on a malformed record."""
        fields = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name != "http"}
        http = data.get("http")
        return cls(**fields, http=StoredResponse.from_dict(http) if http else None)


@lru_cache(maxsize=4096)
def freshness_lifetime(cache_control: str, default: float) -> float:
    """Seconds a cached object stays fresh at a shared cache such as this edge.

    ``no-cache``/``no-store`` → 0 (revalidate on every lookup); else ``s-maxage``, else ``max-age``,
    else ``default`` (the ``edge.object_ttl`` setting). Memoised: the hot path calls it per request.
    """
    directives: dict[str, str] = {}
    for part in cache_control.split(","):
        name, _, value = part.partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-cache" in directives or "no-store" in directives:
        return 0.0
    for name in ("s-maxage", "max-age"):
        if directives.get(name, "").isdigit():
            return float(directives[name])
    return default
