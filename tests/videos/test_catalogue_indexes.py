"""The catalogue's indexes on SQLite and PostgreSQL: the tag, metadata, search and count indexes follow
every write to an asset (create, update, status change, deletion); the folders table keeps one folder
per name however many callers make it at once; and a database migrated with assets and duplicate
folders already in it gets them indexed and merged."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from origin.catalogue.status import Status
from origin.store import Store, open_store
from origin.store.db import Database
from origin.store.migrate import head, migrate
from origin.store.schema import asset_counts, asset_metadata, asset_tags, assets, folders, now, tenants

pytestmark = pytest.mark.anyio


async def _ids(store: Store, tenant_id: str, **query: object) -> tuple[list[str], int]:
    found, total = await store.assets.page(tenant_id, sort="title", descending=False, **query)  # type: ignore[arg-type]
    return [asset.id for asset in found], total


async def test_tags_metadata_search_and_totals_follow_every_write(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    other, _ = await store.tenants.create("other", "local")
    a = await store.assets.create(
        tenant.id, kind="video", title="Guitar Lesson", description="open chords", tags=["music"], metadata={"g": "r"}
    )
    b = await store.assets.create(tenant.id, kind="video", title="Drums", description="a LESSON in time")
    await store.assets.create(tenant.id, kind="image", title="lesson poster")
    await store.assets.create(other.id, kind="video", title="lesson elsewhere", tags=["music"], metadata={"g": "r"})

    assert await _ids(store, tenant.id, kinds=["video"]) == ([b.id, a.id], 2)
    assert await _ids(store, tenant.id, kinds=["video"], search="lesson") == ([b.id, a.id], 2)
    assert await _ids(store, tenant.id, kinds=["video"], search="n CH") == ([a.id], 1)  # across a word
    assert (await _ids(store, tenant.id, search="lesson"))[1] == 3  # the image too
    assert await _ids(store, tenant.id, search='"music"') == ([a.id], 1)  # tags as their JSON text
    assert await _ids(store, tenant.id, tags=["music"]) == ([a.id], 1)
    assert await _ids(store, tenant.id, metadata={"g": "r"}) == ([a.id], 1)

    await store.assets.update(tenant.id, a.id, title="Piano", description="scales", tags=["keys"], metadata={"g": "j"})
    assert await _ids(store, tenant.id, kinds=["video"], search="lesson") == ([b.id], 1)
    assert await _ids(store, tenant.id, search="piano") == ([a.id], 1)
    assert await _ids(store, tenant.id, tags=["music"]) == ([], 0)
    assert await _ids(store, tenant.id, tags=["keys"]) == ([a.id], 1)
    assert await _ids(store, tenant.id, metadata={"g": "r"}) == ([], 0)
    assert await _ids(store, tenant.id, metadata={"g": "j"}) == ([a.id], 1)

    assert await store.assets.advance(b.id, Status.PROCESSING)
    assert await _ids(store, tenant.id, kinds=["video"], statuses=[Status.PROCESSING]) == ([b.id], 1)
    assert await _ids(store, tenant.id, kinds=["video"], statuses=[Status.QUEUED]) == ([a.id], 1)
    assert await store.assets.advance(b.id, Status.DELETED)
    assert await _ids(store, tenant.id, kinds=["video"]) == ([a.id], 1)
    assert await _ids(store, tenant.id, statuses=[Status.DELETED], include_deleted=True) == ([b.id], 1)

    # Gone for good (the tenant deleted): no row of its assets stays in any index.
    await store.db.execute(sa.delete(assets).where(assets.c.tenant_id == tenant.id))
    assert await _ids(store, tenant.id) == ([], 0)
    assert await _ids(store, tenant.id, search="piano") == ([], 0)
    for table in (asset_tags, asset_metadata):
        assert (await store.db.execute(sa.select(table.c.asset_id).where(table.c.tenant_id == tenant.id))).all() == []
    counts = sa.select(sa.func.sum(asset_counts.c.n)).where(asset_counts.c.tenant_id == tenant.id)
    assert (await store.db.execute(counts)).scalar() in (None, 0)
    assert await _ids(store, other.id, search="lesson", tags=["music"], metadata={"g": "r"}) != ([], 0)


async def test_folders_of_a_path_are_made_once_when_callers_race(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    made = await asyncio.gather(*(store.editor.ensure_path(tenant.id, ["a", "b"]) for _ in range(8)))
    assert len({folder.id for folder in made if folder is not None}) == 1
    (a,) = await store.editor.subfolders(tenant.id, None)
    (b,) = await store.editor.subfolders(tenant.id, a.id)
    assert (a.name, b.name, b.id) == ("a", "b", made[0].id if made[0] else None)
    assert await store.editor.ensure_path(tenant.id, []) is None


async def test_assets_and_folders_made_before_the_indexes_are_found_through_them(db_url: str):
    database = Database.open(db_url)
    try:
        await migrate(database, "0010")
        at = at_first = now()
        async with database.transaction() as tx:
            await tx.execute(sa.insert(tenants).values(id="t1", name="acme", webhook_signing_key="k", created_at=at))
            for i, (title, tags, pairs) in enumerate([("Old lesson", ["a", "b"], {"g": "r"}), ("Other", ["b"], {})]):
                await tx.execute(
                    sa.insert(assets).values(
                        id=f"mda_{i}",
                        tenant_id="t1",
                        kind="video",
                        title=title,
                        tags=tags,
                        metadata=pairs,
                        status="ready",
                        dialect="videos",
                        created_at=at + i,
                        updated_at=at + i,
                    )
                )
            # the same folder twice (two writers raced before the unique index), each with subfolders
            for folder_id, parent, name in [
                ("f1", None, "a"),
                ("f2", None, "a"),
                ("f3", "f1", "x"),
                ("f4", "f2", "x"),
                ("f5", "f2", "y"),
            ]:
                values = {"tenant_id": "t1", "parent_id": parent, "name": name, "created_at": at, "updated_at": at}
                await tx.execute(sa.insert(folders).values(id=folder_id, **values))
                at += 1
        assert await migrate(database) == head()
    finally:
        await database.close()
    store = await open_store(db_url)
    try:
        assert await _ids(store, "t1") == (["mda_0", "mda_1"], 2)
        assert await _ids(store, "t1", tags=["b"], search="lesson") == (["mda_0"], 1)
        assert await _ids(store, "t1", tags=["a", "b"], metadata={"g": "r"}) == (["mda_0"], 1)
        assert await _ids(store, "t1", statuses=[Status.READY]) == (["mda_0", "mda_1"], 2)
        # the side tables carry each asset's status and sort keys as they were (revision 0014)
        assert await _ids(store, "t1", tags=["b"], statuses=[Status.READY]) == (["mda_0", "mda_1"], 2)
        assert await _ids(store, "t1", tags=["b"], statuses=[Status.QUEUED]) == ([], 0)
        found, _ = await store.assets.page("t1", tags=["b"], sort="created_at", descending=False)
        assert [(a.id, a.created_at) for a in found] == [("mda_0", at_first), ("mda_1", at_first + 1)]
        top = await store.editor.subfolders("t1", None)
        assert [(f.id, f.name) for f in top] == [("f1", "a")]
        assert [(f.id, f.name) for f in await store.editor.subfolders("t1", "f1")] == [("f3", "x"), ("f5", "y")]
    finally:
        await store.close()
