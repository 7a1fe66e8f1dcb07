"""The streams table on SQLite and PostgreSQL: one stream per source, updates, pages, output prefixes."""

from __future__ import annotations

from typing import Any

import pytest

from origin.store import IntegrityError, Store
from origin.store.streams import NewStream

pytestmark = pytest.mark.anyio


def new(tenant_id: str, ref: str, **extra: Any) -> NewStream:
    fields = {"provider": "ffmpeg", "url": f"https://edge.test/{ref}", "meta": {"name": ref}, "require_signed": False}
    return NewStream(tenant_id=tenant_id, source_ref=ref, **{**fields, **extra})


async def test_streams_round_trip_and_one_per_source(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    async with store.transaction() as tx:
        first = await store.streams.insert(
            tx,
            new(
                tenant.id, "f1", output_prefix="t/u/a.mp4.stream/", bucket="default", qualities=[{"resolution": "360p"}]
            ),
        )
        await store.streams.insert(tx, new(tenant.id, "f2"))
    with pytest.raises(IntegrityError):
        async with store.transaction() as tx:
            await store.streams.insert(tx, new(tenant.id, "f1"))

    async with store.transaction() as tx:
        assert await store.streams.update(
            tx,
            first,
            status="ready",
            progress=100.0,
            uid=first,
            duration=10.0,
            outputs={"renditions": [{"name": "360p"}]},
        )
        assert not await store.streams.update(tx, "missing", status="ready")
        found = await store.streams.by_source(tx, tenant.id, "ffmpeg", ["f1", "f3"])
    assert [s.id for s in found] == [first]
    stream = await store.streams.by_output_prefix("t/u/a.mp4.stream/")
    assert stream is not None
    assert (stream.status, stream.progress, stream.duration, stream.require_signed) == ("ready", 100.0, 10.0, False)
    assert (stream.outputs, stream.qualities, stream.meta) == (
        {"renditions": [{"name": "360p"}]},
        [{"resolution": "360p"}],
        {"name": "f1"},
    )
    with pytest.raises(ValueError, match="not updatable: tenant_id"):
        async with store.transaction() as tx:
            await store.streams.update(tx, first, tenant_id="other")

    page, total = await store.streams.page(tenant.id, limit=1, offset=0)
    assert total == 2 and len(page) == 1
    ready, count = await store.streams.page(tenant.id, limit=10, offset=0, status="ready")
    assert count == 1 and [s.id for s in ready] == [first]

    async with store.transaction() as tx:
        await store.streams.restart(tx, first, new(tenant.id, "f1", require_signed=True, meta={"name": "again"}))
    restarted = await store.streams.get(first)
    assert restarted is not None
    assert (restarted.status, restarted.progress, restarted.uid, restarted.hls_url, restarted.outputs) == (
        "pending",
        0.0,
        None,
        None,
        {},
    )
    assert (restarted.require_signed, restarted.meta) == (True, {"name": "again"})
    async with store.transaction() as tx:
        assert await store.streams.delete(tx, first) is True
    assert await store.streams.get(first) is None
