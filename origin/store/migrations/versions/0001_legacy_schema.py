"""The schema as it stood before Alembic: the store's hand-numbered migrations 1–8.

A database made by an earlier release records the numbers it applied in ``schema_version``; the
missing ones run here, then that table goes (Alembic's ``alembic_version`` tracks the schema from
now on). A new database runs all eight. The SQL is frozen: it is what those releases ran.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

LEGACY: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE tenants (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            api_key_hash TEXT NOT NULL UNIQUE,
            webhook_url TEXT NOT NULL DEFAULT '',
            webhook_signing_key TEXT NOT NULL,
            whitelisted_domains TEXT NOT NULL DEFAULT '[]',
            app_ids TEXT NOT NULL DEFAULT '[]',
            max_file_size BIGINT,
            active INTEGER NOT NULL DEFAULT 1,
            created_at DOUBLE PRECISION NOT NULL
        );
        CREATE TABLE buckets (
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            backend TEXT NOT NULL,
            is_default INTEGER NOT NULL DEFAULT 0,
            created_at DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (tenant_id, name)
        );
        CREATE TABLE files (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            bucket TEXT NOT NULL,
            key TEXT NOT NULL UNIQUE,
            filename TEXT NOT NULL,
            user_id TEXT NOT NULL,
            status TEXT NOT NULL,
            mime TEXT NOT NULL DEFAULT 'application/octet-stream',
            size BIGINT NOT NULL DEFAULT 0,
            etag TEXT NOT NULL DEFAULT '',
            duration DOUBLE PRECISION,
            width INTEGER,
            height INTEGER,
            video_codec TEXT,
            audio_codec TEXT,
            require_signed INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL DEFAULT 'direct',
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX files_tenant ON files (tenant_id, created_at);
        """,
    ),
    (
        2,
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            tenant_id TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL,
            attempt INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            run_after DOUBLE PRECISION NOT NULL,
            lease_owner TEXT,
            lease_expires_at DOUBLE PRECISION,
            result TEXT,
            last_error TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX jobs_claim ON jobs (status, run_after);
        CREATE INDEX jobs_tenant_status ON jobs (tenant_id, status)
        """,
    ),
    (
        3,
        """
        CREATE TABLE webhook_deliveries (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            event_type TEXT NOT NULL,
            body TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL,
            next_attempt_at DOUBLE PRECISION NOT NULL,
            lease_owner TEXT,
            lease_until DOUBLE PRECISION,
            last_status_code INTEGER,
            last_error TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL,
            delivered_at DOUBLE PRECISION
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
        CREATE INDEX webhook_deliveries_tenant ON webhook_deliveries (tenant_id, created_at);
        CREATE TABLE webhook_attempts (
            id TEXT PRIMARY KEY,
            delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
            attempt INTEGER NOT NULL,
            url TEXT NOT NULL,
            started_at DOUBLE PRECISION NOT NULL,
            duration_ms INTEGER NOT NULL,
            status_code INTEGER,
            error TEXT
        );
        CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, started_at)
        """,
    ),
    (
        4,
        """
        CREATE TABLE tus_uploads (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            upload_length BIGINT,
            upload_offset BIGINT NOT NULL DEFAULT 0,
            metadata TEXT NOT NULL DEFAULT '{}',
            bucket TEXT,
            is_partial INTEGER NOT NULL DEFAULT 0,
            is_final INTEGER NOT NULL DEFAULT 0,
            parts TEXT NOT NULL DEFAULT '[]',
            file_id TEXT,
            lock_owner TEXT,
            lock_until DOUBLE PRECISION,
            release_requested INTEGER NOT NULL DEFAULT 0,
            expires_at DOUBLE PRECISION NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX tus_uploads_expires ON tus_uploads (expires_at);
        CREATE INDEX tus_uploads_unregistered ON tus_uploads (file_id, is_partial)
        """,
    ),
    (
        5,
        """
        CREATE TABLE streams (
            id TEXT PRIMARY KEY,
            tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
            provider TEXT NOT NULL,
            url TEXT NOT NULL,
            source_ref TEXT NOT NULL,
            source_file_id TEXT,
            bucket TEXT,
            output_prefix TEXT,
            uid TEXT,
            status TEXT NOT NULL,
            progress DOUBLE PRECISION NOT NULL DEFAULT 0,
            meta TEXT NOT NULL,
            qualities TEXT,
            require_signed INTEGER NOT NULL DEFAULT 0,
            hls_url TEXT,
            dash_url TEXT,
            thumbnail TEXT,
            duration DOUBLE PRECISION,
            outputs TEXT NOT NULL DEFAULT '{}',
            error TEXT,
            job_id TEXT,
            created_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        );
        CREATE UNIQUE INDEX streams_source ON streams (tenant_id, provider, source_ref);
        CREATE INDEX streams_output_prefix ON streams (output_prefix);
        CREATE INDEX streams_tenant ON streams (tenant_id, created_at)
        """,
    ),
    (
        6,
        """
        CREATE TABLE signing_keys (
            kid TEXT PRIMARY KEY,
            algorithm TEXT NOT NULL,
            private_pem TEXT NOT NULL,
            public_jwk TEXT NOT NULL,
            created_at DOUBLE PRECISION NOT NULL,
            retired_at DOUBLE PRECISION,
            max_exp BIGINT NOT NULL DEFAULT 0
        );
        """,
    ),
    (
        7,
        """
        CREATE TABLE edges (
            url TEXT PRIMARY KEY,
            region TEXT NOT NULL DEFAULT '',
            registered_at DOUBLE PRECISION NOT NULL,
            last_seen DOUBLE PRECISION NOT NULL
        );
        CREATE INDEX edges_last_seen ON edges (last_seen)
        """,
    ),
    (
        8,
        """
        ALTER TABLE files ADD COLUMN ingest_key TEXT;
        CREATE UNIQUE INDEX files_ingest_key ON files (ingest_key)
        """,
    ),
]


def upgrade() -> None:
    bind = op.get_bind()
    applied: set[int] = set()
    if sa.inspect(bind).has_table("schema_version"):
        applied = {row[0] for row in bind.execute(sa.text("SELECT version FROM schema_version"))}
    for version, sql in LEGACY:
        if version not in applied:
            for statement in filter(str.strip, sql.split(";")):
                op.execute(statement)
    op.execute("DROP TABLE IF EXISTS schema_version")
