"""``POST /_edge/purge``: the origin drops objects (and tenant policies) from this edge's caches.

Authenticated by the edge secret header (:mod:`edge.control`). Body::

    {"keys": ["t/u/a.mp4"], "prefixes": ["t/u/stream/"], "tenants": ["t"]}

``keys`` are purged exactly, ``prefixes`` as key prefixes (non-empty), ``tenants`` drop the cached
whitelist of those tenants. With ``"zone": "NAME"``, ``keys`` and ``prefixes`` are request targets
(``/path?query``) in that pull zone's cache instead. Answer: ``{"purged": <objects dropped>}`` (by
this worker process; with ``edge.workers`` > 1 the others apply it from the journal, see
:mod:`edge.workers`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from edge.policy import TenantPolicies
from edge.protocols import Cache
from edge.respond import Receive
from mediaedge.errors import HTTPError
from mediaedge.keys import InvalidKey, validate_key

if TYPE_CHECKING:
    from edge.workers import WorkerGroup
    from edge.zones import Zones

MAX_BODY = 1 << 20


async def read_body(receive: Receive, limit: int) -> bytes:
    """The request body, or 413 beyond ``limit`` bytes."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise HTTPError(400, "Client disconnected")
        body += message.get("body", b"")
        if len(body) > limit:
            raise HTTPError(413, "Request body too large")
        if not message.get("more_body"):
            return bytes(body)


def _strings(body: dict[str, Any], name: str, prefix: bool) -> list[str]:
    values = body.get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise HTTPError(400, f"{name} must be a list of strings", "PURGE_INVALID")
    try:
        for value in values:
            validate_key(value.rstrip("/") if prefix else value)
    except InvalidKey as exc:
        raise HTTPError(400, f"{name}: {exc}", "PURGE_INVALID") from None
    return values


class Purger:
    """Handles purge requests against the cache and the tenant policy cache."""

    def __init__(
        self,
        cache: Cache,
        policies: TenantPolicies,
        zones: Zones | None = None,
        journal: WorkerGroup | None = None,
    ) -> None:
        self._cache = cache
        self._zones = zones
        self._journal = journal  # sibling worker processes, told of every purge applied here
        self._policies = policies

    async def purge(self, receive: Receive) -> bytes:
        """Run one purge request (its edge secret checked by the caller); returns the JSON answer body."""
        try:
            body = orjson.loads(await read_body(receive, MAX_BODY))
        except orjson.JSONDecodeError:
            raise HTTPError(400, "Body must be JSON", "PURGE_INVALID") from None
        if not isinstance(body, dict):
            raise HTTPError(400, "Body must be a JSON object", "PURGE_INVALID")
        purged = await self.apply(body)
        if self._journal is not None:
            await self._journal.publish_purge(body)
        return orjson.dumps({"purged": purged})

    async def apply(self, body: dict[str, Any]) -> int:
        """Apply a purge request's body here; returns how many objects were dropped."""
        zone = body.get("zone")
        if zone is not None:
            return await self._purge_zone(zone, body)
        keys, prefixes = _strings(body, "keys", False), _strings(body, "prefixes", True)
        tenants = _strings(body, "tenants", False)
        purged = 0
        for key in keys:
            purged += await self._cache.purge(key)
        for prefix in prefixes:
            purged += await self._cache.purge(prefix, prefix=True)
        for tenant in tenants:
            self._policies.forget(tenant)
        return purged

    async def _purge_zone(self, zone: object, body: dict[str, Any]) -> int:
        targets = {}
        for name in ("keys", "prefixes"):
            values = body.get(name, [])
            if not isinstance(values, list) or not all(isinstance(v, str) and v.startswith("/") for v in values):
                raise HTTPError(400, f"{name} must be a list of paths starting with /", "PURGE_INVALID")
            targets[name] = values
        if not isinstance(zone, str) or self._zones is None:
            raise HTTPError(400, "zone must be a zone name", "PURGE_INVALID")
        return await self._zones.purge(zone, targets["keys"], targets["prefixes"])
