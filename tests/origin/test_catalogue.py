"""The shared catalogue: API keys (several per tenant), assets and what hangs off them, on SQLite and
PostgreSQL; and a seed-000 upload becoming an asset with the file's own id."""

from __future__ import annotations

from pathlib import Path

import pytest

from origin.catalogue.assets import file_stored
from origin.catalogue.ids import new_asset_id
from origin.catalogue.status import Status
from origin.store import FileMeta, Store

pytestmark = pytest.mark.anyio


async def test_a_tenant_holds_several_keys_each_revocable_and_rotating_default_retires_the_old(store: Store):
    tenant, default = await store.tenants.create("acme", "local")
    ci, ci_secret = await store.api_keys.create(tenant.id, "ci", scopes=["upload"])
    for secret in (default, ci_secret):
        found = await store.api_keys.authenticate(secret)
        assert found is not None and found[0] == tenant
    assert [(k.name, k.scopes) for k in await store.api_keys.list(tenant.id)] == [("default", []), ("ci", ["upload"])]

    assert await store.api_keys.revoke(tenant.id, ci.id) is True
    assert await store.api_keys.authenticate(ci_secret) is None
    assert await store.api_keys.revoke(tenant.id, ci.id) is False  # already revoked
    assert await store.tenants.by_api_key(default) == tenant

    rotated = await store.tenants.rotate_api_key(tenant.id)
    assert await store.tenants.by_api_key(default) is None
    assert await store.tenants.by_api_key(rotated) == tenant


async def test_a_key_records_its_last_use_and_another_tenant_cannot_revoke_it(store: Store):
    tenant, secret = await store.tenants.create("acme", "local")
    other, _ = await store.tenants.create("other", "local")
    [key] = await store.api_keys.list(tenant.id)
    assert key.last_used_at is None
    await store.api_keys.authenticate(secret)
    [used] = await store.api_keys.list(tenant.id)
    assert used.last_used_at is not None and used.last_used_at >= key.created_at
    assert await store.api_keys.revoke(other.id, key.id) is False
    assert await store.api_keys.authenticate(secret) is not None


