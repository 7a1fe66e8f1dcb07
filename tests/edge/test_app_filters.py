"""The ``edge_request_filter`` hook (tests/plugins/edge_filter.py) and the control routes added with
the Starlette control app: JWKS refresh and the zone listing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from edge.app import create_app
from mediaedge.plugins import get_plugin_manager
from mediaedge.settings import Settings
from tests.edge.fakes import DATA, PUBLIC, SECRET, FakeCache, FakeOrigin
from tests.edge.serving import edge_client
from tests.plugins.edge_filter import API_KEY, AsyncBlocker, KeyFilter

pytestmark = pytest.mark.anyio

PRIVATE = "t1/u1/private-area/a.mp4"


@pytest.fixture
async def filtered(
    settings: Settings, cache: FakeCache, origin: FakeOrigin, via: str
) -> AsyncIterator[httpx.AsyncClient]:
    cache.add(PRIVATE, DATA, file_id="f1")
    plugins = get_plugin_manager(extra=[KeyFilter(), AsyncBlocker()])
    async with create_app(settings, cache=cache, transport=origin.transport(), pm=plugins) as edge:
        async with edge_client(edge, via) as http:
            yield http


async def test_a_filter_refuses_before_any_cache_work(filtered: httpx.AsyncClient, cache: FakeCache) -> None:
    refused = await filtered.get(f"/f1/{PRIVATE}")
    assert refused.status_code == 401 and refused.json()["message"] == "API key required"
    assert cache.lookups == []
    allowed = await filtered.get(f"/f1/{PRIVATE}", headers={"X-Api-Key": API_KEY})
    assert allowed.status_code == 200 and allowed.content == DATA
    assert cache.lookups == [PRIVATE]


async def test_filter_headers_reach_deliveries_errors_and_control_routes(filtered: httpx.AsyncClient) -> None:
    for path, status in ((f"/f1/{PUBLIC}", 200), ("/f1/t1/u1/missing.mp4", 404), ("/healthz", 200)):
        response = await filtered.get(path)
        assert response.status_code == status
        assert response.headers["x-filtered-by"] == "key-filter"


async def test_an_async_filter_raising_an_http_error_answers_its_error_body(filtered: httpx.AsyncClient) -> None:
    response = await filtered.get("/blocked")
    assert response.status_code == 403
    assert response.json() == {
        "statusCode": 403,
        "message": "Blocked by policy",
        "error": "Forbidden",
        "code": "BLOCKED",
    }


async def test_filter_answers_are_counted_in_the_metrics(filtered: httpx.AsyncClient) -> None:
    await filtered.get(f"/f1/{PRIVATE}")
    metrics = (await filtered.get("/metrics")).text.splitlines()
    assert 'mediaedge_edge_requests_total{code="401"} 1' in metrics


async def test_jwks_refresh_fetches_the_keys_now(client: httpx.AsyncClient, origin: FakeOrigin) -> None:
    assert (await client.post("/_edge/jwks/refresh")).status_code == 401
    fetched = origin.count("/.well-known/jwks.json")
    response = await client.post("/_edge/jwks/refresh", headers={"X-Mediaedge-Edge-Secret": SECRET})
    assert response.status_code == 200 and response.json() == {"refreshed": True}
    assert origin.count("/.well-known/jwks.json") == fetched + 1


async def test_zone_listing_requires_the_secret(client: httpx.AsyncClient) -> None:
    assert (await client.get("/_edge/zones")).status_code == 401
    response = await client.get("/_edge/zones", headers={"X-Mediaedge-Edge-Secret": SECRET})
    assert response.status_code == 200 and response.json() == {"zones": []}
    assert (await client.post("/_edge/zones")).headers["allow"] == "GET"
