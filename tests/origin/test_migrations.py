"""Alembic migrations: a database an earlier release made moves forward without losing a row, and the
migrated schema is the one the store queries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mediaedge.tokens import SigningKey
from origin.store import FileRecord, Tenant, open_store
from origin.store.db import Database
from origin.store.migrate import head, migrate, schema_revision
from origin.store.schema import api_keys, metadata
from origin.store.uploads import TusUpload
from tests.fixtures.db import fresh_pg_database
from tests.fixtures.legacy import legacy_database, legacy_execute

pytestmark = pytest.mark.anyio

BIG = 20_000_000_000
T0 = 1_700_000_000.123456
JWK = {"kty": "OKP", "crv": "Ed25519", "x": "abc", "kid": "k1", "alg": "EdDSA", "use": "sig"}
UPLOAD_METADATA = {"filename": "YS5tcDQ=", "z": None, "a": "eA=="}  # Upload-Metadata order matters


def legacy_rows() -> list[tuple[str, tuple[object, ...]]]:
    """One row of every table, written as releases before Alembic wrote them; two tenants named acme."""
    domains, apps = orjson.dumps(["a.example"]).decode(), orjson.dumps(["app1"]).decode()
    return [
        (
            "INSERT INTO tenants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("t1", "acme", "hash1", "https://h.example", "whsec_1", domains, apps, BIG, 1, T0),
        ),
        (
            "INSERT INTO tenants VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("t2", "acme", "hash2", "", "whsec_2", "[]", "[]", None, 0, T0 + 1),
        ),
        ("INSERT INTO buckets VALUES (?, ?, ?, ?, ?)", ("t1", "default", "local", 1, T0)),
        (
            "INSERT INTO files (id, tenant_id, bucket, key, filename, user_id, status, mime, size, etag, duration,"
            " width, height, video_codec, audio_codec, require_signed, source, created_at, updated_at, ingest_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                "f1",
                "t1",
                "default",
                "t1/u/a.mp4",
                "a.mp4",
                "u",
                "ready",
                "video/mp4",
                BIG,
                "e1",
                10.04,
                640,
                360,
                "h264",
                "aac",
                1,
                "direct",
                T0,
                T0 + 2,
                "tus:up1",
            ),
        ),
        (
            "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                "j1",
                "stream.process",
                "t1",
                '{"stream_id": "s1"}',
                "succeeded",
                1,
                4,
                T0,
                None,
                None,
                '{"uid": "s1"}',
                None,
                T0,
                T0 + 3,
            ),
        ),
        (
            "INSERT INTO webhook_deliveries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                "wh_1",
                "t1",
                "upload",
                '{"eventType": "upload"}',
                "delivered",
                1,
                5,
                T0,
                None,
                None,
                200,
                None,
                T0,
                T0 + 4,
                T0 + 4,
            ),
        ),
        (
            "INSERT INTO webhook_attempts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ("a1", "wh_1", 1, "https://h.example", T0 + 4, 12, 200, None),
        ),
        (
            "INSERT INTO tus_uploads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                "up1",
                "t1",
                BIG,
                BIG,
                orjson.dumps(UPLOAD_METADATA).decode(),
                None,
                0,
                1,
                '["p1", "p2"]',
                "f1",
                None,
                None,
                0,
                T0 + 86400,
                T0,
                T0 + 5,
            ),
        ),
        (
            "INSERT INTO streams (id, tenant_id, provider, url, source_ref, source_file_id, bucket, output_prefix, uid,"
            " status, progress, meta, qualities, require_signed, hls_url, dash_url, thumbnail, duration, outputs,"
            " error, job_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?)",
            (
                "s1",
                "t1",
                "ffmpeg",
                "https://e/f1/a.mp4",
                "f1",
                "f1",
                "default",
                "t1/u/a.mp4.stream/",
                "s1",
                "ready",
                100.0,
                '{"name": "L1"}',
                '[{"resolution": "240p"}]',
                1,
                "https://e/h.m3u8",
                None,
                None,
                10.0,
                '{"hls": "h.m3u8"}',
                None,
                "j1",
                T0,
                T0 + 6,
            ),
        ),
        (
            "INSERT INTO signing_keys VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("k1", "EdDSA", "PEM", orjson.dumps(JWK).decode(), T0, None, 1_800_000_000),
        ),
        ("INSERT INTO edges VALUES (?, ?, ?, ?)", ("http://edge:8080", "eu", T0, T0 + 7)),
    ]


def mediaedge_db_migrate(db_url: str, data_dir: Path) -> str:
    env = {**os.environ, "MEDIAEDGE_DATA_DIR": str(data_dir), "MEDIAEDGE_DATABASE_URL": db_url}
    done = subprocess.run(
        [sys.executable, "-m", "mediaedge", "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


async def test_a_database_of_the_previous_release_migrates_forward_without_data_loss(db_url: str, tmp_path: Path):
    await legacy_database(db_url)
    await legacy_execute(db_url, legacy_rows())
    assert mediaedge_db_migrate(db_url, tmp_path).strip() == f"schema at revision {head()}"

    store = await open_store(db_url, migrate_schema=False)
    try:
        assert await schema_revision(store.db) == head()
        tenant = await store.tenants.get("t1")
        assert tenant == Tenant("t1", "acme", "https://h.example", "whsec_1", ["a.example"], ["app1"], BIG, True, T0)
        renamed = await store.tenants.get("t2")
        assert renamed is not None and (renamed.name, renamed.active, renamed.created_at) == ("acme-t2", False, T0 + 1)
        assert await store.tenants.find("acme") == tenant
        bucket = await store.buckets.get("t1", None)
        assert bucket is not None and bucket.is_default is True
        assert await store.files.get("f1") == FileRecord(
            "f1",
            "t1",
            "default",
            "t1/u/a.mp4",
            "a.mp4",
            "u",
            "ready",
            "video/mp4",
            BIG,
            "e1",
            10.04,
            640,
            360,
            "h264",
            "aac",
            True,
            "direct",
            T0,
            T0 + 2,
            "tus:up1",
        )
        job = await store.jobs.get("j1")
        assert job is not None and (job.payload, job.result, job.updated_at) == (
            {"stream_id": "s1"},
            {"uid": "s1"},
            T0 + 3,
        )
        delivery = await store.webhooks.get("t1", "wh_1")
        assert delivery is not None and (delivery.body, delivery.delivered_at) == ('{"eventType": "upload"}', T0 + 4)
        assert [(a.attempt, a.status_code, a.started_at) for a in await store.webhooks.attempts("wh_1")] == [
            (1, 200, T0 + 4)
        ]
        assert await store.uploads.get("up1") == TusUpload(
            "up1", "t1", BIG, BIG, UPLOAD_METADATA, None, False, True, ["p1", "p2"], "f1", T0 + 86400, T0, T0 + 5
        )
        assert list((await store.uploads.get("up1")).metadata) == list(UPLOAD_METADATA)  # type: ignore[union-attr]
        stream = await store.streams.get("s1")
        assert stream is not None
        assert (stream.meta, stream.qualities, stream.outputs, stream.require_signed, stream.created_at) == (
            {"name": "L1"},
            [{"resolution": "240p"}],
            {"hls": "h.m3u8"},
            True,
            T0,
        )
        assert await store.signing_keys.active() == SigningKey("k1", "EdDSA", "PEM", JWK)
        assert await store.signing_keys.verifying_jwks(T0) == [JWK]
        assert [(e.url, e.last_seen) for e in await store.edges.live(T0)] == [("http://edge:8080", T0 + 7)]
        # The tenant's key is now its key named "default", with the same hash; its file is an asset.
        keys = await store.api_keys.list("t1")
        assert [(k.name, k.revoked_at) for k in keys] == [("default", None)]
        hashes = await store.db.execute(sa.select(api_keys.c.secret_hash).where(api_keys.c.tenant_id == "t1"))
        assert hashes.scalars().all() == ["hash1"]
        asset = await store.assets.get("t1", "f1")
        assert asset is not None
        assert (asset.kind, asset.status, asset.file_id, asset.title, asset.size, asset.duration, asset.width) == (
            "video",
            "ready",
            "f1",
            "a.mp4",
            BIG,
            10.04,
            640,
        )
    finally:
        await store.close()
    assert mediaedge_db_migrate(db_url, tmp_path).strip() == f"schema at revision {head()}"  # nothing left to do


async def test_a_database_without_the_last_legacy_migration_gets_it(db_url: str):
    await legacy_database(db_url, versions=range(1, 8))
    database = Database.open(db_url)
    try:
        assert await migrate(database) == head()
        async with database.engine.connect() as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
            columns = await conn.run_sync(lambda c: [col["name"] for col in sa.inspect(c).get_columns("files")])
    finally:
        await database.close()
    assert "schema_version" not in names and "alembic_version" in names
    assert "ingest_key" in columns


async def test_the_migrated_schema_is_the_one_the_store_queries(pg_admin_dsn: str):
    """On PostgreSQL, where the column types are real: the newest revision matches origin.store.schema."""
    with fresh_pg_database(pg_admin_dsn) as url:
        database = Database.open(url)
        try:
            await migrate(database)
            async with database.engine.connect() as conn:
                differences = await conn.run_sync(
                    lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), metadata)
                )
        finally:
            await database.close()
    assert differences == []
