"""Typed columns on PostgreSQL: booleans, JSON and timestamps instead of integers, text and floats.

PostgreSQL columns change type in place (``USING`` converts every row): flags become ``boolean``
(non-zero is true), JSON documents ``json`` (which keeps their text, key order included), POSIX
timestamps ``timestamptz`` (to the microsecond). SQLite has no such types: its columns already hold
what the store reads (0/1, JSON text, REAL seconds), so nothing changes there.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: column → its default after the change (None: no default).
BOOLEANS = {
    "tenants": {"active": "true"},
    "buckets": {"is_default": "false"},
    "files": {"require_signed": "false"},
    "tus_uploads": {"is_partial": "false", "is_final": "false", "release_requested": "false"},
    "streams": {"require_signed": "false"},
}
JSON = {
    "tenants": {"whitelisted_domains": "'[]'", "app_ids": "'[]'"},
    "jobs": {"payload": None, "result": None},
    "tus_uploads": {"metadata": "'{}'", "parts": "'[]'"},
    "streams": {"meta": None, "qualities": None, "outputs": "'{}'"},
    "signing_keys": {"public_jwk": None},
}
TIMESTAMPS = {
    "tenants": ["created_at"],
    "buckets": ["created_at"],
    "files": ["created_at", "updated_at"],
    "jobs": ["run_after", "lease_expires_at", "created_at", "updated_at"],
    "webhook_deliveries": ["next_attempt_at", "lease_until", "created_at", "updated_at", "delivered_at"],
    "webhook_attempts": ["started_at"],
    "tus_uploads": ["lock_until", "expires_at", "created_at", "updated_at"],
    "streams": ["created_at", "updated_at"],
    "signing_keys": ["created_at", "retired_at"],
    "edges": ["registered_at", "last_seen"],
}


def _retype(column: str, sql_type: str, using: str, default: str | None) -> list[str]:
    changes = [f"ALTER COLUMN {column} DROP DEFAULT", f"ALTER COLUMN {column} TYPE {sql_type} USING {using}"]
    return changes if default is None else [*changes, f"ALTER COLUMN {column} SET DEFAULT {default}"]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    changes: dict[str, list[str]] = {}
    for table, flags in BOOLEANS.items():
        for column, default in flags.items():
            changes.setdefault(table, []).extend(_retype(column, "boolean", f"{column} <> 0", default))
    for table, documents in JSON.items():
        for column, default in documents.items():
            changes.setdefault(table, []).extend(_retype(column, "json", f"{column}::json", default))
    for table, columns in TIMESTAMPS.items():
        for column in columns:
            changes.setdefault(table, []).extend(_retype(column, "timestamptz", f"to_timestamp({column})", None))
    for table, alterations in changes.items():
        op.execute(f"ALTER TABLE {table} {', '.join(alterations)}")
