"""The one schema of the metadata store, as SQLAlchemy tables: what store code queries.

The database is built and changed by the Alembic migrations in ``origin/store/migrations``; these
tables describe the schema at the newest revision (a test compares them with a migrated database).

Column types: ``Timestamp`` (POSIX seconds as ``float`` in Python; ``timestamptz`` on PostgreSQL,
REAL on SQLite), ``JSON`` (``json`` on PostgreSQL, which keeps key order; TEXT on SQLite),
``Boolean``, ``BigInteger`` for sizes and offsets.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect


class Timestamp(sa.types.TypeDecorator[float]):
    """A point in time, ``float`` POSIX seconds in Python (to the microsecond)."""

    impl = sa.Double
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.TIMESTAMP(timezone=True))
        return dialect.type_descriptor(sa.Double())

    def process_bind_param(self, value: float | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "postgresql":
            return value
        return datetime.fromtimestamp(value, UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> float | None:
        if isinstance(value, datetime):
            return value.timestamp()
        return None if value is None else float(value)


def now() -> float:
    """The current time as the store keeps it (microseconds), so a record built in Python equals its row."""
    return round(datetime.now(UTC).timestamp(), 6)


JSON = sa.JSON(none_as_null=True)
metadata = sa.MetaData()


def _json_default(text: str) -> sa.TextClause:
    return sa.text(f"'{text}'")


def _created_updated() -> list[sa.Column[Any]]:
    return [sa.Column("created_at", Timestamp, nullable=False), sa.Column("updated_at", Timestamp, nullable=False)]


tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("webhook_url", sa.Text, nullable=False, server_default=""),
    sa.Column("webhook_signing_key", sa.Text, nullable=False),
    sa.Column("whitelisted_domains", JSON, nullable=False, server_default=_json_default("[]")),
    sa.Column("app_ids", JSON, nullable=False, server_default=_json_default("[]")),
    sa.Column("max_file_size", sa.BigInteger),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("tenants_name", "name", unique=True),
)

buckets = sa.Table(
    "buckets",
    metadata,
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("backend", sa.Text, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Timestamp, nullable=False),
)

files = sa.Table(
    "files",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("bucket", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("mime", sa.Text, nullable=False, server_default="application/octet-stream"),
    sa.Column("size", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("etag", sa.Text, nullable=False, server_default=""),
    sa.Column("duration", sa.Double),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("video_codec", sa.Text),
    sa.Column("audio_codec", sa.Text),
    sa.Column("require_signed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source", sa.Text, nullable=False, server_default="direct"),
    *_created_updated(),
    sa.Column("ingest_key", sa.Text),
    sa.Index("files_tenant", "tenant_id", "created_at"),
    sa.Index("files_ingest_key", "ingest_key", unique=True),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("tenant_id", sa.Text, nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("run_after", Timestamp, nullable=False),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_expires_at", Timestamp),
    sa.Column("result", JSON),
    sa.Column("last_error", sa.Text),
    *_created_updated(),
    sa.Index("jobs_claim", "status", "run_after"),
    sa.Index("jobs_tenant_status", "tenant_id", "status"),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # the exact bytes signed and sent
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", Timestamp),
    sa.Column("last_status_code", sa.Integer),
    sa.Column("last_error", sa.Text),
    *_created_updated(),
    sa.Column("delivered_at", Timestamp),
    # Where this delivery goes and what it adds to the headers (editor callbacks); NULL: the tenant's webhook_url.
    sa.Column("target_url", sa.Text),
    sa.Column("headers", JSON),
    sa.Index("webhook_deliveries_due", "status", "next_attempt_at"),
    sa.Index("webhook_deliveries_tenant", "tenant_id", "created_at"),
)

webhook_attempts = sa.Table(
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("delivery_id", sa.Text, sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("duration_ms", sa.Integer, nullable=False),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("response_body", sa.Text),
    sa.Index("webhook_attempts_delivery", "delivery_id", "started_at"),
)

tus_uploads = sa.Table(
    "tus_uploads",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("upload_length", sa.BigInteger),
    sa.Column("upload_offset", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("metadata", JSON, nullable=False, server_default=_json_default("{}")),
    sa.Column("bucket", sa.Text),
    sa.Column("is_partial", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("is_final", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("parts", JSON, nullable=False, server_default=_json_default("[]")),
    sa.Column("file_id", sa.Text),
    sa.Column("lock_owner", sa.Text),
    sa.Column("lock_until", Timestamp),
    sa.Column("release_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("expires_at", Timestamp, nullable=False),
    *_created_updated(),
    sa.Index("tus_uploads_expires", "expires_at"),
    sa.Index("tus_uploads_unregistered", "file_id", "is_partial"),
)

streams = sa.Table(
    "streams",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("source_ref", sa.Text, nullable=False),
    sa.Column("source_file_id", sa.Text),
    sa.Column("bucket", sa.Text),
    sa.Column("output_prefix", sa.Text),
    sa.Column("uid", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("progress", sa.Double, nullable=False, server_default="0"),
    sa.Column("meta", JSON, nullable=False),
    sa.Column("qualities", JSON),
    sa.Column("require_signed", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("hls_url", sa.Text),
    sa.Column("dash_url", sa.Text),
    sa.Column("thumbnail", sa.Text),
    sa.Column("duration", sa.Double),
    sa.Column("outputs", JSON, nullable=False, server_default=_json_default("{}")),
    sa.Column("error", sa.Text),
    sa.Column("job_id", sa.Text),
    *_created_updated(),
    sa.Index("streams_source", "tenant_id", "provider", "source_ref", unique=True),
    sa.Index("streams_output_prefix", "output_prefix"),
    sa.Index("streams_tenant", "tenant_id", "created_at"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.Text, primary_key=True),
    sa.Column("algorithm", sa.Text, nullable=False),
    sa.Column("private_pem", sa.Text, nullable=False),
    sa.Column("public_jwk", JSON, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("retired_at", Timestamp),
    sa.Column("max_exp", sa.BigInteger, nullable=False, server_default="0"),  # POSIX seconds, as in a token
)

edges = sa.Table(
    "edges",
    metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("region", sa.Text, nullable=False, server_default=""),
    sa.Column("registered_at", Timestamp, nullable=False),
    sa.Column("last_seen", Timestamp, nullable=False),
    sa.Index("edges_last_seen", "last_seen"),
)

# What the edges delivered (their usage reports): cumulative counters of one edge process (``instance``,
# new at each start) for one UTC day (days since the epoch) and tenant; a report replaces its own rows.
edge_usage = sa.Table(
    "edge_usage",
    metadata,
    sa.Column("edge", sa.Text, primary_key=True),  # the edge's registration URL
    sa.Column("instance", sa.Text, primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("region", sa.Text, nullable=False, server_default=""),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("bytes", sa.BigInteger, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index("edge_usage_tenant_day", "tenant_id", "day"),
    sa.Index("edge_usage_day", "day"),
)

# The catalogue (one record per media item, whichever API made it) and the keys every API authenticates with.

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("secret_hash", sa.Text, nullable=False, unique=True),
    sa.Column("public_key", sa.Text, unique=True),
    sa.Column("scopes", JSON, nullable=False, server_default=_json_default("[]")),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_used_at", Timestamp),
    sa.Column("revoked_at", Timestamp),
    sa.Index("api_keys_tenant", "tenant_id", "created_at"),
)

assets = sa.Table(
    "assets",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("tags", JSON, nullable=False, server_default=_json_default("[]")),
    sa.Column("metadata", JSON, nullable=False, server_default=_json_default("{}")),
    sa.Column("is_public", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("file_id", sa.Text, sa.ForeignKey("files.id", ondelete="SET NULL")),
    sa.Column("stream_id", sa.Text),
    sa.Column("folder", sa.Text, nullable=False, server_default=""),
    sa.Column("user_id", sa.Text, nullable=False, server_default=""),
    sa.Column("sha256", sa.Text),
    sa.Column("mime", sa.Text, nullable=False, server_default="application/octet-stream"),
    sa.Column("size", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("duration", sa.Double),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("poster", sa.Text),
    sa.Column("source", sa.Text, nullable=False, server_default="upload"),
    sa.Column("dialect", sa.Text, nullable=False),
    sa.Column("extra", JSON, nullable=False, server_default=_json_default("{}")),
    sa.Column("progress", sa.Double, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    *_created_updated(),
    sa.Index("assets_tenant", "tenant_id", "created_at", "id"),
    sa.Index("assets_file", "file_id"),
    sa.Index("assets_sha256", "tenant_id", "sha256"),
)

renditions = sa.Table(
    "renditions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("spec", JSON, nullable=False, server_default=_json_default("{}")),
    sa.Column("key", sa.Text),
    sa.Column("size", sa.BigInteger),
    sa.Column("width", sa.Integer),
    sa.Column("height", sa.Integer),
    sa.Column("error", sa.Text),
    *_created_updated(),
    sa.Index("renditions_asset", "asset_id", "kind", "name", unique=True),
)

captions = sa.Table(
    "captions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False, server_default=""),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("approved", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("source", sa.Text, nullable=False, server_default="manual"),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("captions_asset", "asset_id", "language"),
)

transcripts = sa.Table(
    "transcripts",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("caption_id", sa.Text, sa.ForeignKey("captions.id", ondelete="SET NULL")),
    sa.Column("language", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("cues", JSON, nullable=False, server_default=_json_default("[]")),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("transcripts_asset", "asset_id", "language", unique=True),
)

# The indexes listings need on assets (migrations 0005 and 0012): each sort order with the id after
# it (the tie-break), and on PostgreSQL pg_trgm indexes for search (case-insensitive substring).

sa.Index("assets_tenant_kind_status", assets.c.tenant_id, assets.c.kind, assets.c.status)
sa.Index("assets_tenant_updated", assets.c.tenant_id, assets.c.updated_at, assets.c.id)
sa.Index("assets_tenant_size", assets.c.tenant_id, assets.c.size, assets.c.id)
sa.Index("assets_tenant_title", assets.c.tenant_id, sa.func.lower(assets.c.title), assets.c.id)
#: What search matches, as the listing's query spells it (the PostgreSQL indexes are on these).
SEARCHED = (
    sa.func.lower(assets.c.title),
    sa.func.lower(assets.c.description),
    sa.func.lower(sa.cast(assets.c.tags, sa.Text)),
)
for _name, _expression in zip(("title", "description", "tags"), SEARCHED, strict=True):
    sa.Index(
        f"assets_search_{_name}",
        _expression,
        postgresql_using="gin",
        postgresql_ops={_expression.name: "gin_trgm_ops"},
    )

# What triggers on assets keep in step with it (migrations 0012, 0014): one row per tag and per
# string metadata pair, for the filters, each carrying what a listing filters and sorts on (the
# asset's kind, status, timestamps, size and ``lower(title)``), indexed in every sort order a listing
# offers, so a filtered count or page reads one index and nothing of ``assets`` but the page's rows;
# and how many assets a tenant has of each kind in each status.

#: The listing sorts the side tables carry, and the column each is carried in.
CARRIED_SORTS = {"created_at": "created_at", "updated_at": "updated_at", "title": "sort_title", "size": "size"}


def _carried() -> list[sa.Column[Any]]:
    return [
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        *_created_updated(),
        sa.Column("sort_title", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    ]


def _sorted_indexes(table: str, *picks: str) -> list[sa.Index]:
    """One index per carried sort: the columns that pick the rows, the sort key, the tie-break, and
    kind and status (so a count or a page filters on them without leaving the index)."""
    names = {"created_at": "created", "updated_at": "updated", "sort_title": "title", "size": "size"}
    return [
        sa.Index(f"{table}_{names[column]}", *picks, column, "asset_id", "kind", "status")
        for column in CARRIED_SORTS.values()
    ]


asset_tags = sa.Table(
    "asset_tags",
    metadata,
    sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tag", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    *_carried(),
    *_sorted_indexes("asset_tags", "tenant_id", "tag"),
)

asset_metadata = sa.Table(
    "asset_metadata",
    metadata,
    sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    *_carried(),
    *_sorted_indexes("asset_metadata", "tenant_id", "key", "value"),
)

asset_counts = sa.Table(
    "asset_counts",
    metadata,
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("status", sa.Text, primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

#: SQLite only: the FTS5 trigram table search reads there (rowid: ``asset_search_rows.id``), and the
#: asset each of its rows is. Not in ``metadata``: PostgreSQL has neither.
asset_search = sa.table(
    "asset_search", sa.column("rowid"), sa.column("title"), sa.column("description"), sa.column("tags")
)
asset_search_rows = sa.table("asset_search_rows", sa.column("id"), sa.column("asset_id"))

# The video objects API's own state.

video_parts = sa.Table(
    "video_parts",
    metadata,
    sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("first_byte", sa.BigInteger, nullable=False),
    sa.Column("last_byte", sa.BigInteger, nullable=False),
    sa.Column("total", sa.BigInteger, nullable=False),
    sa.Column("md5", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", Timestamp, nullable=False),
)

tenant_credits = sa.Table(
    "tenant_credits",
    metadata,
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("balance", sa.Double, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# AI generations (captions, speech, images) and each tenant's budgets and prompt block list (migration 0006).

ai_generations = sa.Table(
    "ai_generations",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # caption | speech | image
    sa.Column("idem_key", sa.Text, nullable=False),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False, server_default=""),
    sa.Column("request", JSON, nullable=False),
    sa.Column("status", sa.Text, nullable=False),  # queued | processing | ready | failed
    sa.Column("progress", sa.Double, nullable=False, server_default="0"),
    sa.Column("units", sa.Double, nullable=False, server_default="0"),
    sa.Column("job_id", sa.Text),
    sa.Column("asset_id", sa.Text),
    sa.Column("caption_id", sa.Text),
    sa.Column("result", JSON),
    sa.Column("error", sa.Text),
    sa.Column("error_code", sa.Text),
    *_created_updated(),
    sa.Index("ai_generations_idem", "tenant_id", "idem_key", unique=True),
    sa.Index("ai_generations_usage", "tenant_id", "kind", "created_at"),
    sa.Index("ai_generations_user", "tenant_id", "user_id", "kind", "created_at"),
)

ai_policies = sa.Table(
    "ai_policies",
    metadata,
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("budgets", JSON, nullable=False, server_default=_json_default("{}")),
    sa.Column("blocklist", JSON, nullable=False, server_default=_json_default("[]")),
    sa.Column("updated_at", Timestamp, nullable=False),
)

# The media API (/api/v1/media): upload intents, and the rate-limit counters every origin process shares.

media_uploads = sa.Table(
    "media_uploads",
    metadata,
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("sha256", sa.Text, primary_key=True),
    sa.Column("asset_id", sa.Text, nullable=False, unique=True),
    sa.Column("bucket", sa.Text, nullable=False),
    sa.Column("key", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mime", sa.Text, nullable=False),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Index("rate_limits_window", "window_start"),
)


# -- the HTML5 video editor's backend (origin.editor) ---------------------------------------------

editor_developers = sa.Table(
    "editor_developers",
    metadata,
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("api_key_id", sa.Text),
    sa.Column("callback_url", sa.Text, nullable=False, server_default=""),
    sa.Column("cors_origins", JSON, nullable=False, server_default=_json_default("[]")),
    sa.Column("fetch_file_url", sa.Text, nullable=False, server_default=""),
    sa.Column("media_tab_content_url", sa.Text, nullable=False, server_default=""),
    sa.Column("fetch_thumbnail_url", sa.Text, nullable=False, server_default=""),
    sa.Column("output_s3", sa.Text),  # Fernet token of the bucket settings, credentials included
    *_created_updated(),
)

editor_sessions = sa.Table(
    "editor_sessions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("data", sa.Text, nullable=False, server_default=""),
    sa.Column("api_auth_token_hash", sa.Text),
    sa.Column("api_auth_token", sa.Text),  # Fernet token: callbacks carry the plain value
    sa.Column("online_until", Timestamp),
    sa.Column("last_seen_at", Timestamp, nullable=False),
    *_created_updated(),
    sa.Index("editor_sessions_token", "api_auth_token_hash"),
    sa.Index("editor_sessions_tenant", "tenant_id", "online_until"),
)

folders = sa.Table(
    "folders",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("parent_id", sa.Text, sa.ForeignKey("folders.id", ondelete="CASCADE")),
    sa.Column("name", sa.Text, nullable=False),
    *_created_updated(),
    sa.Index("folders_parent", "tenant_id", "parent_id"),
)
# One folder of a name in each folder (the top's parent is NULL, hence the coalesce).
sa.Index("folders_name", folders.c.tenant_id, sa.func.coalesce(folders.c.parent_id, ""), folders.c.name, unique=True)

editor_mediainfo = sa.Table(
    "editor_mediainfo",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("source_hash", sa.Text, nullable=False),
    sa.Column("original_url", sa.Text, nullable=False),
    sa.Column("preview_url", sa.Text),
    sa.Column("status", sa.Text, nullable=False),  # running | ready | failed
    sa.Column("info", JSON),
    sa.Column("thumbnails", JSON),
    sa.Column("error", sa.Text),
    *_created_updated(),
    sa.Index("editor_mediainfo_source", "tenant_id", "source_hash", unique=True),
)

editor_overlays = sa.Table(
    "editor_overlays",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("session_id", sa.Text, sa.ForeignKey("editor_sessions.id", ondelete="CASCADE"), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("editor_overlays_session", "session_id"),
)

# -- the editor's projects, action history, render tasks and project imports (origin.editor) --------

editor_projects = sa.Table(
    "editor_projects",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("data", JSON),
    sa.Column("thumbnail", sa.Text, nullable=False, server_default=""),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.Column("modif_time", sa.BigInteger, nullable=False),
    *_created_updated(),
    sa.Index("editor_projects_user", "tenant_id", "user_id", "create_time"),
)

editor_actions = sa.Table(
    "editor_actions",
    metadata,
    sa.Column("project_id", sa.Text, sa.ForeignKey("editor_projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("data", JSON),
    sa.Column("canceled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("create_time", sa.BigInteger, nullable=False),
    sa.Column("modif_time", sa.BigInteger, nullable=False),
    sa.Index("editor_actions_order", "project_id", "position", unique=True),
    sa.Index("editor_actions_id", "id"),
)

editor_render_tasks = sa.Table(
    "editor_render_tasks",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("session_id", sa.Text),
    sa.Column("project_id", sa.Text),
    sa.Column("xtl", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("progress", sa.Double, nullable=False, server_default="0"),
    sa.Column("error", JSON),
    sa.Column("outputs", JSON, nullable=False, server_default=_json_default("[]")),
    sa.Column("output_urls", JSON, nullable=False, server_default=_json_default("[]")),
    *_created_updated(),
    sa.Index("editor_render_tasks_tenant", "tenant_id", "created_at"),
)

editor_project_imports = sa.Table(
    "editor_project_imports",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.Text, nullable=False),
    sa.Column("session_id", sa.Text),
    sa.Column("upload_id", sa.Text),
    sa.Column("name", sa.Text, nullable=False, server_default=""),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("fps", sa.Double),
    sa.Column("create_folder", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("progress", sa.Double, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("archive_key", sa.Text),
    *_created_updated(),
)

editor_audiolib = sa.Table(
    "editor_audiolib",
    metadata,
    sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("type", sa.Text, nullable=False),  # music | sound
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("relative_path", sa.Text, nullable=False),
    sa.Column("category_id", sa.Text),
    sa.Column("mood_id", sa.Text),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Index("editor_audiolib_path", "tenant_id", "relative_path", unique=True),
    sa.Index("editor_audiolib_type", "tenant_id", "type", "name"),
)

editor_audiolib_groups = sa.Table(
    "editor_audiolib_groups",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # category | mood
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Index("editor_audiolib_groups_name", "tenant_id", "kind", "type", "name", unique=True),
)

editor_audiolib_imports = sa.Table(
    "editor_audiolib_imports",
    metadata,
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("status", sa.Text, nullable=False),  # running | done | failed
    sa.Column("processed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text),
    *_created_updated(),
)

dashboard_sessions = sa.Table(
    "dashboard_sessions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),  # SHA-256 of the cookie's token; the token is never stored
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE")),  # None: the operator
    sa.Column("api_key_id", sa.Text),  # the key the session logged in with (revoking it ends the session)
    sa.Column("operator", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("csrf", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("last_seen_at", Timestamp, nullable=False),
    sa.Column("expires_at", Timestamp, nullable=False),
    sa.Index("dashboard_sessions_expires", "expires_at"),
    sa.Index("dashboard_sessions_tenant", "tenant_id"),
)

player_themes = sa.Table(
    "player_themes",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("background_color", sa.Text, nullable=False),
    sa.Column("text_color", sa.Text, nullable=False),
    sa.Column("accent_color", sa.Text, nullable=False),
    sa.Column("watermark", sa.Text, nullable=False, server_default=""),
    sa.Column("controls", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("buttons", JSON, nullable=False, server_default=_json_default("[]")),  # the optional controls shown
    sa.Column("autoplay", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("muted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("loop", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("logo_position", sa.Text, nullable=False, server_default="top-right"),
    sa.Column("logo", sa.LargeBinary),  # a PNG or JPEG, checked by its content
    sa.Column("logo_type", sa.Text),
    sa.Column("logo_version", sa.Text),  # the start of the logo's SHA-256, for its immutable URL
    *_created_updated(),
    sa.Index("player_themes_tenant", "tenant_id", "created_at"),
)
