"""The media API's upload intents and the rate-limit counters every origin process shares.

``media_uploads``: one row per (tenant, SHA-256) declared with ``POST /api/v1/media/upload-url``,
pointing at the asset it made; the primary key makes two concurrent declarations of the same bytes
make one asset. ``rate_limits``: a fixed-window counter per (limit, user, window start).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _timestamp() -> sa.types.TypeEngine:
    """POSIX seconds: ``timestamptz`` on PostgreSQL, REAL on SQLite (as origin.store.schema.Timestamp)."""
    return sa.Double().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "media_uploads",
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("sha256", sa.Text, primary_key=True),
        sa.Column("asset_id", sa.Text, nullable=False, unique=True),
        sa.Column("bucket", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mime", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("created_at", _timestamp(), nullable=False),
    )
    op.create_table(
        "rate_limits",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
    )
    op.create_index("rate_limits_window", "rate_limits", ["window_start"])


def downgrade() -> None:
    op.drop_table("rate_limits")
    op.drop_table("media_uploads")
