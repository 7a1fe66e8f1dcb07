"""Usage series (store.stats, on SQLite and PostgreSQL), the usage page, and the origin's /metrics."""

from __future__ import annotations

import json
import re
import time

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from origin.jobs import enqueue
from origin.store import FileMeta
from origin.store.schema import files
from origin.store.stats import DAY
from origin.webhooks import emit

pytestmark = pytest.mark.anyio


async def _file(store, tenant_id: str, key: str, size: int, created_at: float) -> None:
    record, _ = await store.files.register(
        tenant_id, "default", f"{tenant_id}/u/{key}", key, "u", False, FileMeta(size=size, etag="e", mime="video/mp4")
    )
    await store.db.execute(sa.update(files).where(files.c.id == record.id).values(created_at=created_at))


async def test_daily_usage_on_every_backend(store):
    tenant, _ = await store.tenants.create("acme", "local")
    other, _ = await store.tenants.create("other", "local")
    today = int(time.time() // DAY)
    await _file(store, tenant.id, "old.mp4", 1000, (today - 40) * DAY + 5)  # before the window: stored only
    await _file(store, tenant.id, "a.mp4", 200, (today - 2) * DAY + 10)
    await _file(store, tenant.id, "b.mp4", 300, (today - 2) * DAY + 80_000)
    await _file(store, tenant.id, "c.mp4", 50, today * DAY + 1)
    await _file(store, other.id, "x.mp4", 7777, today * DAY + 1)
    async with store.transaction() as tx:
        await emit(tx, tenant.id, {"eventType": "file", "data": {}})
        for n, (kind, units, status) in enumerate(
            [
                ("caption", 2.5, "ready"),
                ("caption", 1.0, "processing"),
                ("image", 4.0, "ready"),
                ("image", 9.0, "failed"),
                ("speech", 30.0, "ready"),
            ]
        ):
            await store.ai.insert(
                tx,
                id=f"gen{n}",
                tenant_id=tenant.id,
                user_id="u",
                kind=kind,
                idem_key=f"k{n}",
                provider="local",
                request={},
                status=status,
                units=units,
            )
        await store.ai.insert(
            tx,
            id="gen-other",
            tenant_id=other.id,
            user_id="u",
            kind="image",
            idem_key="k",
            provider="local",
            request={},
            status="ready",
            units=50.0,
        )
    usage = await store.stats.daily_usage(tenant.id, today - 29, today)
    assert usage.days == list(range(today - 29, today + 1))
    series = usage.series
    assert series["uploads"][-3:] == [2, 0, 1] and sum(series["uploads"]) == 3
    assert series["upload_bytes"][-3:] == [500, 0, 50]
    assert series["stored_bytes"][0] == 1000 and series["stored_bytes"][-3:] == [1500, 1500, 1550]
    assert series["webhooks_pending"][-1] == 1 and sum(series["webhooks_delivered"]) == 0
    # AI units charged today by kind; failed generations are not charged, other tenants' not counted.
    assert (series["ai_caption_units"][-1], series["ai_image_units"][-1], series["ai_speech_units"][-1]) == (
        3.5,
        4.0,
        30.0,
    )
    assert sum(series["ai_image_units"]) == 4.0


async def test_usage_page_charts_the_series(browser):
    today = int(time.time() // DAY)
    await _file(browser.state.store, browser.auth.tenant.id, "a.mp4", 2_500_000, today * DAY + 1)
    page = await browser.client.get("/dashboard/usage")
    assert page.status_code == 200
    data = json.loads(re.search(r'<script type="application/json" id="usage-data">(.*?)</script>', page.text).group(1))
    charts = {c["id"]: c for c in data["charts"]}
    assert charts["upload_bytes"]["values"][-1] == 2_500_000 and charts["uploads"]["total"] == 1
    assert {"ai_caption_units", "ai_speech_units", "ai_image_units"} <= set(charts)
    assert len(data["days"]) == 30 and data["days"][-1] == today * DAY
    assert "2.5 MB" in page.text
    assert re.search(r'<script src="/dashboard/assets/uPlot.iife.min.js\?v=\w+">', page.text)
    script = await browser.client.get("/dashboard/assets/uPlot.iife.min.js")
    assert script.status_code == 200 and b"uPlot" in script.content


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_count_requests_by_route_and_report_queues(origin_client, origin_state, tenant):
    for _ in range(3):
        assert (await origin_client.get("/healthz")).status_code == 200
    assert (await origin_client.get("/webhooks/deliveries/wh_nope", headers=tenant.headers)).status_code == 404
    assert (await origin_client.get("/no/such/path")).status_code == 404
    upload = await origin_client.post(
        "/files",
        headers={
            **tenant.headers,
            "Tus-Resumable": "1.0.0",
            "Upload-Length": "5",
            "Content-Type": "application/offset+octet-stream",
        },
        content=b"hello",
    )
    assert upload.status_code == 201, upload.text
    async with origin_state.store.transaction() as tx:
        await enqueue(tx, "test.kind", tenant.tenant.id, {}, delay=-30)
        await enqueue(tx, "test.kind", tenant.tenant.id, {})
        await emit(tx, tenant.tenant.id, {"eventType": "file", "data": {}})

    answer = await origin_client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    ok = ("mediaedge_origin_requests_total", (("method", "GET"), ("route", "/healthz"), ("status", "200")))
    assert samples[ok] == 3
    templated = (("method", "GET"), ("route", "/webhooks/deliveries/{delivery_id}"), ("status", "404"))
    assert samples[("mediaedge_origin_requests_total", templated)] == 1
    assert (
        samples[("mediaedge_origin_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))]
        == 1
    )
    assert samples[("mediaedge_origin_request_body_bytes_total", (("route", "/files"),))] == 5
    assert samples[("mediaedge_origin_jobs", (("kind", "test.kind"), ("status", "queued")))] == 2
    assert samples[("mediaedge_origin_job_queue_age_seconds", (("kind", "test.kind"),))] >= 29
    # The upload's "file" event and ours (no dispatcher runs in this in-process app).
    assert samples[("mediaedge_origin_webhook_deliveries", (("status", "pending"),))] == 2
    assert samples[("mediaedge_origin_webhook_deliveries", (("status", "failed"),))] == 0
    assert samples[("mediaedge_origin_webhook_backlog_age_seconds", ())] >= 0
    assert ("mediaedge_origin_store_seconds", ()) in samples
    assert not [name for name, labels in samples if any(tenant.api_key in v for _, v in labels)]
