"""The catalogue: assets (one record per media item, whichever API made it), their renditions,
captions and transcripts; and API keys, several per tenant.

Existing data moves in: each tenant's API key becomes its key named ``default`` (the hash moves from
``tenants.api_key_hash``, which goes), and each file becomes an asset with the file's own id (kind
from its MIME type, status ``ready`` for a ready file), so files uploaded before this revision are
visible in every API.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from origin.store.schema import JSON, Timestamp

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _json(default: str) -> sa.TextClause:
    return sa.text(f"'{default}'")


def _stamps() -> list[sa.Column]:
    return [sa.Column("created_at", Timestamp, nullable=False), sa.Column("updated_at", Timestamp, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False, unique=True),
        sa.Column("public_key", sa.Text, unique=True),
        sa.Column("scopes", JSON, nullable=False, server_default=_json("[]")),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_used_at", Timestamp),
        sa.Column("revoked_at", Timestamp),
    )
    op.create_index("api_keys_tenant", "api_keys", ["tenant_id", "created_at"])
    op.execute(
        "INSERT INTO api_keys (id, tenant_id, name, secret_hash, created_at)"
        " SELECT 'key_' || id, id, 'default', api_key_hash, created_at FROM tenants"
    )
    with op.batch_alter_table("tenants") as tenants:
        tenants.drop_column("api_key_hash")

    op.create_table(
        "assets",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("tags", JSON, nullable=False, server_default=_json("[]")),
        sa.Column("metadata", JSON, nullable=False, server_default=_json("{}")),
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
        sa.Column("extra", JSON, nullable=False, server_default=_json("{}")),
        sa.Column("progress", sa.Double, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        *_stamps(),
    )
    op.create_index("assets_tenant", "assets", ["tenant_id", "created_at"])
    op.create_index("assets_file", "assets", ["file_id"])
    op.create_index("assets_sha256", "assets", ["tenant_id", "sha256"])
    op.execute(
        "INSERT INTO assets (id, tenant_id, kind, title, status, file_id, user_id, mime, size, duration,"
        " width, height, source, dialect, created_at, updated_at)"
        " SELECT id, tenant_id,"
        " CASE WHEN mime LIKE 'video/%' THEN 'video' WHEN mime LIKE 'audio/%' THEN 'audio'"
        " WHEN mime LIKE 'image/%' THEN 'image' ELSE 'other' END,"
        " filename, CASE WHEN status = 'ready' THEN 'ready' ELSE 'queued' END, id, user_id, mime, size,"
        " duration, width, height, source, 'aauti', created_at, updated_at FROM files"
    )

    op.create_table(
        "renditions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("spec", JSON, nullable=False, server_default=_json("{}")),
        sa.Column("key", sa.Text),
        sa.Column("size", sa.BigInteger),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("error", sa.Text),
        *_stamps(),
    )
    op.create_index("renditions_asset", "renditions", ["asset_id", "kind", "name"], unique=True)

    op.create_table(
        "captions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False, server_default=""),
        sa.Column("format", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("approved", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("source", sa.Text, nullable=False, server_default="manual"),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("captions_asset", "captions", ["asset_id", "language"])

    op.create_table(
        "transcripts",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("caption_id", sa.Text, sa.ForeignKey("captions.id", ondelete="SET NULL")),
        sa.Column("language", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("cues", JSON, nullable=False, server_default=_json("[]")),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("transcripts_asset", "transcripts", ["asset_id", "language"], unique=True)