async def test_a_key_pair_needs_both_halves_of_the_same_key(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    pair, secret = await store.api_keys.create(tenant.id, "player", pair=True)
    other, other_secret = await store.api_keys.create(tenant.id, "other", pair=True)
    assert pair.public_key is not None and pair.public_key.startswith("pk_")
    found = await store.api_keys.authenticate_pair(pair.public_key, secret)
    assert found is not None and found[0] == tenant and found[1].id == pair.id
    assert await store.api_keys.authenticate_pair(pair.public_key, other_secret) is None
    assert await store.api_keys.authenticate_pair(str(other.public_key), secret) is None


async def test_a_deactivated_tenant_authenticates_with_none_of_its_keys(store: Store):
    tenant, secret = await store.tenants.create("acme", "local")
    await store.tenants.update(tenant.id, active=False)
    assert await store.api_keys.authenticate(secret) is None


async def test_an_asset_only_moves_forward_through_the_state_machine(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    asset = await store.assets.create(tenant.id, kind="video", title="Talk", dialect="videos")
    assert asset.id.startswith("mda_") and asset.status == "queued"
    assert await store.assets.advance(asset.id, Status.PROCESSING, progress=40.0) is True
    assert await store.assets.advance(asset.id, Status.QUEUED) is False
    assert await store.assets.advance(asset.id, Status.READY) is True
    assert await store.assets.advance(asset.id, Status.FAILED) is False
    after = await store.assets.get(tenant.id, asset.id)
    assert after is not None and (after.status, after.progress) == ("ready", 40.0)
    with pytest.raises(ValueError, match="advance"):
        await store.assets.update(tenant.id, asset.id, status="queued")
    assert await store.assets.advance(asset.id, Status.DELETED) is True


async def test_assets_are_paged_searched_filtered_and_scoped_to_their_tenant(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    other, _ = await store.tenants.create("other", "local")
    made = [
        await store.assets.create(tenant.id, kind=kind, title=title, tags=tags, size=size, dialect="media")
        for kind, title, tags, size in [
            ("video", "Keynote", ["conf"], 30),
            ("audio", "Podcast", ["talk"], 10),
            ("video", "Intro", ["Conf"], 20),
            ("image", "Poster", [], 5),
        ]
    ]
    await store.assets.create(other.id, kind="video", title="Keynote", dialect="media")

    newest_first, total = await store.assets.page(tenant.id)
    assert total == 4 and [a.title for a in newest_first] == ["Poster", "Intro", "Podcast", "Keynote"]
    videos, total = await store.assets.page(tenant.id, kinds=["video"], sort="size", descending=False)
    assert total == 2 and [a.title for a in videos] == ["Intro", "Keynote"]
    tagged, total = await store.assets.page(tenant.id, search="conf")
    assert total == 2 and {a.title for a in tagged} == {"Keynote", "Intro"}
    first, _ = await store.assets.page(tenant.id, limit=2)
    rest, _ = await store.assets.page(tenant.id, limit=2, after=first[-1].id)
    assert [a.id for a in first + rest] == [a.id for a in reversed(made)]
    with pytest.raises(ValueError, match="sort"):
        await store.assets.page(tenant.id, sort="secret; DROP TABLE assets")


async def test_the_same_bytes_find_the_tenants_live_asset(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    digest = "ab" * 32
    failed = await store.assets.create(tenant.id, kind="video", sha256=digest, dialect="media")
    await store.assets.advance(failed.id, Status.FAILED)
    live = await store.assets.create(tenant.id, kind="video", sha256=digest, dialect="media")
    found = await store.assets.by_sha256(tenant.id, digest)
    assert found is not None and found.id == live.id
    other, _ = await store.tenants.create("other", "local")
    assert await store.assets.by_sha256(other.id, digest) is None


async def test_captions_renditions_and_a_transcript_hang_off_an_asset(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    asset = await store.assets.create(tenant.id, kind="video", dialect="media")
    caption = await store.captions.add(asset.id, "en", format="vtt", key="k/en.vtt", label="English", approved=False)
    assert [c.id for c in await store.captions.list(asset.id)] == [caption.id]
    approved = await store.captions.update(asset.id, caption.id, approved=True)
    assert approved is not None and approved.approved is True
    rendition = await store.renditions.add(asset.id, "image", "thumb-320", spec={"width": 320})
    done = await store.renditions.update(rendition.id, status=Status.READY, key="k/t.jpg", width=320)
    assert done is not None and (done.status, done.key, done.spec) == ("ready", "k/t.jpg", {"width": 320})
    cues = [{"start": 0.0, "end": 1.5, "text": "hello"}]
    await store.transcripts.put(asset.id, "en", "hello", cues, caption_id=caption.id)
    await store.transcripts.put(asset.id, "en", "hello there", cues)  # replaces the first
    transcript = await store.transcripts.get(asset.id, "en")
    assert transcript is not None and (transcript.text, transcript.cues) == ("hello there", cues)
    assert await store.captions.delete(asset.id, caption.id) is True
    assert await store.captions.list(asset.id) == []


async def test_a_file_stored_for_an_asset_takes_the_assets_id(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    asset_id = new_asset_id()
    await store.assets.create(tenant.id, kind="video", asset_id=asset_id, title="Made first", dialect="videos")
    record = await store.files.reserve(
        tenant.id, "default", "u", "", "a.mp4", require_signed=False, source="direct", file_id=asset_id
    )
    assert record.id == asset_id


async def test_an_uploaded_file_is_an_asset_with_its_own_id_until_the_file_is_deleted(
    origin_client, origin_state, tenant, clip: Path
):
    response = await origin_client.post(
        "/upload/direct-upload", headers=tenant.headers, files={"file": ("clip.mp4", clip.read_bytes())}
    )
    assert response.status_code == 201, response.text
    file_id = response.json()["id"]
    asset = await origin_state.store.assets.get(tenant.tenant.id, file_id)
    assert asset is not None
    assert (asset.kind, asset.status, asset.file_id, asset.title, asset.mime, asset.dialect) == (
        "video",
        "ready",
        file_id,
        "clip.mp4",
        "video/mp4",
        "aauti",
    )
    assert asset.size == clip.stat().st_size and abs((asset.duration or 0) - 10.0) <= 0.1

    deleted = await origin_client.request(
        "DELETE", "/files/delete", headers=tenant.headers, json={"file": response.json()["url"]}
    )
    assert deleted.status_code == 200, deleted.text
    gone = await origin_state.store.assets.get(tenant.tenant.id, file_id)
    assert gone is not None and (gone.status, gone.file_id) == ("deleted", None)


async def test_registering_an_object_makes_its_asset(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    async with store.transaction() as tx:
        record, _ = await store.files.register(
            tenant.id,
            "default",
            f"{tenant.id}/u/song.mp3",
            "song.mp3",
            "u",
            False,
            FileMeta(size=3, etag="e", mime="audio/mpeg"),
            tx,
        )
        await file_stored(store, record, tx)
    asset = await store.assets.get(tenant.id, record.id)
    assert asset is not None and (asset.kind, asset.status, asset.size) == ("audio", "ready", 3)
