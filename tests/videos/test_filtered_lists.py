"""Tag and metadata filtered listings, which answer from ``asset_tags`` / ``asset_metadata`` and the
kind, status and sort keys those tables carry, on SQLite and PostgreSQL: after every kind of write
that changes an asset (title, size, status, kind, tags, metadata, folder moves, a file deleted, a
stream's assets advanced, plain SQL) each filtered page and total equals what the unfiltered listing,
read off ``assets`` itself, gives once filtered by hand — in every sort order, both directions."""

from __future__ import annotations

import itertools

import httpx
import pytest
import sqlalchemy as sa

from origin.catalogue.status import Status
from origin.state import OriginState
from origin.store import Store
from origin.store.models import Asset
from origin.store.schema import CARRIED_SORTS, assets
from tests.videos.conftest import VideoTenant, create_video

pytestmark = pytest.mark.anyio

#: The filters checked: each keeps the assets that have it.
FILTERS: list[dict[str, object]] = [
    {"tags": ["music"]},
    {"metadata": {"genre": "rock"}},
    {"tags": ["music", "live"]},
    {"tags": ["live"], "metadata": {"genre": "rock", "era": "70s"}},
]


def _has(asset: Asset, query: dict[str, object]) -> bool:
    tags = query.get("tags", [])
    pairs = query.get("metadata", {})
    assert isinstance(tags, list) and isinstance(pairs, dict)
    return all(tag in asset.tags for tag in tags) and all(asset.metadata.get(k) == v for k, v in pairs.items())


async def _check_every_listing(store: Store, tenant_id: str, **scope: object) -> None:
    """Every filter in every carried sort, both ways, against the unfiltered listing filtered here;
    also a page from the middle (offset and limit) and a cursor page."""
    for query, sort, descending in itertools.product(FILTERS, CARRIED_SORTS, (True, False)):
        listing = {"sort": sort, "descending": descending, **scope}
        everything, _ = await store.assets.page(tenant_id, limit=1000, **listing)  # type: ignore[arg-type]
        expected = [asset.id for asset in everything if _has(asset, query)]
        found, total = await store.assets.page(tenant_id, **listing, **query)  # type: ignore[arg-type]
        assert ([a.id for a in found], total) == (expected, len(expected)), (query, sort, descending)
        middle, _ = await store.assets.page(tenant_id, **listing, **query, offset=1, limit=2)  # type: ignore[arg-type]
        assert [a.id for a in middle] == expected[1:3]
        if expected:
            cursor = expected[0]
            after, _ = await store.assets.page(tenant_id, **listing, **query, after=cursor)  # type: ignore[arg-type]
            assert [a.id for a in after] == [i for i in expected if (i < cursor if descending else i > cursor)]


async def _titles(store: Store, tenant_id: str, **query: object) -> list[str]:
    found, _ = await store.assets.page(tenant_id, sort="title", descending=False, **query)  # type: ignore[arg-type]
    return [asset.title for asset in found]


