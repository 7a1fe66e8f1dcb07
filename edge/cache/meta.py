"""What the edge knows about one version of an object, and how long that knowledge stays fresh."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

__all__ = ["ObjectMeta", "freshness_lifetime"]


@dataclass(frozen=True, slots=True)
class ObjectMeta:
    """One version of an object as the origin described it.

    ``fetched_at`` is wall-clock POSIX seconds (``time.time()``) of the last validation with the origin,
    so freshness survives a restart of the edge together with the disk tier.
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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable copy (disk index, slice file headers)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObjectMeta:
        """Inverse of :meth:`to_dict`; raises ``TypeError``/``KeyError`` on a malformed record."""
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls)})


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
