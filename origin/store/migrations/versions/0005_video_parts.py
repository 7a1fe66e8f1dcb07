"""The video objects API's upload parts and tenants' transcoding credit.

``video_parts``: one row per uploaded part of a video not yet completed (its byte range, the
declared total, its MD5 and the storage key of its bytes); the rows go when the parts are assembled.
``tenant_credits``: a tenant's optional credit for transcoding (no row: unlimited). And indexes on
``assets`` for the API's listings: counting a tenant's videos by kind and status, and its sort orders
(updated, size, title as read: ``lower(title)``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

#: POSIX seconds: timestamptz on PostgreSQL, REAL on SQLite (as the store's Timestamp type).
Timestamp = sa.Double().with_variant(postgresql.TIMESTAMP(timezone=True), "postgresql")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video_parts",
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
    op.create_table(
        "tenant_credits",
        sa.Column("tenant_id", sa.Text, sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("balance", sa.Double, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
    )
    op.create_index("assets_tenant_kind_status", "assets", ["tenant_id", "kind", "status"])
    op.create_index("assets_tenant_updated", "assets", ["tenant_id", "updated_at"])
    op.create_index("assets_tenant_size", "assets", ["tenant_id", "size"])
    op.create_index("assets_tenant_title", "assets", ["tenant_id", sa.text("lower(title)")])
