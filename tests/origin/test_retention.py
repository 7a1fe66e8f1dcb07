"""History retention: finished jobs and settled webhook deliveries are deleted after their retention;
anything still queued, running or due for a retry stays. On SQLite and PostgreSQL (the ``store``
fixture)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from mediaedge.settings import Settings
from mediaedge.storage import ObjectNotFound
from origin.retention import history_pruner, prune
from origin.store import Store
from origin.store.jobs import insert_job
from origin.store.webhooks import insert_delivery
from tests.fixtures.origin import make_settings

pytestmark = pytest.mark.anyio

DAY = 86_400


@dataclass
class FakeState:  # what :func:`prune` reads of an OriginState
    settings: Settings
    store: Store


async def _job(store: Store, tenant_id: str, outcome: str | None) -> str:
    async with store.transaction() as tx:
        job_id = await insert_job(tx, "test.retention", tenant_id, {}, 3, 0)
    if outcome is not None:
        claimed = await store.jobs.claim(["test.retention"], "w1", 60)
        assert claimed is not None and claimed.id == job_id
        if outcome == "succeeded":
            assert await store.jobs.finish(job_id, "w1", {"ok": True})
        else:
            async with store.transaction() as tx:
                assert await store.jobs.fail(tx, job_id, "w1", "boom")
    return job_id


async def _delivery(store: Store, tenant_id: str, status: str | None) -> str:
    async with store.transaction() as tx:
        delivery_id = await insert_delivery(tx, tenant_id, "file.uploaded", "{}", 5)
    if status is not None:
        (claimed,) = await store.webhooks.claim("d1", 60, 10)
        assert await store.webhooks.settle(claimed.id, "d1", status=status, next_attempt_at=time.time(), error=None)
    return delivery_id


async def test_prune_deletes_only_settled_history_older_than_its_retention(store: Store, tmp_path):
    settings = make_settings(tmp_path, jobs={"retention": "7d"}, webhooks={"retention": "30d"})
    tenant, _ = await store.tenants.create("acme", "local")
    succeeded = await _job(store, tenant.id, "succeeded")
    failed = await _job(store, tenant.id, "failed")
    queued = await _job(store, tenant.id, None)
    delivered = await _delivery(store, tenant.id, "delivered")
    pending = await _delivery(store, tenant.id, None)
    state = FakeState(settings, store)

    assert await prune(state) == (0, 0, 0)  # everything is fresh
    assert await prune(state, now=time.time() + 8 * DAY) == (2, 0, 0)  # jobs past 7 days
    assert await store.jobs.get(succeeded) is None and await store.jobs.get(failed) is None
    assert (await store.jobs.get(queued)).status == "queued"  # type: ignore[union-attr]

    assert await prune(state, now=time.time() + 31 * DAY) == (0, 1, 0)  # deliveries past 30 days
    assert await store.webhooks.get(tenant.id, delivered) is None
    assert (await store.webhooks.get(tenant.id, pending)).status == "pending"  # type: ignore[union-attr]


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_a_reservation_left_by_a_dead_ingest_is_deleted_with_its_object(origin_state, tenant):
    store = origin_state.store
    bucket = await store.buckets.get(tenant.tenant.id, None)
    reserved = await store.files.reserve(
        tenant.tenant.id, bucket.name, "u1", "", "talk.mp4", require_signed=False, source="direct"
    )
    backend = origin_state.backend(bucket)
    await backend.write(reserved.key, _chunks(b"half-registered"))  # stored, then the process died
    assert await prune(origin_state) == (0, 0, 0)  # an ingest may still be storing it
    assert await prune(origin_state, now=time.time() + 2 * DAY) == (0, 0, 1)
    assert await store.files.get(reserved.id) is None
    with pytest.raises(ObjectNotFound):
        await backend.stat(reserved.key)
    again = await store.files.reserve(
        tenant.tenant.id, bucket.name, "u1", "", "talk.mp4", require_signed=False, source="direct"
    )
    assert again.key == reserved.key  # the name is free again


async def test_the_sweep_gives_sqlites_planner_statistics_of_the_catalogue(origin_state, tenant):
    store = origin_state.store
    assert store.db.dialect == "sqlite"
    for i in range(30):
        await store.assets.create(tenant.tenant.id, kind="video", title=f"v{i}", tags=["t"])
    sweep = asyncio.create_task(history_pruner(origin_state))
    try:
        for _ in range(200):
            stats = await store.db.execute(sa.text("SELECT stat FROM sqlite_stat1 WHERE idx = 'asset_tags_created'"))
            if (found := stats.scalar()) and found.startswith("30 "):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"no statistics of asset_tags after the sweep: {found!r}")
    finally:
        sweep.cancel()