async def test_filtered_lists_follow_every_write_to_their_assets(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    other, _ = await store.tenants.create("other", "local")
    rock = {"genre": "rock", "era": "70s"}
    made = [
        await store.assets.create(tenant.id, kind="video", title="Bravo", tags=["music"], metadata=rock, size=30),
        await store.assets.create(tenant.id, kind="video", title="alpha", tags=["music", "live"], metadata=rock),
        await store.assets.create(tenant.id, kind="video", title="Charlie", tags=["live", "music"], size=10),
        await store.assets.create(tenant.id, kind="video", title="delta", tags=["live"], metadata=rock, size=20),
        await store.assets.create(tenant.id, kind="video", title="echo", metadata={"genre": "jazz"}),
    ]
    a, b, c, d, e = (asset.id for asset in made)
    await store.assets.create(other.id, kind="video", title="Not theirs", tags=["music", "live"], metadata=rock)
    await _check_every_listing(store, tenant.id)
    assert await _titles(store, tenant.id, tags=["music"]) == ["alpha", "Bravo", "Charlie"]  # as people read

    # title, size and the update time: the sort keys
    await store.assets.update(tenant.id, a, title="Zulu", size=5)
    assert await _titles(store, tenant.id, tags=["music"]) == ["alpha", "Charlie", "Zulu"]
    await _check_every_listing(store, tenant.id)
    # tags and metadata, with the sort keys in the same write
    await store.assets.update(tenant.id, e, tags=["music"], metadata=rock, title="Aardvark")
    await store.assets.update(tenant.id, c, tags=["live"], metadata={})
    assert await _titles(store, tenant.id, tags=["music"]) == ["Aardvark", "alpha", "Zulu"]
    await _check_every_listing(store, tenant.id)

    # status, through the state machine, by asset and by stream
    assert await store.assets.advance(b, Status.PROCESSING)
    assert await _titles(store, tenant.id, tags=["music"], statuses=[Status.PROCESSING]) == ["alpha"]
    assert await _titles(store, tenant.id, tags=["music"], statuses=[Status.QUEUED]) == ["Aardvark", "Zulu"]
    await store.assets.update(tenant.id, d, stream_id="str_1")
    await store.assets.update(tenant.id, c, stream_id="str_1")
    assert await store.assets.advance_for_stream("str_1", Status.PROCESSING) == 2
    assert await _titles(store, tenant.id, tags=["live"], statuses=[Status.PROCESSING]) == ["alpha", "Charlie", "delta"]
    await _check_every_listing(store, tenant.id)
    await _check_every_listing(store, tenant.id, statuses=[Status.PROCESSING])

    # kind
    await store.assets.update(tenant.id, d, kind="audio")
    assert await _titles(store, tenant.id, tags=["live"], kinds=["video"]) == ["alpha", "Charlie"]
    await _check_every_listing(store, tenant.id, kinds=["video"])
    await _check_every_listing(store, tenant.id, kinds=["audio"])

    # a folder moved (the update time of every asset in it), and plain SQL, which no repository wrote
    await store.assets.update(tenant.id, b, folder="lessons/rock")
    async with store.transaction() as tx:
        assert await store.editor.repath_assets(tenant.id, "lessons", "courses", tx) == 1
    await store.db.execute(sa.update(assets).where(assets.c.id == e).values(title="zz top", updated_at=1.0))
    assert await _titles(store, tenant.id, tags=["music"]) == ["alpha", "Zulu", "zz top"]
    await _check_every_listing(store, tenant.id)

    # deleted: through the state machine, and through its file's deletion
    assert await store.assets.advance(a, Status.DELETED)
    file = await store.files.reserve(tenant.id, "local", "u", "d", "clip.mp4", require_signed=False, source="direct")
    await store.assets.update(tenant.id, b, file_id=file.id)
    await store.files.delete(file.id)
    assert await _titles(store, tenant.id, tags=["music"]) == ["zz top"]
    assert await _titles(store, tenant.id, tags=["music"], statuses=[Status.DELETED], include_deleted=True) == [
        "alpha",
        "Zulu",
    ]
    await _check_every_listing(store, tenant.id)
    await _check_every_listing(store, tenant.id, include_deleted=True)

    # the other tenant's asset was never in any of these
    assert await _titles(store, other.id, tags=["music", "live"], metadata=rock) == ["Not theirs"]


async def test_filters_combine_with_folder_search_and_an_uncarried_sort(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    x = await store.assets.create(tenant.id, kind="video", title="Rock lesson", tags=["music"], folder="f", duration=9)
    y = await store.assets.create(tenant.id, kind="video", title="Rock concert", tags=["music"], duration=3)
    z = await store.assets.create(tenant.id, kind="video", title="Jazz lesson", tags=["music"], folder="f", duration=1)
    found, total = await store.assets.page(tenant.id, tags=["music"], folder="f")
    assert ([a.id for a in found], total) == ([z.id, x.id], 2)
    found, total = await store.assets.page(tenant.id, tags=["music"], search="lesson", folder=["f", "g"])
    assert ([a.id for a in found], total) == ([z.id, x.id], 2)
    found, total = await store.assets.page(tenant.id, tags=["music"], search="rock", sort="title", descending=False)
    assert ([a.id for a in found], total) == ([y.id, x.id], 2)
    # a sort the side tables do not carry: the same filter, looked up from ``assets``
    found, total = await store.assets.page(tenant.id, tags=["music"], sort="duration", descending=True)
    assert [a.id for a in found][:2] == [x.id, y.id] and total == 3
    await store.assets.update(tenant.id, y.id, duration=99.0)
    found, total = await store.assets.page(tenant.id, tags=["music"], search="rock", sort="duration")
    assert ([a.id for a in found], total) == ([y.id, x.id], 2)


async def _listed(client: httpx.AsyncClient, tenant: VideoTenant, **body: object) -> list[str]:
    response = await client.post("/api/videos", headers=tenant.headers, json=body)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["total"] == len(data["videos"])
    return [video["title"] for video in data["videos"]]


async def test_the_videos_api_lists_a_changed_video_where_it_now_belongs(
    client: httpx.AsyncClient, vtenant: VideoTenant, origin_state: OriginState
):
    first = await create_video(client, vtenant, title="Beta", tags=["course"], metadata=[{"key": "lvl", "value": "1"}])
    await create_video(client, vtenant, title="Gamma", tags=["course"], metadata=[{"key": "lvl", "value": "1"}])
    by_title = {"tags": ["course"], "sort_by": "title", "order_by": "asc"}
    assert await _listed(client, vtenant, **by_title) == ["Beta", "Gamma"]

    patched = await client.patch(f"/api/videos/{first['id']}", headers=vtenant.headers, json={"title": "Zeta"})
    assert patched.status_code == 200, patched.text
    assert await _listed(client, vtenant, **by_title) == ["Gamma", "Zeta"]
    assert await _listed(client, vtenant, metadata={"lvl": "1"}, sort_by="updated_at") == ["Zeta", "Gamma"]

    assert await origin_state.store.assets.advance(first["id"], Status.PROCESSING)
    assert await _listed(client, vtenant, tags=["course"], status="transcoding") == ["Zeta"]
    assert await _listed(client, vtenant, metadata={"lvl": "1"}, status="new") == ["Gamma"]

    deleted = await client.delete(f"/api/videos/{first['id']}", headers=vtenant.headers)
    assert deleted.status_code == 200, deleted.text
    assert await _listed(client, vtenant, **by_title) == ["Gamma"]
    assert await _listed(client, vtenant, tags=["course"], status="deleted") == ["Zeta"]


async def test_a_short_search_term_looks_through_the_newest_assets(store: Store, monkeypatch: pytest.MonkeyPatch):
    """One or two characters, which no trigram index looks up: matched (case-insensitively, in title,
    description and tags) among the tenant's newest ``SHORT_SEARCH_WINDOW`` assets only."""
    monkeypatch.setattr("origin.store.assets.SHORT_SEARCH_WINDOW", 4)
    tenant, _ = await store.tenants.create("acme", "local")
    other, _ = await store.tenants.create("other", "local")
    made = []
    for title, description, tags in [
        ("Old X-ray", "", []),  # the fifth newest: outside the window
        ("Xylophone", "", ["music"]),
        ("Drums", "a box", []),
        ("Piano", "", ["xx"]),
        ("Violin", "", ["music"]),
    ]:
        made.append(await store.assets.create(tenant.id, kind="video", title=title, description=description, tags=tags))
        await store.assets.create(other.id, kind="video", title=f"x {title}")  # never the tenant's
    old, xylophone, drums, piano, violin = (asset.id for asset in made)
    found, total = await store.assets.page(tenant.id, search="x")
    assert ([a.id for a in found], total) == ([piano, drums, xylophone], 3)
    found, total = await store.assets.page(tenant.id, search="X", sort="title", descending=False, limit=2)
    assert ([a.id for a in found], total) == ([drums, piano], 3)
    assert (await store.assets.page(tenant.id, search="xy", tags=["music"]))[1] == 1
    assert (await store.assets.page(tenant.id, search="ol", statuses=[Status.QUEUED]))[1] == 1  # Violin
    # the window is of the listing's own scope: a deleted asset leaves room for an older one
    assert await store.assets.advance(violin, Status.DELETED)
    found, total = await store.assets.page(tenant.id, search="x-")
    assert ([a.id for a in found], total) == ([old], 1)
    # three characters and more go through the trigram index, over every asset
    assert (await store.assets.page(tenant.id, search="old"))[1] == 1
