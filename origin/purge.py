"""Telling edges to forget objects after a delete or replace (DESIGN §4).

Best effort by design: an edge that misses a purge revalidates with If-None-Match after its TTL
and heals itself, so a failed purge is logged, never fatal.

The edges purged are those that registered lately (``POST /_edge/register``, any origin process may
have taken it), the configured ``cluster.edges`` and ``edge.url``, each once.
"""

from __future__ import annotations

import asyncio
import logging
import time

import httpx

from mediaedge.cluster import EDGE_SECRET_HEADER
from mediaedge.settings import Settings
from origin.state import OriginState
from origin.store import Store

log = logging.getLogger("mediaedge.origin.purge")

#: A registered edge is purged while its last heartbeat is at most this many intervals old.
LIVE_HEARTBEATS = 3


async def purge_targets(settings: Settings, store: Store) -> list[str]:
    """Base URLs of every edge to purge: live registered ones plus the configured ones, deduplicated."""
    seen_since = time.time() - LIVE_HEARTBEATS * settings.cluster.edge_heartbeat
    registered = [edge.url for edge in await store.edges.live(seen_since)]
    configured = [*settings.cluster.edges, settings.edge.url]
    return list(dict.fromkeys(url.rstrip("/") for url in [*registered, *configured]))


async def purge_edges(state: OriginState, keys: list[str], prefixes: list[str] | None = None) -> int:
    """POST the keys to every known edge; returns how many edges acknowledged."""
    edges = await purge_targets(state.settings, state.store)
    body = {"keys": keys, "prefixes": prefixes or []}

    async def one(edge: str) -> bool:
        try:
            response = await state.http.post(
                f"{edge.rstrip('/')}/_edge/purge",
                json=body,
                headers={EDGE_SECRET_HEADER: state.edge_secret},
                timeout=5.0,
            )
        except httpx.HTTPError as exc:
            log.warning("purge of %d keys on %s failed: %s", len(keys), edge, exc)
            return False
        return response.status_code < 300

    results = await asyncio.gather(*(one(edge) for edge in edges))
    return sum(results)
