"""The HTML5 video editor's backend: developers, user sessions, folders, media-info tasks, overlay
images, the audio library; webhook deliveries may name their own target URL and extra headers (editor callbacks).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from origin.store.schema import JSON, Timestamp

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("created_at", Timestamp, nullable=False), sa.Column("updated_at", Timestamp, nullable=False)]


def upgrade() -> None:
    op.create_table(
        "editor_developers",
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("api_key_id", sa.Text),
        sa.Column("callback_url", sa.Text, nullable=False, server_default=""),
        sa.Column("cors_origins", JSON, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("fetch_file_url", sa.Text, nullable=False, server_default=""),
        sa.Column("media_tab_content_url", sa.Text, nullable=False, server_default=""),
        sa.Column("fetch_thumbnail_url", sa.Text, nullable=False, server_default=""),
        sa.Column("output_s3", sa.Text),
        *_stamps(),
    )
    op.create_table(
        "editor_sessions",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("data", sa.Text, nullable=False, server_default=""),
        sa.Column("api_auth_token_hash", sa.Text),
        sa.Column("api_auth_token", sa.Text),
        sa.Column("online_until", Timestamp),
        sa.Column("last_seen_at", Timestamp, nullable=False),
        *_stamps(),
    )
    op.create_index("editor_sessions_token", "editor_sessions", ["api_auth_token_hash"])
    op.create_index("editor_sessions_tenant", "editor_sessions", ["tenant_id", "online_until"])
    op.create_table(
        "folders",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("parent_id", sa.Text, sa.ForeignKey("folders.id", ondelete="CASCADE")),
        sa.Column("name", sa.Text, nullable=False),
        *_stamps(),
    )
    op.create_index("folders_parent", "folders", ["tenant_id", "parent_id"])
    op.create_table(
        "editor_mediainfo",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source_hash", sa.Text, nullable=False),
        sa.Column("original_url", sa.Text, nullable=False),
        sa.Column("preview_url", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("info", JSON),
        sa.Column("thumbnails", JSON),
        sa.Column("error", sa.Text),
        *_stamps(),
    )
    op.create_index("editor_mediainfo_source", "editor_mediainfo", ["tenant_id", "source_hash"], unique=True)
    op.create_table(
        "editor_overlays",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("session_id", sa.Text, sa.ForeignKey("editor_sessions.id", ondelete="CASCADE"), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("editor_overlays_session", "editor_overlays", ["session_id"])
    op.create_table(
        "editor_audiolib",
        sa.Column("asset_id", sa.Text, sa.ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("relative_path", sa.Text, nullable=False),
        sa.Column("category_id", sa.Text),
        sa.Column("mood_id", sa.Text),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("editor_audiolib_path", "editor_audiolib", ["tenant_id", "relative_path"], unique=True)
    op.create_index("editor_audiolib_type", "editor_audiolib", ["tenant_id", "type", "name"])
    op.create_table(
        "editor_audiolib_groups",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
    )
    op.create_index(
        "editor_audiolib_groups_name", "editor_audiolib_groups", ["tenant_id", "kind", "type", "name"], unique=True
    )
    op.create_table(
        "editor_audiolib_imports",
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("processed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        *_stamps(),
    )
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("target_url", sa.Text))
        batch.add_column(sa.Column("headers", JSON))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("headers")
        batch.drop_column("target_url")
    for table in (
        "editor_audiolib_imports",
        "editor_audiolib_groups",
        "editor_audiolib",
        "editor_overlays",
        "editor_mediainfo",
        "folders",
        "editor_sessions",
        "editor_developers",
    ):
        op.drop_table(table)
