"""Every query of the store (tenants, buckets, files, signing keys, edges, TUS uploads, streams) on SQLite
and PostgreSQL. Jobs and webhook outbox queries are tested with their features, on both too."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select, update

from mediaedge.tokens import generate_signing_key
from origin.store import FileMeta, IntegrityError, Store, UniqueViolation, open_store, schema
from origin.store.streams import NewStream

pytestmark = pytest.mark.anyio

BIG = 20_000_000_000  # past 32 bits: sizes are BIGINT


async def test_tenant_is_created_with_a_default_bucket_and_found_by_id_name_and_api_key(store: Store):
    tenant, api_key = await store.tenants.create(
        "acme",
        "local",
        webhook_url="https://hooks.example/x",
        whitelisted_domains=["a.example"],
        app_ids=["app1"],
        max_file_size=BIG,
    )
    assert api_key.startswith("tk_")
    for found in (
        await store.tenants.get(tenant.id),
        await store.tenants.find(tenant.id),
        await store.tenants.find("acme"),
        await store.tenants.by_api_key(api_key),
    ):
        assert found == tenant
    assert tenant.max_file_size == BIG and tenant.active is True
    assert isinstance(tenant.created_at, float)
    assert await store.tenants.by_api_key(api_key + "x") is None
    assert await store.tenants.get("nope") is None
    assert await store.tenants.find("nope") is None
    bucket = await store.buckets.get(tenant.id, None)
    assert bucket is not None
    assert (bucket.name, bucket.backend, bucket.is_default) == ("default", "local", True)


async def test_tenants_are_listed_oldest_first(store: Store):
    first, _ = await store.tenants.create("one", "local")
    second, _ = await store.tenants.create("two", "local")
    assert [t.id for t in await store.tenants.list_all()] == [first.id, second.id]


async def test_tenant_names_are_unique_and_an_id_wins_over_a_name(store: Store):
    first, _ = await store.tenants.create("acme", "local")
    with pytest.raises(UniqueViolation):
        await store.tenants.create("acme", "local")
    named_like_an_id, _ = await store.tenants.create(first.id, "local")
    with pytest.raises(UniqueViolation):
        await store.tenants.update(named_like_an_id.id, name="acme")
    assert [t.name for t in await store.tenants.list_all()] == ["acme", first.id]
    assert await store.tenants.find(first.id) == first  # the id, not the tenant whose name it is
    assert await store.tenants.find(named_like_an_id.id) == named_like_an_id


async def test_update_tenant_changes_only_the_given_fields(store: Store):
    tenant, _ = await store.tenants.create("acme", "local", whitelisted_domains=["a.example"])
    assert await store.tenants.update(tenant.id) == tenant
    updated = await store.tenants.update(
        tenant.id,
        name="acme2",
        webhook_url="https://h.example",
        app_ids=["x", "y"],
        max_file_size=BIG + 1,
        active=False,
    )
    assert updated is not None
    assert (updated.name, updated.webhook_url, updated.app_ids, updated.max_file_size, updated.active) == (
        "acme2",
        "https://h.example",
        ["x", "y"],
        BIG + 1,
        False,
    )
    assert updated.whitelisted_domains == ["a.example"]
    reenabled = await store.tenants.update(tenant.id, active=True)
    assert reenabled is not None and reenabled.active is True


async def test_rotating_the_api_key_retires_the_old_one(store: Store):
    tenant, old = await store.tenants.create("acme", "local")
    new = await store.tenants.rotate_api_key(tenant.id)
    assert new != old
    assert await store.tenants.by_api_key(old) is None
    assert await store.tenants.by_api_key(new) == tenant


async def test_buckets_by_name_and_duplicates_refused(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    created = await store.buckets.create(tenant.id, "archive", "s3")
    assert await store.buckets.get(tenant.id, "archive") == created
    assert created.is_default is False
    assert await store.buckets.get(tenant.id, "missing") is None
    with pytest.raises(IntegrityError):
        await store.buckets.create(tenant.id, "archive", "s3")


async def test_file_lifecycle_reserve_complete_list_delete(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    reserved = await store.files.reserve(
        tenant.id, "default", "u1", "lectures", "clip.mp4", require_signed=True, source="direct"
    )
    assert (reserved.status, reserved.key) == ("uploading", f"{tenant.id}/u1/lectures/clip.mp4")
    assert reserved.require_signed is True
    assert await store.files.list_ready(tenant.id) == []  # uploading files are not listed

    meta = FileMeta(
        size=BIG,
        etag="abc",
        mime="video/mp4",
        duration=10.04,
        width=640,
        height=360,
        video_codec="h264",
        audio_codec="aac",
    )
    async with store.transaction() as tx:
        done = await store.files.complete(reserved.id, meta, tx)
    assert (done.status, done.size, done.duration, done.width, done.video_codec) == (
        "ready",
        BIG,
        10.04,
        640,
        "h264",
    )
    assert isinstance(done.updated_at, float) and done.updated_at >= reserved.updated_at
    assert await store.files.get(reserved.id) == done
    assert await store.files.by_key(reserved.key) == done
    assert await store.files.list_ready(tenant.id) == [done]

    await store.files.delete(reserved.id)
    assert await store.files.get(reserved.id) is None
    assert await store.files.by_key(reserved.key) is None


async def test_list_files_is_newest_first_and_limited(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    ids = []
    for n in range(3):
        record = await store.files.reserve(
            tenant.id, "default", "u", "", f"f{n}.txt", require_signed=False, source="direct"
        )
        await store.files.complete(record.id, FileMeta(size=n, etag=str(n), mime="text/plain"))
        ids.append(record.id)
    assert [f.id for f in await store.files.list_ready(tenant.id, limit=2)] == ids[::-1][:2]


async def test_register_file_inserts_then_replaces(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    key = f"{tenant.id}/u1/imported/a.mp4"
    first, replaced = await store.files.register(
        tenant.id, "default", key, "a.mp4", "u1", False, FileMeta(size=1, etag="e1", mime="video/mp4")
    )
    assert (replaced, first.status, first.source, first.size) == (False, "ready", "register", 1)
    again, replaced = await store.files.register(
        tenant.id, "default", key, "a.mp4", "u2", True, FileMeta(size=BIG, etag="e2", mime="video/mp4", duration=3.5)
    )
    assert replaced is True
    assert (again.id, again.user_id, again.require_signed, again.size, again.etag, again.duration) == (
        first.id,
        "u2",
        True,
        BIG,
        "e2",
        3.5,
    )


async def test_concurrent_duplicate_names_get_distinct_suffixes_across_processes(store: Store, db_url: str):
    """Two origin processes (two stores on one database) reserving the same name at once."""
    tenant, _ = await store.tenants.create("acme", "local")
    other = await open_store(db_url)
    try:
        reservations = await asyncio.gather(
            *(
                s.files.reserve(tenant.id, "default", "u", "d", "clip.mp4", require_signed=False, source="direct")
                for s in [store, other] * 6
            )
        )
    finally:
        await other.close()
    names = sorted(r.filename for r in reservations)
    assert names == sorted(["clip.mp4", *(f"clip_{n}.mp4" for n in range(1, 12))])
    assert len({r.id for r in reservations}) == 12


async def test_files_need_an_existing_tenant(store: Store):
    with pytest.raises(IntegrityError):
        await store.files.reserve("ghost", "default", "u", "", "a.txt", require_signed=False, source="direct")


async def test_signing_keys_rotate_and_retired_keys_verify_until_their_last_token_expires(store: Store):
    assert await store.signing_keys.active() is None
    first, second = generate_signing_key("EdDSA"), generate_signing_key("EdDSA")
    await store.signing_keys.add(first, retire_others=False)
    assert await store.signing_keys.active() == first
    now = time.time()
    await store.signing_keys.note_expiry(first.kid, int(now) + 100)
    await store.signing_keys.note_expiry(first.kid, int(now) + 50)  # never lowers max_exp
    await store.signing_keys.add(second, retire_others=True)
    assert await store.signing_keys.active() == second
    assert await store.signing_keys.verifying_jwks(now) == [second.public_jwk, first.public_jwk]
    assert await store.signing_keys.verifying_jwks(now + 100) == [second.public_jwk]
    rows = await store.signing_keys.list_all()
    assert [(r["kid"], r["retired_at"] is None, r["max_exp"]) for r in rows] == [
        (first.kid, False, int(now) + 100),
        (second.kid, True, 0),
    ]


async def test_edges_register_heartbeat_and_age_out(store: Store):
    await store.edges.register("http://edge-a:8080", "eu")
    await store.edges.register("http://edge-b:8080", "us")
    before = time.time()
    await store.edges.register("http://edge-a:8080", "eu-west")  # heartbeat: same row, new region
    edges = await store.edges.live(0)
    assert [(e.url, e.region) for e in edges] == [("http://edge-a:8080", "eu-west"), ("http://edge-b:8080", "us")]
    assert edges[0].last_seen >= before > edges[0].registered_at
    assert [e.url for e in await store.edges.live(before)] == ["http://edge-a:8080"]

    gone = update(schema.edges).where(schema.edges.c.url == "http://edge-b:8080").values(last_seen=before - 2 * 86400)
    await store.db.execute(gone)
    await store.edges.register("http://edge-a:8080", "eu-west")  # registration forgets long-silent edges
    assert (await store.db.execute(select(func.count()).select_from(schema.edges))).scalar() == 1


async def test_tus_upload_progress_and_the_cross_process_lease(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    upload = await store.uploads.create(
        tenant.id,
        length=None,
        metadata={"filename": "YS5tcDQ=", "flag": None},
        bucket=None,
        expires_at=time.time() + 60,
    )
    assert (upload.length, upload.offset, upload.metadata, upload.complete) == (
        None,
        0,
        {"filename": "YS5tcDQ=", "flag": None},
        False,
    )
    assert await store.uploads.get(upload.id, "other-tenant") is None
    await store.uploads.set_progress(upload.id, BIG, length=BIG)
    done = await store.uploads.get(upload.id, tenant.id)
    assert done is not None
    assert (done.offset, done.length, done.needs_ingest) == (BIG, BIG, True)
    assert await store.uploads.unregistered() == [done]
    assert await store.uploads.expired(time.time() + 120) == []  # awaiting ingest: never expired

    assert await store.uploads.take_lease(upload.id, "a", 30)
    assert not await store.uploads.take_lease(upload.id, "b", 30)
    await store.uploads.request_release(upload.id)
    assert not await store.uploads.renew_lease(upload.id, "a", 30)  # asked to let go
    await store.uploads.release_lease(upload.id, "a")
    assert await store.uploads.take_lease(upload.id, "b", 30)
    assert await store.uploads.renew_lease(upload.id, "b", 30)

    await store.uploads.set_file(upload.id, "file1")
    assert await store.uploads.unregistered() == []
    assert [u.id for u in await store.uploads.expired(time.time() + 120)] == [upload.id]
    await store.uploads.delete(upload.id)
    assert await store.uploads.get(upload.id) is None


async def test_streams_are_unique_per_source_and_updated_in_transactions(store: Store):
    tenant, _ = await store.tenants.create("acme", "local")
    new = NewStream(
        tenant_id=tenant.id,
        provider="ffmpeg",
        url="http://e/f/k.mp4",
        source_ref="f1",
        meta={"name": "L1"},
        require_signed=True,
        qualities=[{"resolution": "240p"}],
        source_file_id="f1",
        bucket="default",
        output_prefix="k.mp4.stream/",
    )
    async with store.transaction() as tx:
        stream_id = await store.streams.insert(tx, new)
    with pytest.raises(IntegrityError):
        async with store.transaction() as tx:
            await store.streams.insert(tx, new)
    async with store.transaction() as tx:
        assert await store.streams.update(
            tx, stream_id, status="ready", progress=100, duration=4, outputs={"hls": "x.m3u8"}
        )
        assert [s.id for s in await store.streams.by_source(tx, tenant.id, "ffmpeg", ["f1", "f2"])] == [stream_id]
    stream = await store.streams.get(stream_id)
    assert stream is not None
    assert (stream.status, stream.progress, stream.duration, stream.outputs, stream.require_signed) == (
        "ready",
        100.0,
        4.0,
        {"hls": "x.m3u8"},
        True,
    )
    assert await store.streams.by_output_prefix("k.mp4.stream/") == stream
    assert await store.streams.page(tenant.id, limit=10, offset=0, status="ready") == ([stream], 1)
    assert await store.streams.page(tenant.id, limit=10, offset=0, status="failed") == ([], 0)
    async with store.transaction() as tx:
        await store.streams.restart(tx, stream_id, new)
        assert await store.streams.delete(tx, stream_id)
        assert not await store.streams.update(tx, stream_id, status="failed")
    assert await store.streams.get(stream_id) is None
