"""The store behind the video objects API on SQLite and PostgreSQL: listing assets by tags and metadata,
title order, lookups by stream and id, upload parts and credits."""

from __future__ import annotations

import pytest

from origin.catalogue.status import Status
from origin.store import Store
from origin.store.schema import now
from origin.store.videos import VideoPart

pytestmark = pytest.mark.anyio


async def test_assets_filter_by_every_tag_and_metadata_pair_and_sort_titles_as_read(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    other, _ = await store.tenants.create("other", "local")
    a = await store.assets.create(
        tenant.id, kind="video", title="bravo", tags=["music", "live"], metadata={"genre": "rock", "year": "1999"}
    )
    b = await store.assets.create(tenant.id, kind="video", title="Alpha", tags=["music"], metadata={"genre": "rock"})
    c = await store.assets.create(
        tenant.id, kind="video", title="charlie", tags=["live"], metadata={"genre": "jazz"}, stream_id="s1"
    )
    await store.assets.create(other.id, kind="video", title="x", tags=["music"], metadata={"genre": "rock"})

    async def ids(**query: object) -> list[str]:
        found, total = await store.assets.page(tenant.id, sort="title", descending=False, **query)  # type: ignore[arg-type]
        assert total == len(found)
        return [asset.id for asset in found]

    assert await ids() == [b.id, a.id, c.id]  # Alpha, bravo, charlie: case does not decide the order
    assert await ids(tags=["music"]) == [b.id, a.id]
    assert await ids(tags=["music", "live"]) == [a.id]
    assert await ids(tags=["mus"]) == []  # whole tags, not substrings
    assert await ids(metadata={"genre": "rock"}) == [b.id, a.id]
    assert await ids(metadata={"genre": "rock", "year": "1999"}) == [a.id]
    assert await ids(metadata={"genre": "roc"}) == []
    assert await ids(metadata={"year": "1999"}, tags=["live"]) == [a.id]

    assert [x.id for x in await store.assets.by_stream("s1")] == [c.id]
    found = await store.assets.by_id(c.id)
    assert found is not None and found.tenant_id == tenant.id
    await store.assets.advance(c.id, Status.DELETED)
    assert await ids(tags=["live"]) == [a.id]
    assert await ids(tags=["live"], include_deleted=True, statuses=[Status.DELETED]) == [c.id]


async def test_a_part_sent_again_replaces_the_earlier_one_and_parts_go_with_their_video(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    video = await store.assets.create(tenant.id, kind="video", title="v")

    def part(idx: int, first: int, last: int, md5: str) -> VideoPart:
        return VideoPart(video.id, idx, tenant.id, first, last, 300, md5, f"k/{idx}-{md5}", "a.mp4", now())

    assert await store.video_parts.put(part(1, 100, 299, "b" * 32)) is None
    assert await store.video_parts.put(part(0, 0, 99, "a" * 32)) is None
    replaced = await store.video_parts.put(part(0, 0, 99, "c" * 32))
    assert replaced is not None and replaced.md5 == "a" * 32
    parts = await store.video_parts.list(video.id)
    assert [(p.idx, p.md5, p.size) for p in parts] == [(0, "c" * 32, 100), (1, "b" * 32, 200)]
    await store.video_parts.delete_all(video.id)
    assert await store.video_parts.list(video.id) == []


async def test_credit_is_unlimited_until_set(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    assert await store.credits.get(tenant.id) is None
    await store.credits.set(tenant.id, 12.5)
    assert await store.credits.get(tenant.id) == 12.5
    await store.credits.set(tenant.id, 3.0)
    assert await store.credits.get(tenant.id) == 3.0
    await store.credits.set(tenant.id, None)
    assert await store.credits.get(tenant.id) is None
