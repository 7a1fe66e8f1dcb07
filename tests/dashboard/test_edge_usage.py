"""What the edges delivered, as they report it (POST /_edge/usage): kept per (edge, instance, day,
tenant) as the largest value sent (on SQLite and PostgreSQL), summed on the Usage page and the
operator's tenant list. The edge side is tests/edge/test_usage.py; both over loopback in
tests/e2e/test_edge_usage.py."""

from __future__ import annotations

import json
import re
import time

import pytest

from mediaedge.cluster import EDGE_SECRET_HEADER, USAGE_PATH
from origin.dashboard.views import usage_quantity
from origin.store.edges import UsageCounter
from origin.store.stats import DAY
from tests.dashboard.conftest import log_in
from tests.dashboard.test_operator import OPERATOR_KEY, _client, _with_key

pytestmark = pytest.mark.anyio

EDGE = "http://edge-eu-1.internal:8080"


def _today() -> int:
    return int(time.time() // DAY)


async def test_reports_keep_the_largest_count_per_instance_and_add_across_instances(store):
    tenant, _ = await store.tenants.create("acme", "local")
    other, _ = await store.tenants.create("other", "local")
    today = _today()
    first = [UsageCounter(today - 1, tenant.id, 10, 1000), UsageCounter(today, tenant.id, 3, 300)]
    assert await store.edges.record_usage(EDGE, "eu", "i1", first) == 2
    assert await store.edges.record_usage(EDGE, "eu", "i1", first) == 2  # repeated: nothing doubles
    # A later report of the same process grows today's counters; a late, older one is ignored.
    await store.edges.record_usage(EDGE, "eu", "i1", [UsageCounter(today, tenant.id, 5, 800)])
    await store.edges.record_usage(EDGE, "eu", "i1", [UsageCounter(today, tenant.id, 4, 400)])
    # The same edge restarted (a new instance) and another edge add their own counts.
    await store.edges.record_usage(EDGE, "eu", "i2", [UsageCounter(today, tenant.id, 1, 50)])
    await store.edges.record_usage("http://edge-us", "us", "j1", [UsageCounter(today, tenant.id, 2, 20)])
    await store.edges.record_usage("http://edge-us", "us", "j1", [UsageCounter(today, other.id, 7, 7000)])
    # Pull-zone pseudo-tenants and unknown tenants are skipped; duplicates in one report keep the largest.
    mixed = [UsageCounter(today, "zone:static", 9, 9), UsageCounter(today, other.id, 8, 7500)]
    assert await store.edges.record_usage("http://edge-us", "us", "j1", [*mixed, mixed[1]]) == 1

    usage = await store.stats.daily_usage(tenant.id, today - 29, today)
    assert usage.series["edge_requests"][-2:] == [10, 5 + 1 + 2]
    assert usage.series["edge_bytes"][-2:] == [1000, 800 + 50 + 20]
    assert sum(usage.series["edge_requests"]) == 18
    totals = await store.stats.edge_totals(today - 29, today)
    assert (totals[tenant.id].requests, totals[tenant.id].bytes) == (18, 1870)
    assert (totals[other.id].requests, totals[other.id].bytes) == (8, 7500)
    assert "zone:static" not in totals
    assert (await store.stats.edge_totals(today - 29, today - 1))[tenant.id].requests == 10


def _report(tenant_id: str, requests: int, sent: int, instance: str = "a1b2") -> dict:
    counters = [{"day": _today(), "tenant": tenant_id, "requests": requests, "bytes": sent}]
    return {"edge": EDGE, "region": "eu", "instance": instance, "counters": counters}


async def test_the_endpoint_takes_reports_with_the_edge_secret_only(origin_client, origin_state, tenant):
    secret = {EDGE_SECRET_HEADER: origin_state.edge_secret}
    refused = await origin_client.post(USAGE_PATH, json=_report(tenant.tenant.id, 1, 1))
    assert (refused.status_code, refused.json()["code"]) == (401, "EDGE_SECRET_INVALID")
    wrong = await origin_client.post(USAGE_PATH, json=_report(tenant.tenant.id, 1, 1), headers=tenant.headers)
    assert wrong.status_code == 401
    for _ in range(2):
        answer = await origin_client.post(USAGE_PATH, json=_report(tenant.tenant.id, 4, 4096), headers=secret)
        assert (answer.status_code, answer.json()) == (200, {"stored": 1})
    usage = await origin_state.store.stats.daily_usage(tenant.tenant.id, _today(), _today())
    assert (usage.series["edge_requests"], usage.series["edge_bytes"]) == ([4], [4096])

    bad = _report(tenant.tenant.id, -1, 0)
    invalid = await origin_client.post(USAGE_PATH, json=bad, headers=secret)
    assert invalid.status_code == 400
    assert invalid.json() == {
        "statusCode": 400,
        "message": "counters.0.requests: Input should be greater than or equal to 0",
        "error": "BadRequest",
        "code": "BODY_INVALID",
    }
    too_many = {**_report(tenant.tenant.id, 1, 1), "counters": _report(tenant.tenant.id, 1, 1)["counters"] * 1001}
    assert (await origin_client.post(USAGE_PATH, json=too_many, headers=secret)).status_code == 400
    extra = {**_report(tenant.tenant.id, 1, 1), "surprise": True}
    assert (await origin_client.post(USAGE_PATH, json=extra, headers=secret)).json()["code"] == "BODY_INVALID"


async def test_usage_page_charts_edge_egress_and_requests(browser):
    today = _today()
    store = browser.state.store
    await store.edges.record_usage(EDGE, "eu", "i1", [UsageCounter(today, browser.auth.tenant.id, 12, 3_500_000)])
    await store.edges.record_usage(EDGE, "eu", "i1", [UsageCounter(today - 3, browser.auth.tenant.id, 2, 10)])
    page = await browser.client.get("/dashboard/usage")
    assert page.status_code == 200
    data = json.loads(re.search(r'<script type="application/json" id="usage-data">(.*?)</script>', page.text).group(1))
    charts = {c["id"]: c for c in data["charts"]}
    assert charts["edge_bytes"]["values"][-1] == 3_500_000 and charts["edge_bytes"]["values"][-4] == 10
    assert charts["edge_requests"]["total"] == 14 and charts["edge_requests"]["unit"] == "requests"
    assert 'id="chart-edge_bytes"' in page.text and "3.5 MB" in page.text
    # Totals read as the quantities they are: whole requests, fractional minutes.
    assert '<p class="total">14 requests</p>' in page.text
    assert '<p class="total">0.0 minutes</p>' in page.text and '<p class="total">0 images</p>' in page.text
    assert charts["edge_requests"]["whole"] and not charts["transcoded_minutes"]["whole"]


async def test_operator_sees_every_tenants_edge_totals(origin_state, tenant):
    _with_key(origin_state, OPERATOR_KEY)
    other, _ = await origin_state.store.tenants.create("beta", origin_state.settings.storage.default)
    today = _today()
    await origin_state.store.edges.record_usage(EDGE, "", "i1", [UsageCounter(today, tenant.tenant.id, 3, 2_000_000)])
    await origin_state.store.edges.record_usage(EDGE, "", "i1", [UsageCounter(today, other.id, 4, 500_000)])
    async with _client(origin_state) as client:
        assert (await log_in(client, OPERATOR_KEY)).status_code == 303
        page = (await client.get("/dashboard/operator")).text
    row = re.search(rf'<tr data-tenant-id="{tenant.tenant.id}">(.*?)</tr>', page, re.S).group(1)
    assert '<td class="edge-bytes">2.0 MB</td><td class="edge-requests">3</td>' in row
    totals = re.search(r'<tr id="edge-totals">(.*?)</tr>', page, re.S).group(1)
    assert '<td class="edge-bytes">2.5 MB</td><td class="edge-requests">7</td>' in totals


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (339_900, "bytes", "339.9 KB"),
        (1, "requests", "1 request"),
        (1204, "requests", "1,204 requests"),
        (0, "deliveries", "0 deliveries"),
        (1, "deliveries", "1 delivery"),
        (12.46, "minutes", "12.5 minutes"),
        (1, "seconds", "1.0 seconds"),
    ],
)
def test_usage_totals_read_as_quantities(value, unit, shown):
    assert usage_quantity(value, unit) == shown
