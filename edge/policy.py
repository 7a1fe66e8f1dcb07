"""Tenant policy from the origin (``GET {origin}/_edge/tenants/{id}``), cached for ``edge.tenant_ttl``.

The hot path reads :meth:`TenantPolicies.cached` (no I/O); a miss fetches once per tenant however many
requests wait for it. Unknown tenants are remembered too (as None), so random tenant ids in URLs cost
the origin one request per TTL each, and the cache is bounded. When the origin cannot be reached the
last known policy keeps serving (stale-if-error); with none, the request fails with 502.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

import httpx

from edge.lru import LRU
from edge.singleflight import Answer, SingleFlight, Tasks
from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.errors import HTTPError
from mediaedge.whitelist import TenantPolicy, Whitelist

log = logging.getLogger(__name__)

MAX_TENANTS = 10_000
FETCH_TIMEOUT = 5.0


def _unavailable() -> HTTPError:
    return HTTPError(502, "Origin unavailable", "ORIGIN_UNAVAILABLE")


def _strings(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of strings")
    return value


def parse_policy(tenant_id: str, document: object) -> TenantPolicy:
    """A :class:`TenantPolicy` from the origin's JSON; raises ``ValueError`` if malformed."""
    if not isinstance(document, dict):
        raise ValueError("expected a JSON object")
    domains = _strings(document.get("whitelisted_domains", []))
    apps = _strings(document.get("app_ids", []))
    return TenantPolicy(tenant_id, Whitelist.of(domains), frozenset(a for a in apps if a))


class TenantPolicies:
    """Tenant policies by id with a TTL; None for a tenant the origin does not know."""

    def __init__(self, client: httpx.AsyncClient, origin_url: str, secret: str, ttl: float) -> None:
        self._client = client
        self._base = origin_url.rstrip("/") + "/_edge/tenants/"
        self._headers = {EDGE_SECRET_HEADER: secret}
        self._ttl = ttl
        self._entries: LRU[str, tuple[float, TenantPolicy | None]] = LRU(MAX_TENANTS)
        self._tasks = Tasks("tenant policy fetch", log)
        self._fetches: SingleFlight[str, Answer[TenantPolicy | None]] = SingleFlight(self._tasks, _unavailable)

    def cached(self, tenant_id: str) -> TenantPolicy | None:
        """The fresh cached policy, or None (unknown, expired or a cached "no such tenant")."""
        entry = self._entries.get(tenant_id)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    async def get(self, tenant_id: str) -> TenantPolicy | None:
        """The policy, fetched if not fresh; None if the tenant does not exist."""
        entry = self._entries.get(tenant_id)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        answer = self._fetches.get(tenant_id)
        if answer is None:
            answer = Answer()
            self._fetches.start(tenant_id, answer, self._refresh(tenant_id, entry, answer))
        return await answer.wait()

    def forget(self, tenant_id: str) -> None:
        """Drop a cached policy (the origin changed it)."""
        self._entries.pop(tenant_id)

    async def _refresh(
        self, tenant_id: str, stale: tuple[float, TenantPolicy | None] | None, answer: Answer[TenantPolicy | None]
    ) -> None:
        try:
            policy = await self._fetch(tenant_id)
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("tenant policy fetch for %s failed: %s", tenant_id, exc)
            if stale is None:
                raise _unavailable() from None
            answer.settle(stale[1])
            return
        self._entries.put(tenant_id, (time.monotonic() + self._ttl, policy))
        answer.settle(policy)

    async def _fetch(self, tenant_id: str) -> TenantPolicy | None:
        response = await self._client.get(
            self._base + quote(tenant_id, safe=""), headers=self._headers, timeout=FETCH_TIMEOUT
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return parse_policy(tenant_id, response.json())
