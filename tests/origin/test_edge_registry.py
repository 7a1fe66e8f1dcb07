"""Edges register with the origin and heartbeat; purges reach every live registered edge once."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from edge.cache.meta import freshness_lifetime
from mediaedge.cluster import EDGE_SECRET_HEADER, keep_registered, register_edge
from origin.edge_api import policy_headers
from origin.purge import purge_edges, purge_targets
from origin.state import OriginState
from origin.store import FileMeta
from origin.store.schema import edges
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio

ORIGIN = "http://origin.test"


@pytest.mark.parametrize("headers", [{}, {EDGE_SECRET_HEADER: "wrong"}])
async def test_registration_needs_the_edge_secret(origin_client: httpx.AsyncClient, headers):
    response = await origin_client.post("/_edge/register", json={"url": "http://edge-a:8080"}, headers=headers)
    assert response.status_code == 401


async def test_an_edge_registers_with_the_client_function(origin_state: OriginState, origin_client):
    secret = origin_state.edge_secret
    heartbeat = await register_edge(origin_client, ORIGIN, secret, "http://edge-a:8080/", "eu")
    assert heartbeat == origin_state.settings.cluster.edge_heartbeat
    assert [(e.url, e.region) for e in await origin_state.store.edges.live(0)] == [("http://edge-a:8080", "eu")]
    refused = await origin_client.post("/_edge/register", json={"url": "ftp://x"}, headers={EDGE_SECRET_HEADER: secret})
    assert refused.status_code == 400


@pytest.fixture
async def cluster_state(tmp_path: Path) -> AsyncIterator[OriginState]:
    settings = make_settings(
        tmp_path,
        edge={"public_url": "http://cdn.test"},
        cluster={"edges": ["http://edge-a:8080/", "http://static-edge:8080"], "edge_heartbeat": 10},
    )
    state = await OriginState.open(settings)
    try:
        yield state
    finally:
        await state.close()


async def test_purge_targets_are_live_registered_plus_configured_edges_deduplicated(cluster_state: OriginState):
    store = cluster_state.store
    await store.edges.register("http://edge-a:8080", "eu")
    await store.edges.register("http://edge-b:8080", "us")
    await store.edges.register("http://edge-gone:8080", "us")
    await store.db.execute(
        update(edges).where(edges.c.url == "http://edge-gone:8080").values(last_seen=time.time() - 31)
    )
    assert await purge_targets(cluster_state.settings, store) == [
        "http://edge-a:8080",
        "http://edge-b:8080",
        "http://static-edge:8080",
        "http://cdn.test",
    ]


async def test_purge_posts_to_every_edge_with_the_secret(cluster_state: OriginState):
    await cluster_state.store.edges.register("http://edge-b:8080", "us")
    seen: list[tuple[str, str | None, dict]] = []

    def edge(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get(EDGE_SECRET_HEADER), json.loads(request.content)))
        return httpx.Response(503 if request.url.host == "cdn.test" else 200)

    await cluster_state.http.aclose()
    cluster_state.http = httpx.AsyncClient(transport=httpx.MockTransport(edge))
    assert await purge_edges(cluster_state, ["t/u/a.mp4"]) == 3
    assert sorted(host for host, _, _ in seen) == ["cdn.test", "edge-a", "edge-b", "static-edge"]
    assert all(secret == cluster_state.edge_secret for _, secret, _ in seen)
    assert all(body == {"keys": ["t/u/a.mp4"], "prefixes": []} for _, _, body in seen)


async def test_keep_registered_retries_failures_and_follows_the_heartbeat():
    """A failed registration is retried after ``retry``; a successful one is repeated after the
    heartbeat the origin answered. The two delays differ tenfold, so the gaps tell them apart."""
    retry, heartbeat = 0.1, 1.0
    calls: list[float] = []

    def origin(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["url"] == "http://edge-a:8080"
        calls.append(time.monotonic())
        if len(calls) == 1:
            return httpx.Response(503)
        return httpx.Response(200, json={"heartbeat": heartbeat})

    async with httpx.AsyncClient(transport=httpx.MockTransport(origin)) as http:
        task = asyncio.create_task(keep_registered(http, ORIGIN, "s", "http://edge-a:8080", "eu", retry=retry))
        deadline = time.monotonic() + 10
        while len(calls) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        task.cancel()
    assert len(calls) >= 3
    after_failure, after_success = calls[1] - calls[0], calls[2] - calls[1]
    assert retry <= after_failure < heartbeat  # the retry delay, not the heartbeat
    assert after_success >= heartbeat  # the heartbeat, not the retry delay


async def test_a_missed_purge_heals_after_the_edges_object_ttl(origin_state: OriginState, tenant):
    """The origin leaves an edge's freshness to ``edge.object_ttl``: then it revalidates."""
    reserved = await origin_state.store.files.reserve(
        tenant.tenant.id, "default", "u", "", "a.mp4", require_signed=False, source="direct"
    )
    record = await origin_state.store.files.complete(reserved.id, FileMeta(size=1, etag="e", mime="video/mp4"))
    assert freshness_lifetime(policy_headers(record)["Cache-Control"], 60.0) == 60.0
